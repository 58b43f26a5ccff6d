"""The step registry: each section of the pipeline is a step function
``(ctx, config) -> outputs`` registered by name.

>>> from aws_ml.pipeline.steps import STEPS
>>> [s.name for s in STEPS]
['problem', 'data', 'evaluation', 'features', 'training', 'deployment', 'monitoring', 'tuning']

A :class:`Step` says which section it serves, which steps it needs (``needs``: it cannot
run without their outputs) or reads when they ran (``after``), which facade modules it
calls (``requires``: a step whose facade is not in this version of aws_ml is reported as
*not available*, never faked) and how its configuration is taken from the pipeline file
(``config``: exactly what goes into its cache key). The built-in steps are in
:mod:`aws_ml.pipeline.sections`; :meth:`StepRegistry.replace` swaps one (tests, plugins).
"""
from __future__ import annotations

import importlib
import importlib.util
import io
import json
from dataclasses import dataclass, field, replace as dc_replace
from typing import Any, Callable, Iterator

from .spec import PipelineSpec, resolve

StepFunction = Callable[["StepContext", dict], dict]
ConfigFunction = Callable[[PipelineSpec, "StepContext"], "dict | None"]


class StepUnavailable(Exception):
    """Raised by a step whose facade is missing in this version of aws_ml."""


@dataclass(frozen=True)
class Step:
    """One section of the pipeline as a cached, resumable unit of work."""

    name: str
    section: int
    title: str
    fn: StepFunction
    config: ConfigFunction
    needs: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()
    version: int = 1
    still_valid: Callable[["StepContext", dict], bool] | None = None

    def missing_facade(self) -> str | None:
        """The first required ``module`` or ``module:attribute`` that this installation
        lacks (``None`` when the step can run)."""
        for req in self.requires:
            module, _, attr = req.partition(":")
            try:
                found = importlib.util.find_spec(module) is not None
            except ModuleNotFoundError:
                found = False
            if not found:
                return module
            if attr and not hasattr(importlib.import_module(module), attr):
                return req.replace(":", ".")
        return None


class StepRegistry:
    """Steps by name, in pipeline order."""

    def __init__(self, steps: list[Step] | None = None) -> None:
        self._steps: dict[str, Step] = {}
        for s in steps or []:
            self.add(s)

    def add(self, step: Step) -> Step:
        for dep in step.needs + step.after:
            if dep not in self._steps:
                raise ValueError(f"step {step.name!r} depends on {dep!r}, which is not registered before it")
        self._steps[step.name] = step
        return step

    def register(self, name: str, *, section: int, title: str, config: ConfigFunction,
                 needs: tuple[str, ...] = (), after: tuple[str, ...] = (),
                 requires: tuple[str, ...] = (), version: int = 1,
                 still_valid: Callable[["StepContext", dict], bool] | None = None
                 ) -> Callable[[StepFunction], StepFunction]:
        """Decorator: register ``fn`` as the step ``name``. ``still_valid(ctx, outputs)``,
        if given, says whether a cached record's resources still exist (an endpoint
        deleted by hand makes the step run again)."""
        def wrap(fn: StepFunction) -> StepFunction:
            self.add(Step(name, section, title, fn, config, tuple(needs), tuple(after), tuple(requires), version,
                          still_valid))
            return fn
        return wrap

    def replace(self, name: str, **changes: Any) -> "StepRegistry":
        """A copy of the registry with step ``name`` changed (``fn=...``, ``version=...``)."""
        out = StepRegistry()
        for s in self:
            out.add(dc_replace(s, **changes) if s.name == name else s)
        return out

    def get(self, name: str) -> Step:
        try:
            return self._steps[name]
        except KeyError:
            raise KeyError(f"no step {name!r}; steps: {', '.join(self._steps)}") from None

    def __iter__(self) -> Iterator[Step]:
        return iter(self._steps.values())

    def __len__(self) -> int:
        return len(self._steps)

    def downstream(self, name: str) -> list[str]:
        """The steps that depend on ``name``, directly or not."""
        out: list[str] = []
        for s in self:
            if any(d == name or d in out for d in s.needs + s.after):
                out.append(s.name)
        return out


@dataclass
class StepContext:
    """What a step gets besides its configuration: the session, the pipeline, where its
    artefacts go, and the outputs of the steps it depends on (``inputs``)."""

    session: Any
    spec: PipelineSpec
    bucket: str
    prefix: str
    account: str
    run_id: str
    inputs: dict[str, dict] = field(default_factory=dict)
    statuses: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    log: Callable[[str], None] = lambda message: None
    _bucket_ready: bool = False
    _cache: dict = field(default_factory=dict)

    @property
    def region(self) -> str:
        return self.session.region

    @property
    def s3(self):
        if "s3" not in self._cache:
            self._cache["s3"] = self.session.client("s3")
        return self._cache["s3"]

    def resolve(self, template: str) -> str:
        return resolve(template, self.spec, self.account, self.region)

    def note(self, message: str) -> None:
        """A remark for the run report (e.g. a part of the section that is not available)."""
        self.notes.append(message)

    # -- artefacts in S3 ----------------------------------------------------------------
    def key(self, rel: str) -> str:
        return f"{self.prefix.strip('/')}/{rel.lstrip('/')}".lstrip("/")

    def uri(self, rel: str) -> str:
        """``s3://<bucket>/<prefix>/<rel>``."""
        return f"s3://{self.bucket}/{self.key(rel)}"

    def ensure_bucket(self) -> None:
        """Create the artefact bucket if it does not exist (idempotent)."""
        if self._bucket_ready:
            return
        try:
            self.s3.head_bucket(Bucket=self.bucket)
        except self.s3.exceptions.ClientError as exc:
            if exc.response["Error"]["Code"] not in ("404", "NoSuchBucket", "NotFound"):
                raise
            kwargs = {} if self.region == "us-east-1" else {
                "CreateBucketConfiguration": {"LocationConstraint": self.region}}
            try:
                self.s3.create_bucket(Bucket=self.bucket, **kwargs)
            except self.s3.exceptions.BucketAlreadyOwnedByYou:
                pass  # created meanwhile by another run of ours: the bucket we want
        self._bucket_ready = True

    def put(self, rel: str, body: bytes | str, content_type: str = "application/octet-stream") -> str:
        """Write an artefact; returns its ``s3://`` URI."""
        self.ensure_bucket()
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.s3.put_object(Bucket=self.bucket, Key=self.key(rel), Body=data, ContentType=content_type)
        return self.uri(rel)

    def put_json(self, rel: str, value: Any) -> str:
        return self.put(rel, json.dumps(value, indent=1, default=str), "application/json")

    def get_bytes(self, uri: str) -> bytes:
        bucket, _, key = uri[5:].partition("/")
        return self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()

    def read_table(self, uri: str):
        """A CSV or Parquet object as a DataFrame."""
        import pandas as pd

        body = io.BytesIO(self.get_bytes(uri))
        return pd.read_parquet(body) if uri.endswith(".parquet") else pd.read_csv(body)

    def put_table(self, rel: str, df, header: bool = True) -> str:
        """A DataFrame as Parquet (``.parquet``) or CSV."""
        if rel.endswith(".parquet"):
            sink = io.BytesIO()
            df.to_parquet(sink, index=False)
            return self.put(rel, sink.getvalue(), "application/x-parquet")
        return self.put(rel, df.to_csv(index=False, header=header), "text/csv")


def unavailable_message(step: Step, missing: str) -> str:
    return (f"not available in this version: section {step.section} ({step.title.lower()}) needs "
            f"{missing}, which this installation of aws_ml does not have")


STEPS = StepRegistry()
"""The built-in steps (filled by :mod:`aws_ml.pipeline.sections`)."""


def default_registry() -> StepRegistry:
    from . import sections  # noqa: F401  (registers the built-in steps into STEPS)

    return STEPS
