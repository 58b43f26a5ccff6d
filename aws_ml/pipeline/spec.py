"""The pipeline file: one YAML file (or the same dataclasses in Python) describing the
eight sections of a machine-learning pipeline.

>>> from aws_ml.pipeline.spec import load_pipeline
>>> spec = load_pipeline("aws_ml/pipeline/examples/fraud_pipeline.yaml")   # doctest: +SKIP
>>> spec.problem.target                                                   # doctest: +SKIP
'fraud'

The schema is strict and checked before any work: an unknown key, a value of the wrong
type or a missing key fails with one line naming the file, the key path and what is
expected (``fraud.yaml: features.selct: unknown key; did you mean 'select'?``).
:func:`check_columns` then checks the names of columns (the target, the join key, the
facets, the feature lists) against the headers of the data sources, still before any work.
"""
from __future__ import annotations

import csv
import difflib
import io
import types
import typing
from dataclasses import MISSING, asdict, dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any, Literal, Union

PROBLEM_TYPES = ("binary", "multiclass", "regression", "anomaly_detection")
METRICS = ("accuracy", "balanced_accuracy", "f1", "precision", "recall", "roc_auc", "pr_auc",
           "log_loss", "rmse", "mae", "r2", "mape")
BUNDLED = "bundled:"


class PipelineFileError(ValueError):
    """A pipeline file that cannot run: one line naming the file, the key and what is expected."""

    def __init__(self, source: str, path: str, message: str) -> None:
        self.source, self.path = source, path
        super().__init__(f"{source}: {path}: {message}" if path else f"{source}: {message}")


def _help(text: str, check=None) -> dict:
    return {"help": text, "check": check}


# -- the sections ------------------------------------------------------------------------
@dataclass
class Artifacts:
    """Where the pipeline's artefacts go: ``s3://<bucket>/<prefix>/...`` (``{account}``,
    ``{region}`` and ``{name}`` are replaced)."""

    bucket: str = field(default="aws-ml-pipelines-{account}-{region}", metadata=_help("an S3 bucket name"))
    prefix: str = field(default="pipelines/{name}", metadata=_help("a key prefix"))
    stack: str | None = field(default=None, metadata=_help(
        "a deployed CloudFormation stack (infra/core.yaml) whose outputs the run uses: its bucket, "
        "role, Athena work group, Glue database, feature groups and alarm topic (like --stack)"))
    role_arn: str | None = field(default=None, metadata=_help(
        "the SageMaker execution role of training jobs, tuning jobs and endpoints (an IAM role ARN)"))
    athena_workgroup: str | None = field(default=None, metadata=_help("the Athena work group of queries"))
    glue_database: str | None = field(default=None, metadata=_help("the Glue database of the tables"))
    alarm_topic_arn: str | None = field(default=None, metadata=_help(
        "the SNS topic the monitoring alarms notify (an SNS topic ARN)"))
    metrics_namespace: str | None = field(default=None, metadata=_help(
        "the CloudWatch namespace of the model-quality metrics (default aws-ml/ModelQuality)"))
    metrics_dimensions: dict[str, str] = field(default_factory=dict, metadata=_help(
        "the dimensions of the model-quality metrics (default {Pipeline: <name>})"))


@dataclass
class Problem:
    """Section 1: what the model is for (see :class:`aws_ml.problem.ProblemSpec`)."""

    objective: str = field(metadata=_help("the business objective, in words"))
    question: str = field(metadata=_help("the question the model answers, in words"))
    target: str = field(metadata=_help("the column the model predicts"))
    problem_type: Literal["binary", "multiclass", "regression", "anomaly_detection"] | None = None
    positive_class: Union[int, str, None] = None
    metric: Literal["accuracy", "balanced_accuracy", "f1", "precision", "recall", "roc_auc", "pr_auc",
                    "log_loss", "rmse", "mae", "r2", "mape"] = "f1"
    threshold: float | None = None
    id_columns: list[str] = field(default_factory=list)


@dataclass
class Source:
    """One table: ``bundled:fraud/claims``, a local CSV/Parquet path (relative to the
    pipeline file) or an ``s3://`` URI."""

    name: str = field(metadata=_help("a short name (letters, digits, - and _)",
                                     lambda v: v.replace("-", "").replace("_", "").isalnum() or
                                     "letters, digits, '-' and '_' only"))
    path: str = field(metadata=_help("bundled:<name>, a file path or an s3:// URI"))


LABELING_ID_COLUMN = "record_id"    # the record id section 2 adds when labelling and no problem.id_columns


@dataclass
class SimulatedWorkers:
    """Programmatic annotators of the local backend (``aws_ml.labeling``'s
    ``simulated:...`` workers): each is right with probability ``accuracy`` about the
    value of the ``truth`` column, which only they see (section 2 removes it from the
    curated data)."""

    truth: str = field(metadata=_help("the column holding the true label (never a feature)"))
    count: int = field(default=3, metadata=_help("a number of workers ≥ 1", lambda v: v >= 1 or "≥ 1"))
    accuracy: float = field(default=0.8, metadata=_help("a probability in [0, 1]",
                                                        lambda v: 0 <= v <= 1 or "in [0, 1]"))
    seed: int = 0

    def spec_string(self) -> str:
        """The ``workers=`` value of :func:`aws_ml.labeling.label_dataframe`."""
        return f"simulated:count={self.count},accuracy={self.accuracy:g},truth={self.truth},seed={self.seed}"


@dataclass
class Labeling:
    """Section 2's labelling job (SageMaker Ground Truth, built-in text classification) for
    rows without a label: up to ``budget`` of them (all when null), chosen at random
    (seeded), go to one job; its consolidated labels fill ``problem.target``, which the
    sources may then lack. Workers: ``simulated_workers`` (local backend only) or a real
    private work team (``workteam_arn``, with ``role_arn``) on AWS."""

    labels: list[str] = field(metadata=_help("the label values workers choose from (at least 2, distinct)",
                                             lambda v: (len(v) >= 2 and len(set(v)) == len(v))
                                             or "at least 2 distinct labels"))
    text_column: str = field(metadata=_help("the column holding the text to label"))
    task: Literal["text-classification"] = field(default="text-classification", metadata=_help(
        "the labelling task type (Ground Truth's built-in text classification)"))
    budget: int | None = field(default=None, metadata=_help("a number of items ≥ 1 (null: every unlabelled row)",
                                                            lambda v: v >= 1 or "≥ 1"))
    simulated_workers: SimulatedWorkers | None = None
    workteam_arn: str | None = field(default=None, metadata=_help(
        "a private or vendor work team ARN (arn:aws:sagemaker:...:workteam/...)",
        lambda v: v.startswith("arn:") or "an ARN"))
    role_arn: str | None = field(default=None, metadata=_help(
        "an IAM role ARN Ground Truth assumes", lambda v: v.startswith("arn:") or "an ARN"))

    def workers_spec(self) -> str | None:
        """The ``workers=`` value of :func:`aws_ml.labeling.label_dataframe` (None: people)."""
        return self.simulated_workers.spec_string() if self.simulated_workers else None


@dataclass
class Data:
    """Section 2: the data sources, uploaded to S3, joined into one table."""

    sources: list[Source] = field(metadata=_help("a list of {name, path}",
                                                 lambda v: len(v) >= 1 or "at least one source"))
    join_on: str | None = None
    labeling: Labeling | None = None


@dataclass
class Evaluation:
    """Section 3: data evaluation (:func:`aws_ml.evaluation.evaluate_data`)."""

    enabled: bool = True
    facets: list[str] = field(default_factory=list)
    sample: int | None = field(default=None, metadata=_help("a number of rows ≥ 1",
                                                            lambda v: v is None or v >= 1 or "≥ 1"))
    na_values: list[str] = field(default_factory=list)


@dataclass
class Split:
    """How the rows are split into train, validation and test sets (stratified)."""

    test: float = field(default=0.2, metadata=_help("a fraction in (0, 0.5]", lambda v: 0 < v <= 0.5 or "in (0, 0.5]"))
    validation: float = field(default=0.2, metadata=_help("a fraction in [0, 0.5]",
                                                          lambda v: 0 <= v <= 0.5 or "in [0, 0.5]"))
    seed: int = 0


FEATURE_TYPES = ("Integral", "Fractional", "String")


@dataclass
class FeatureGroupSpec:
    """One feature group of section 4 holding the columns of one data source (the target
    stays with the source that has it). The training set is the point-in-time join of
    the groups on their record identifiers."""

    name: str = field(metadata=_help("a feature group name ({name} is the pipeline's name)"))
    source: str = field(metadata=_help("the name of a data source (data.sources[].name)"))
    record_id: str | None = field(default=None, metadata=_help(
        "the source's identifier column (default: features.record_id, else data.join_on)"))
    stack_output: str | None = field(default=None, metadata=_help(
        "the stack output naming this group on --stack (e.g. ClaimsFeatureGroupName); such a "
        "group belongs to the stack: the pipeline ingests into it, never deletes or re-creates it"))
    feature_types: dict[str, Literal["Integral", "Fractional", "String"]] = field(
        default_factory=dict, metadata=_help("Feature Store types forced on columns (inferred otherwise)"))


@dataclass
class Features:
    """Section 4: the feature group(s), the transformations and the training sets.
    ``groups`` empty: one group (``feature_group``) of the joined table."""

    enabled: bool = True
    feature_group: str = field(default="{name}-features", metadata=_help("a feature group name"))
    groups: list[FeatureGroupSpec] = field(default_factory=list, metadata=_help(
        "one feature group per source: a list of {name, source, record_id, stack_output, feature_types}"))
    record_id: str | None = None
    event_time: str = field(default="2024-01-01T00:00:00Z",
                            metadata=_help("an ISO-8601 time the features are valid from"))
    online: bool = True
    numeric: list[str] | None = None
    categorical: list[str] | None = None
    text: list[str] = field(default_factory=list, metadata=_help(
        "text columns, turned into TF-IDF components (see aws_ml.features.feature_pipeline)"))
    text_components: int = field(default=50, metadata=_help("a number of components ≥ 1",
                                                             lambda v: v >= 1 or "≥ 1"))
    ratios: list[list[str]] = field(default_factory=list, metadata=_help(
        "pairs [numerator, denominator]", lambda v: all(len(p) == 2 for p in v) or "pairs of two columns"))
    select: Literal["mutual_info", "model"] | None = None
    k: int = field(default=20, metadata=_help("a number of features ≥ 1", lambda v: v >= 1 or "≥ 1"))
    split: Split = field(default_factory=Split)


BLAZINGTEXT_HYPERPARAMETERS = ("mode", "epochs", "learning_rate", "min_count", "vector_dim", "buckets",
                               "word_ngrams", "early_stopping", "patience", "min_epochs")
"""The hyperparameters AWS documents for BlazingText in supervised (text classification) mode."""


@dataclass
class Training:
    """Section 5: the training job: SageMaker's built-in XGBoost on section 4's features
    (its objective and evaluation metric follow the problem type unless ``hyperparameters``
    set them), or the built-in BlazingText (fastText, supervised mode) on the text of the
    one ``features.text`` column of a classification problem."""

    enabled: bool = True
    algorithm: Literal["xgboost", "blazingtext"] = field(default="xgboost", metadata=_help(
        "'xgboost' (section 4's features) or 'blazingtext' (the text of one features.text column)"))
    hyperparameters: dict[str, Union[int, float, str, bool]] = field(default_factory=dict)
    instance_type: str = "ml.m5.large"


@dataclass
class Deployment:
    """Section 6: the endpoint."""

    enabled: bool = True
    endpoint_name: str = "{name}-endpoint"
    instance_type: str = "ml.m5.large"
    instance_count: int = field(default=1, metadata=_help("a count ≥ 1", lambda v: v >= 1 or "≥ 1"))
    data_capture: bool = True


@dataclass
class Monitoring:
    """Section 7: model evaluation on the test set through the endpoint, baseline, drift,
    CloudWatch metrics and alarms."""

    enabled: bool = True
    requests: int = field(default=200, metadata=_help("a number of test rows ≥ 1 sent to the endpoint",
                                                      lambda v: v >= 1 or "≥ 1"))
    alarms: bool = True
    psi_threshold: float = 0.2


@dataclass
class Tuning:
    """Section 8: tuning, and the corrective loop of the course note. Each iteration
    evaluates the current model on the test set; while it misses ``problem.threshold``
    (or on the first iteration with ``run: always``) the runner diagnoses why (learning
    curves: under- or over-fitting, too few labels; class imbalance; drift) and applies
    the first allowed action the diagnosis points to: ``tune`` (a hyperparameter tuning
    job, or AutoML with ``strategy: automl``), ``automl`` (an Autopilot job) or ``relabel``
    (the most uncertain unlabelled items go to a labelling job, then the model is
    retrained), up to ``max_iterations``.

    ``ranges``: a pair of numbers is a range (integers: an integer range), a pair followed
    by ``Logarithmic`` / ``Linear`` sets the scaling, any other list is a set of choices."""

    enabled: bool = True
    strategy: Literal["random", "bayesian", "grid", "hyperband", "automl"] = "bayesian"
    max_jobs: int = field(default=6, metadata=_help("a number of jobs ≥ 1", lambda v: v >= 1 or "≥ 1"))
    max_parallel_jobs: int = field(default=2, metadata=_help("a number ≥ 1", lambda v: v >= 1 or "≥ 1"))
    ranges: dict[str, list[Union[int, float, str]]] = field(default_factory=dict)
    run: Literal["always", "on_miss"] = field(default="always", metadata=_help(
        "'always' (the first action runs whatever the score) or 'on_miss' (only when the model "
        "misses problem.threshold)"))
    actions: list[Literal["tune", "automl", "relabel"]] = field(
        default_factory=lambda: ["tune"], metadata=_help(
            "the corrective actions allowed, in order of preference",
            lambda v: (len(v) >= 1 and len(set(v)) == len(v)) or "at least one action, each once"))
    max_iterations: int = field(default=1, metadata=_help("a number of iterations in [1, 10]",
                                                          lambda v: 1 <= v <= 10 or "in [1, 10]"))
    relabel_items: int = field(default=100, metadata=_help(
        "a number of unlabelled items ≥ 1 sent to labelling per 'relabel' iteration", lambda v: v >= 1 or "≥ 1"))
    deploy_best: bool = field(default=True, metadata=_help(
        "true or false: update the endpoint of section 6 to the best model found"))


@dataclass
class PipelineSpec:
    """A whole pipeline. Only ``name``, ``problem`` and ``data`` are required; a section
    left out is not run (and says so in the report)."""

    name: str = field(metadata=_help("a name (letters, digits, - and _)",
                                     lambda v: (v.replace("-", "").replace("_", "").isalnum() and len(v) <= 40)
                                     or "letters, digits, '-' and '_' only, at most 40 characters"))
    problem: Problem = field(metadata=_help("section 1's mapping"))
    data: Data = field(metadata=_help("section 2's mapping"))
    description: str = ""
    artifacts: Artifacts = field(default_factory=Artifacts)
    evaluation: Evaluation | None = None
    features: Features | None = None
    training: Training | None = None
    deployment: Deployment | None = None
    monitoring: Monitoring | None = None
    tuning: Tuning | None = None
    source: str = field(default="<python>", metadata={"internal": True})   # the file it came from

    @property
    def base_dir(self) -> Path:
        """The directory relative paths of sources are read from."""
        return Path(self.source).parent if self.source not in ("<python>", "<dict>") else Path.cwd()

    def to_dict(self) -> dict[str, Any]:
        """The spec as plain data (what a YAML file holds); ``from_dict`` reads it back."""
        out = asdict(self)
        out.pop("source")
        return out

    @classmethod
    def from_dict(cls, data: Any, source: str = "<dict>") -> "PipelineSpec":
        """Build and check a spec from plain data (``PipelineFileError`` on the first problem)."""
        spec = _build(cls, data, "", source)
        spec.source = source
        _check_algorithm(spec)
        return spec

    def validate(self) -> "PipelineSpec":
        """Check a spec built in Python the way a file is checked (returns a checked copy)."""
        return PipelineSpec.from_dict(self.to_dict(), source=self.source)

    def section(self, name: str):
        return getattr(self, name)


def _check_algorithm(spec: PipelineSpec) -> None:
    """``training.algorithm: blazingtext`` needs what BlazingText reads: a classification
    problem, one text column and nothing else (no numeric or categorical features), a
    validation set (its metric, ``validation:accuracy``, is also the tuning objective), and
    BlazingText's own hyperparameters in ``training.hyperparameters`` and ``tuning.ranges``."""
    t = spec.training
    if t is None or not t.enabled or t.algorithm != "blazingtext":
        return

    def fail(path: str, message: str):
        raise PipelineFileError(spec.source, path, message)

    if spec.problem.problem_type not in ("binary", "multiclass"):
        fail("training.algorithm", f"expected 'xgboost' unless problem.problem_type is 'binary' or 'multiclass' "
             f"(BlazingText classifies text), got 'blazingtext' with problem_type {spec.problem.problem_type!r}")
    f = spec.features
    if f is None or not f.enabled:
        fail("training.algorithm", "expected 'xgboost' without a features section ('blazingtext' trains on the "
             "text channels section 4 writes from its one features.text column)")
    if len(f.text) != 1:
        fail("features.text", f"expected exactly one text column for training.algorithm 'blazingtext', "
             f"got {len(f.text)}")
    for key in ("numeric", "categorical", "ratios"):
        if getattr(f, key):
            fail(f"features.{key}", "expected [] (or null) with training.algorithm 'blazingtext', which reads "
                 f"only the text of features.text, got {_got(getattr(f, key))}")
    if f.split.validation <= 0:
        fail("features.split.validation", "expected a fraction in (0, 0.5] with training.algorithm 'blazingtext' "
             "(validation:accuracy is its metric and tuning objective), got 0")
    known = ", ".join(BLAZINGTEXT_HYPERPARAMETERS)
    for name, value in t.hyperparameters.items():
        if name not in BLAZINGTEXT_HYPERPARAMETERS:
            close = difflib.get_close_matches(name, BLAZINGTEXT_HYPERPARAMETERS, n=1)
            fail(f"training.hyperparameters.{name}", "expected a BlazingText hyperparameter of supervised mode "
                 + (f"(did you mean {close[0]!r}?)" if close else f"({known})"))
    if t.hyperparameters.get("mode", "supervised") != "supervised":
        fail("training.hyperparameters.mode", f"expected 'supervised' (text classification), got "
             f"{_got(t.hyperparameters['mode'])}")
    if spec.tuning is not None and spec.tuning.enabled:
        for name in spec.tuning.ranges:
            if name not in BLAZINGTEXT_HYPERPARAMETERS or name == "mode":
                close = difflib.get_close_matches(name, BLAZINGTEXT_HYPERPARAMETERS[1:], n=1)
                fail(f"tuning.ranges.{name}", "expected a BlazingText hyperparameter to tune with training.algorithm "
                     "'blazingtext' " + (f"(did you mean {close[0]!r}?)" if close else
                                         "(e.g. learning_rate, epochs, word_ngrams, vector_dim)"))


def load_pipeline(path: str | Path) -> PipelineSpec:
    """Read and check a pipeline file (YAML)."""
    import yaml

    path = Path(path)
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PipelineFileError(source, "", f"cannot be read ({exc.strerror or exc})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise PipelineFileError(source, "", f"{where}not valid YAML ({problem})") from None
    spec = PipelineSpec.from_dict(data, source=source)
    spec.source = str(path.resolve())
    return spec


def as_spec(pipeline: Any) -> PipelineSpec:
    """A :class:`PipelineSpec` from a spec, a file path or a dict."""
    if isinstance(pipeline, PipelineSpec):
        return pipeline.validate()
    if isinstance(pipeline, (str, Path)):
        return load_pipeline(pipeline)
    if isinstance(pipeline, dict):
        return PipelineSpec.from_dict(pipeline)
    raise TypeError(f"The 'pipeline' parameter of run must be a PipelineSpec, a file path or a dict. "
                    f"Got {type(pipeline).__name__} instead.")


# -- the strict reader -------------------------------------------------------------------------
def _describe(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if tp is type(None):
        return "null"
    if tp is str:
        return "a string"
    if tp is bool:
        return "true or false"
    if tp is int:
        return "an integer"
    if tp is float:
        return "a number"
    if tp is Any:
        return "a value"
    if origin is Literal:
        return "one of " + ", ".join(repr(v) for v in typing.get_args(tp))
    if origin in (Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        nullable = len(args) < len(typing.get_args(tp))
        text = " or ".join(_describe(a) for a in args)
        return text + (" (or null)" if nullable else "")
    if origin is list:
        return f"a list of {_plural(typing.get_args(tp)[0])}"
    if origin is dict:
        return f"a mapping of names to {_plural(typing.get_args(tp)[1])}"
    if is_dataclass(tp):
        return f"a mapping ({', '.join(f.name for f in _public_fields(tp))})"
    return getattr(tp, "__name__", str(tp))


def _plural(tp: Any) -> str:
    text = _describe(tp)
    for one, many in (("a string", "strings"), ("an integer", "integers"), ("a number", "numbers"),
                      ("a value", "values"), ("true or false", "booleans")):
        text = text.replace(one, many)
    return text[2:] if text.startswith("a ") else text


def _got(value: Any) -> str:
    if value is None:
        return "null"
    kind = {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list",
            dict: "a mapping"}.get(type(value), type(value).__name__)
    shown = repr(value) if not isinstance(value, (list, dict)) else ""
    if len(shown) > 40:
        shown = shown[:37] + "..."
    return f"{kind} {shown}".strip()


def _public_fields(cls) -> list:
    return [f for f in fields(cls) if not f.metadata.get("internal")]


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _build(tp: Any, value: Any, path: str, source: str) -> Any:
    """``value`` checked against the type ``tp``, converted (dataclasses built)."""
    origin = typing.get_origin(tp)
    where = path or "the file"
    if tp is Any:
        return value
    if origin in (Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None:
            if type(None) in args:
                return None
            raise PipelineFileError(source, where, f"expected {_describe(tp)}, got null")
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _build(arg, value, path, source)
            except PipelineFileError as exc:
                if exc.path != where or ("expected one of" in str(exc) and
                                         len([a for a in args if a is not type(None)]) == 1):
                    raise
        raise PipelineFileError(source, where, f"expected {_describe(tp)}, got {_got(value)}")
    if origin is Literal:
        if value in typing.get_args(tp) and type(value) is not bool:
            return value
        options = [str(v) for v in typing.get_args(tp)]
        close = difflib.get_close_matches(str(value), options, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise PipelineFileError(source, where, f"expected {_describe(tp)}, got {_got(value)}{hint}")
    if tp is bool:
        if isinstance(value, bool):
            return value
    elif tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif tp is str:
        if isinstance(value, str):
            return value
    elif origin is list:
        if isinstance(value, list):
            item = typing.get_args(tp)[0]
            return [_build(item, v, f"{path}[{i}]", source) for i, v in enumerate(value)]
    elif origin is dict:
        if isinstance(value, dict):
            item = typing.get_args(tp)[1]
            out = {}
            for k, v in value.items():
                if not isinstance(k, str):
                    raise PipelineFileError(source, _join(path, str(k)), "expected a name (a string) as key")
                out[k] = _build(item, v, _join(path, k), source)
            return out
    elif is_dataclass(tp):
        if isinstance(value, dict):
            return _build_dataclass(tp, value, path, source)
    else:  # pragma: no cover - a schema error, not a user error
        raise TypeError(f"unsupported type in the pipeline schema: {tp!r}")
    raise PipelineFileError(source, where, f"expected {_describe(tp)}, got {_got(value)}")


def _build_dataclass(cls, data: dict, path: str, source: str) -> Any:
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in _public_fields(cls)}
    for key in data:
        if key not in known:
            close = difflib.get_close_matches(str(key), list(known), n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"expected one of: {', '.join(known)}"
            raise PipelineFileError(source, _join(path, str(key)), f"unknown key; {hint}")
    kwargs = {}
    for name, f in known.items():
        key_path = _join(path, name)
        if name not in data:
            if f.default is MISSING and f.default_factory is MISSING:
                what = f.metadata.get("help") or _describe(hints[name])
                raise PipelineFileError(source, key_path, f"missing; expected {_describe(hints[name])}"
                                        + (f" ({what})" if f.metadata.get("help") else ""))
            continue
        value = _build(hints[name], data[name], key_path, source)
        check = f.metadata.get("check")
        if check is not None and value is not None:
            verdict = check(value)
            if verdict is not True:
                raise PipelineFileError(source, key_path, f"expected {f.metadata.get('help')}, got {_got(value)}"
                                        + (f" ({verdict})" if isinstance(verdict, str) and verdict not in
                                           f.metadata.get("help", "") else ""))
        kwargs[name] = value
    return cls(**kwargs)


# -- the columns, before any work ------------------------------------------------------------
def source_location(spec: PipelineSpec, src: Source) -> str:
    """The local path (as a string) or ``s3://`` URI a source is read from."""
    if src.path.startswith(BUNDLED):
        from .. import datasets

        try:
            return str(datasets.path(src.path[len(BUNDLED):]))
        except ValueError:
            raise PipelineFileError(spec.source, f"data.sources[{spec.data.sources.index(src)}].path",
                                    f"expected one of {', '.join(BUNDLED + n for n in datasets.names())}, "
                                    f"got {src.path!r}") from None
    if src.path.startswith("s3://"):
        return src.path
    path = Path(src.path).expanduser()
    return str(path if path.is_absolute() else spec.base_dir / path)


def _header(spec: PipelineSpec, index: int, location: str, session) -> list[str]:
    where = f"data.sources[{index}].path"
    if location.startswith("s3://"):
        if session is None:
            raise PipelineFileError(spec.source, where, "reading an s3:// source needs a session")
        bucket, _, key = location[5:].partition("/")
        s3 = session.client("s3")
        try:
            if key.endswith((".parquet", ".pq")):
                import pyarrow.parquet as pq

                body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
                return list(pq.read_schema(io.BytesIO(body)).names)
            head = s3.get_object(Bucket=bucket, Key=key, Range="bytes=0-65535")["Body"].read()
        except s3.exceptions.ClientError as exc:
            raise PipelineFileError(spec.source, where, f"expected a readable S3 object, got {location!r} "
                                    f"({exc.response['Error']['Code']})") from None
        text = head.decode("utf-8", errors="replace")
    else:
        path = Path(location)
        if not path.is_file():
            raise PipelineFileError(spec.source, where, f"expected an existing file, got {location!r}")
        if path.suffix in (".parquet", ".pq"):
            import pyarrow.parquet as pq

            return list(pq.read_schema(path).names)
        with path.open(encoding="utf-8", newline="") as fh:
            text = fh.readline()
    try:
        return next(csv.reader(io.StringIO(text)))
    except StopIteration:
        raise PipelineFileError(spec.source, where, "expected a CSV file with a header, got an empty file") from None


def check_columns(spec: PipelineSpec, session=None) -> dict[str, list[str]]:
    """Check every column the file names against the sources' headers (only the headers
    are read). Returns ``{source name: columns}``."""
    headers: dict[str, list[str]] = {}
    names = [s.name for s in spec.data.sources]
    for i, src in enumerate(spec.data.sources):
        if names.count(src.name) > 1:
            raise PipelineFileError(spec.source, f"data.sources[{i}].name", f"expected a unique name, got "
                                    f"{src.name!r} twice")
        headers[src.name] = _header(spec, i, source_location(spec, src), session)
    if len(spec.data.sources) > 1 and not spec.data.join_on:
        raise PipelineFileError(spec.source, "data.join_on", "missing; expected the column that joins the "
                                f"{len(spec.data.sources)} sources")
    if spec.data.join_on:
        for name, cols in headers.items():
            if spec.data.join_on not in cols:
                raise PipelineFileError(spec.source, "data.join_on", f"expected a column of every source, "
                                        f"got {spec.data.join_on!r} (not in {name}: {', '.join(cols)})")
    columns = list(dict.fromkeys(c for cols in headers.values() for c in cols))

    def need(path: str, column: str | None, what: str = "a column of the data") -> None:
        if column is not None and column not in columns:
            close = difflib.get_close_matches(column, columns, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f" (columns: {', '.join(columns)})"
            raise PipelineFileError(spec.source, path, f"expected {what}, got {column!r}{hint}")

    labeling = spec.data.labeling
    if labeling is None:
        need("problem.target", spec.problem.target)
    for i, c in enumerate(spec.problem.id_columns):
        need(f"problem.id_columns[{i}]", c)
    produced: set[str] = set()        # columns section 2 adds: the target, a record id
    if labeling is not None:
        need("data.labeling.text_column", labeling.text_column)
        if labeling.text_column == spec.problem.target:
            raise PipelineFileError(spec.source, "data.labeling.text_column",
                                    f"expected the column to label, got the target {spec.problem.target!r}")
        truth = labeling.simulated_workers.truth if labeling.simulated_workers else None
        need("data.labeling.simulated_workers.truth", truth)
        if truth is not None and truth in (spec.problem.target, labeling.text_column, *spec.problem.id_columns):
            raise PipelineFileError(spec.source, "data.labeling.simulated_workers.truth",
                                    f"expected a column only the simulated workers see (not the target, the text "
                                    f"or an id), got {truth!r}")
        produced = {spec.problem.target} | (set() if spec.problem.id_columns else {LABELING_ID_COLUMN})
    if spec.evaluation:
        for i, c in enumerate(spec.evaluation.facets):
            need(f"evaluation.facets[{i}]", c)
    if spec.features:
        f = spec.features
        if f.record_id not in produced:
            need("features.record_id", f.record_id)
        truth = labeling.simulated_workers.truth if labeling and labeling.simulated_workers else None
        for key in ("numeric", "categorical", "text"):
            for i, c in enumerate(getattr(f, key) or []):
                if truth is not None and c == truth:
                    raise PipelineFileError(spec.source, f"features.{key}[{i}]",
                                            f"expected a feature, got {c!r}, the truth column of the simulated "
                                            f"workers (section 2 removes it from the data)")
        for i, c in enumerate(f.text):
            need(f"features.text[{i}]", c)
            if c == spec.problem.target:
                raise PipelineFileError(spec.source, f"features.text[{i}]", f"expected a text column, got the "
                                        f"target {c!r}")
            if c in (getattr(f, "numeric") or []) + (getattr(f, "categorical") or []):
                raise PipelineFileError(spec.source, f"features.text[{i}]", f"expected a column not also listed "
                                        f"in features.numeric or features.categorical, got {c!r}")
        _check_groups(spec, headers)
        for key in ("numeric", "categorical"):
            for i, c in enumerate(getattr(f, key) or []):
                need(f"features.{key}[{i}]", c)
                if c == spec.problem.target:
                    raise PipelineFileError(spec.source, f"features.{key}[{i}]",
                                            f"expected a feature, got the target {c!r}")
        for i, pair in enumerate(f.ratios):
            for j, c in enumerate(pair):
                need(f"features.ratios[{i}][{j}]", c)
    return headers


def _check_groups(spec: PipelineSpec, headers: dict[str, list[str]]) -> None:
    """``features.groups``: one group per source (each source once), unique names, record
    identifiers and forced types naming columns of their own source."""
    groups = spec.features.groups
    if not groups:
        return
    seen_sources: dict[str, int] = {}
    seen_names: dict[str, int] = {}
    for i, g in enumerate(groups):
        where = f"features.groups[{i}]"
        if g.source not in headers:
            close = difflib.get_close_matches(g.source, list(headers), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f" (sources: {', '.join(headers)})"
            raise PipelineFileError(spec.source, f"{where}.source", f"expected the name of a data source, "
                                    f"got {g.source!r}{hint}")
        for seen, key, value in ((seen_sources, "source", g.source), (seen_names, "name", g.name)):
            if value in seen:
                raise PipelineFileError(spec.source, f"{where}.{key}", f"expected a unique {key}, got {value!r} "
                                        f"again (as in features.groups[{seen[value]}])")
            seen[value] = i
        record_id = g.record_id or spec.features.record_id or spec.data.join_on
        if record_id is None:
            raise PipelineFileError(spec.source, f"{where}.record_id", "missing; expected the source's "
                                    "identifier column (or set features.record_id or data.join_on)")
        if record_id not in headers[g.source]:
            path = f"{where}.record_id" if g.record_id else ("features.record_id" if spec.features.record_id
                                                              else "data.join_on")
            raise PipelineFileError(spec.source, path, f"expected a column of source {g.source!r}, got "
                                    f"{record_id!r} (columns: {', '.join(headers[g.source])})")
        for column in g.feature_types:
            if column not in headers[g.source]:
                raise PipelineFileError(spec.source, f"{where}.feature_types.{column}",
                                        f"expected a column of source {g.source!r}")
    missing = [name for name in headers if name not in seen_sources]
    if missing:
        raise PipelineFileError(spec.source, "features.groups", f"expected a group for every source, "
                                f"got none for {', '.join(repr(m) for m in missing)}")


def resolve(template: str, spec: PipelineSpec, account: str, region: str) -> str:
    """Replace ``{name}``, ``{account}`` and ``{region}`` in a name from the file."""
    return template.replace("{name}", spec.name).replace("{account}", account).replace("{region}", region)


SECTION_FIELDS = ("problem", "data", "evaluation", "features", "training", "deployment", "monitoring", "tuning")
