"""Section 2, data collection and labelling: data into S3, labels from Ground Truth.

>>> from aws_ml import Session, datasets
>>> from aws_ml.labeling import collect, label_dataframe
>>> reviews = datasets.load("reviews/imdb_sentences").head(200)
>>> with Session() as session:                                       # doctest: +SKIP
...     collect(session, reviews, "my-bucket", "raw/reviews", text_column="text")
...     result = label_dataframe(session, reviews, text_column="text",
...                              categories=["POSITIVE", "NEGATIVE"], job_name="reviews",
...                              bucket="my-bucket",
...                              workers="simulated:count=3,accuracy=0.7,truth=sentiment,seed=0")
...     result.df[["text", "label", "confidence"]], result.label_counters

Everything goes through the session's boto3 clients (``s3``, ``sagemaker``, ``sts``), so the
same code runs on the local backend and on AWS. :func:`label_dataframe` builds the
``CreateLabelingJob`` request as the Ground Truth console does for a text-classification job:
an input manifest of ``{"source": <text>}`` lines, the label-category file, a worker UI
(Liquid with the ``crowd-classifier`` element) and the PRE-/ACS- Lambda functions Ground Truth
runs in the region. Simulated workers (a tag the local backend reads) exist on the local
backend only; on AWS give a real work team.
"""
from __future__ import annotations

import json
import mimetypes
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TEXT_TASKS = {"text-classification": "TextMultiClass",
              "text-classification-multilabel": "TextMultiClassMultiLabel"}
# Ground Truth's Lambda account per region (botocore's documentation of
# HumanTaskConfig.PreHumanTaskLambdaArn / AnnotationConsolidationLambdaArn)
LAMBDA_ACCOUNTS = {
    "us-east-1": "432418664414", "us-east-2": "266458841044", "us-west-2": "081040173940",
    "ca-central-1": "918755190332", "eu-west-1": "568282634449", "eu-west-2": "487402164563",
    "eu-central-1": "203001061592", "ap-northeast-1": "477331159723", "ap-northeast-2": "845288260483",
    "ap-south-1": "565803892007", "ap-southeast-1": "377565633583", "ap-southeast-2": "454466003867",
}
SIMULATED_TAG = "aws-ml:simulated-workers"
DEFAULT_TEAM = "aws-ml-labelers"
TERMINAL = ("Completed", "Failed", "Stopped")
LABEL_CATEGORY_VERSION = "2018-11-28"

_HEAD = '<script src="https://assets.crowd.aws/crowd-html-elements.js"></script>\n'
TEMPLATES = {
    "TextMultiClass": _HEAD + """<crowd-form>
  <crowd-classifier name="crowd-classifier" categories="{{ task.input.labels | to_json | escape }}"
                    header="Choose the category that fits the text best">
    <classification-target>{{ task.input.taskObject }}</classification-target>
    <full-instructions header="Instructions"><p>Read the text, then choose one category.</p></full-instructions>
    <short-instructions><p>Choose one category.</p></short-instructions>
  </crowd-classifier>
</crowd-form>
""",
    "TextMultiClassMultiLabel": _HEAD + """<crowd-form>
  <crowd-classifier-multi-select name="crowd-classifier-multi-select"
      categories="{{ task.input.labels | to_json | escape }}" header="Choose every category that applies">
    <classification-target>{{ task.input.taskObject }}</classification-target>
    <full-instructions header="Instructions"><p>Choose all the categories that apply.</p></full-instructions>
    <short-instructions><p>Choose all that apply.</p></short-instructions>
  </crowd-classifier-multi-select>
</crowd-form>
""",
}


class LabelingJobFailed(RuntimeError):
    """The labelling job ended Failed or Stopped (the message carries AWS's FailureReason)."""


# -- S3 helpers ---------------------------------------------------------------------------------
def _split(uri: str) -> tuple[str, str]:
    if not uri.startswith("s3://"):
        raise ValueError(f"{uri!r} is not an s3:// URI")
    bucket, _, key = uri[5:].partition("/")
    return bucket, key


def _key(prefix: str, *parts: str) -> str:
    return "/".join(p.strip("/") for p in (prefix, *parts) if p.strip("/"))


def _ensure_bucket(s3, bucket: str, region: str) -> None:
    from botocore.exceptions import ClientError
    try:
        s3.head_bucket(Bucket=bucket)
        return
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in ("404", "NoSuchBucket", "NotFound"):
            raise
    kwargs: dict[str, Any] = {"Bucket": bucket}
    if region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    s3.create_bucket(**kwargs)


def _put_lines(s3, bucket: str, key: str, lines: list[dict]) -> str:
    body = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
    s3.put_object(Bucket=bucket, Key=key, Body=body.encode("utf-8"), ContentType="application/jsonlines")
    return f"s3://{bucket}/{key}"


def _read_lines(s3, uri: str) -> list[dict]:
    bucket, key = _split(uri)
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")
    return [json.loads(line) for line in body.splitlines() if line.strip()]


# -- collect ------------------------------------------------------------------------------------
@dataclass
class CollectResult:
    """What :func:`collect` put in S3: the objects' URIs and the input manifest's URI."""

    bucket: str
    prefix: str
    uris: list[str]
    manifest_uri: str | None
    kind: str            # "files" | "text" | "csv"

    @property
    def n_objects(self) -> int:
        return len(self.uris)


def collect(session, source, bucket: str, prefix: str, *, manifest: bool = True,
            text_column: str | None = None, attributes: list[str] | tuple[str, ...] = (),
            as_csv: bool = False) -> CollectResult:
    """Upload ``source`` under ``s3://bucket/prefix/`` with an input manifest beside it.

    :param source: a file path, a directory (every file below it, in sorted order), a list of
        paths, or a pandas DataFrame.
    :param text_column: for a DataFrame: the text column; each row becomes one ``.txt``
        object (``<prefix>/<row:06d>.txt``, as AWS's text-classification examples store
        text) and one manifest line ``{"source": <text>}``.
    :param attributes: DataFrame columns copied into each manifest line (e.g. a known label).
    :param as_csv: for a DataFrame: upload it as one ``data.csv`` object instead.
    :param manifest: write ``<prefix>/manifest.jsonl`` — ``{"source": ...}`` lines for text,
        ``{"source-ref": "s3://..."}`` lines for files.

    The bucket is created if it does not exist.
    """
    s3 = session.client("s3")
    _ensure_bucket(s3, bucket, session.region)
    lines: list[dict] = []
    uris: list[str] = []
    if hasattr(source, "columns"):                      # a DataFrame
        if as_csv == (text_column is not None):
            raise ValueError("collect needs exactly one of text_column= (one text object per row) "
                             "or as_csv=True for a DataFrame")
        if as_csv:
            key = _key(prefix, "data.csv")
            s3.put_object(Bucket=bucket, Key=key, Body=source.to_csv(index=False).encode("utf-8"),
                          ContentType="text/csv")
            uris = [f"s3://{bucket}/{key}"]
            lines = [{"source-ref": uris[0]}]
            kind = "csv"
        else:
            missing = [c for c in (text_column, *attributes) if c not in source.columns]
            if missing:
                raise ValueError(f"the DataFrame has no column {missing[0]!r}")
            for n, (_, row) in enumerate(source.iterrows()):
                text = "" if row[text_column] is None else str(row[text_column])
                key = _key(prefix, f"{n:06d}.txt")
                s3.put_object(Bucket=bucket, Key=key, Body=text.encode("utf-8"),
                              ContentType="text/plain; charset=utf-8")
                uris.append(f"s3://{bucket}/{key}")
                lines.append({"source": text, **{a: _plain(row[a]) for a in attributes}})
            kind = "text"
    else:
        paths = [Path(p) for p in (source if isinstance(source, (list, tuple)) else [source])]
        files: list[tuple[Path, str]] = []
        for p in paths:
            if p.is_dir():
                files += [(f, f.relative_to(p).as_posix()) for f in sorted(p.rglob("*")) if f.is_file()]
            elif p.is_file():
                files.append((p, p.name))
            else:
                raise FileNotFoundError(f"{p} is neither a file nor a directory")
        if not files:
            raise ValueError(f"no file to collect in {source!r}")
        for f, rel in files:
            key = _key(prefix, rel)
            ctype = mimetypes.guess_type(f.name)[0] or "application/octet-stream"
            s3.upload_file(str(f), bucket, key, ExtraArgs={"ContentType": ctype})
            uris.append(f"s3://{bucket}/{key}")
            lines.append({"source-ref": uris[-1]})
        kind = "files"
    manifest_uri = _put_lines(s3, bucket, _key(prefix, "manifest.jsonl"), lines) if manifest else None
    return CollectResult(bucket=bucket, prefix=prefix, uris=uris, manifest_uri=manifest_uri, kind=kind)


def _plain(value: Any) -> Any:
    """A DataFrame cell as JSON (numpy scalars -> Python, NaN -> None)."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value


# -- label_dataframe ----------------------------------------------------------------------------
@dataclass
class LabelResult:
    """A labelling job's outcome: the DataFrame with its labels, and the job's counters.

    ``df`` is the input DataFrame with three columns added: ``label`` (the consolidated label;
    a list of labels for a multi-label task), ``confidence`` and ``human_annotated``
    (``True`` for a label from people, ``False`` for one from automated labelling); rows
    that were already labelled keep their label, with no confidence.
    """

    job_name: str
    job_arn: str
    status: str
    label_counters: dict[str, int]
    output_manifest_uri: str | None
    df: Any = None
    failure_reason: str | None = None
    output_path: str = ""
    manifest_rows: list[int] = field(default_factory=list)   # manifest line -> df row position
    label_column: str = "label"
    reused: bool = False          # label_pool: an existing job was reused
    _session: Any = field(default=None, repr=False)
    _source: Any = field(default=None, repr=False)

    def wait(self, timeout: float | None = None, progress: bool = True) -> "LabelResult":
        """Wait for the job to end and fill ``df`` (for ``label_dataframe(..., wait=False)``)."""
        done = _wait(self._session, self.job_name, timeout, progress)
        return _result(self._session, done, self._source, self.manifest_rows, self.label_column)

    def worker_labels(self):
        """Every worker's answer (the ``worker-response`` files AWS writes): a DataFrame with
        the input DataFrame's index and one column per worker id."""
        import pandas as pd
        if self._session is None or not self.output_path:
            raise ValueError("this result has no job output to read")
        s3 = self._session.client("s3")
        bucket, key = _split(self.output_path)
        answers: dict[str, dict[Any, Any]] = {}
        prefix = _key(key, self.job_name, "annotations", "worker-response") + "/"
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                line = int(obj["Key"][len(prefix):].split("/")[1])
                body = json.loads(s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read())
                for a in body["answers"]:
                    content = a["answerContent"]
                    if "crowd-classifier" in content:
                        value = content["crowd-classifier"]["label"]
                    elif "crowd-classifier-multi-select" in content:
                        value = content["crowd-classifier-multi-select"]["labels"]
                    else:
                        value = content
                    answers.setdefault(a["workerId"], {})[self.manifest_rows[line]] = value
        frame = pd.DataFrame(answers)
        frame = frame.reindex(index=[i for i in self.manifest_rows if i in frame.index], columns=sorted(frame.columns))
        frame.index = self._source.index[frame.index]
        return frame


def parse_workers(workers: str | None) -> str | None:
    """``"simulated:count=3,accuracy=0.7,truth=col,seed=0"`` -> the tag value; None -> None."""
    if workers is None:
        return None
    if not isinstance(workers, str) or not workers.startswith("simulated:"):
        raise ValueError("The 'workers' parameter of label_dataframe must be None or "
                         f"'simulated:count=3,accuracy=0.7,truth=<column>,seed=0'. Got {workers!r} instead.")
    spec = workers[len("simulated:"):]
    keys = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        k, sep, v = part.partition("=")
        if not sep or k not in ("count", "accuracy", "truth", "seed"):
            raise ValueError(f"simulated workers: {part!r} is not one of count=, accuracy=, truth=, seed=")
        keys[k] = v
    if "truth" not in keys:
        raise ValueError("simulated workers need truth=<column> (the column holding the true label)")
    return spec


def _lambda_arns(region: str, task: str) -> tuple[str, str]:
    try:
        account = LAMBDA_ACCOUNTS[region]
    except KeyError:
        raise ValueError(f"Ground Truth's built-in task types are not offered in {region} "
                         f"(regions: {', '.join(sorted(LAMBDA_ACCOUNTS))})") from None
    base = f"arn:aws:lambda:{region}:{account}:function:"
    return base + f"PRE-{task}", base + f"ACS-{task}"


def _default_workteam(sm) -> str:
    """The local private team used when none is given (created on first use)."""
    for team in sm.list_workteams(NameContains=DEFAULT_TEAM)["Workteams"]:
        if team["WorkteamName"] == DEFAULT_TEAM:
            return team["WorkteamArn"]
    cognito = {"CognitoMemberDefinition": {"UserPool": "us-east-1_awsml0000", "UserGroup": "labelers",
                                           "ClientId": "awsmllocalclient"}}
    return sm.create_workteam(WorkteamName=DEFAULT_TEAM, MemberDefinitions=[cognito],
                              Description="Private work team of the local backend (aws_ml)")["WorkteamArn"]


def label_dataframe(session, df, *, text_column: str, categories: list[str], job_name: str, bucket: str,
                    workteam_arn: str | None = None, workers: str | None = None,
                    task: str = "text-classification", wait: bool = True, prefix: str = "labeling",
                    label_column: str = "label", role_arn: str | None = None,
                    workers_per_object: int | None = None, task_time_limit: int = 300,
                    timeout: float | None = None, progress: bool = True) -> LabelResult:
    """Label the text of ``df`` with a Ground Truth labelling job and join the labels back.

    :param text_column: the column to label.
    :param categories: the label categories (at least 2).
    :param job_name: the labelling job's name (unique in the account and region).
    :param bucket: where the input files and the job's output go
        (``s3://bucket/<prefix>/<job_name>/input/...`` and ``.../output/<job_name>/...``).
    :param workteam_arn: a private or vendor work team; ``None`` on the local backend uses a
        private team it creates (``aws-ml-labelers``).
    :param workers: ``"simulated:count=3,accuracy=0.7,truth=<column>,seed=0"`` lets simulated
        annotators (the local backend's) label the rows, right with probability ``accuracy``
        about the value of ``<column>``; ``None`` waits for people (the local portal or a
        real team).
    :param task: ``text-classification`` or ``text-classification-multilabel``.
    :param label_column: the column receiving the labels; rows where it already holds a
        value are not sent to the job.
    :param workers_per_object: NumberOfHumanWorkersPerDataObject (default: the simulated
        count, else 3).
    :param wait: wait for the job (polling ``DescribeLabelingJob`` with a progress bar);
        ``False`` returns at once, call :meth:`LabelResult.wait` later.
    """
    if task not in TEXT_TASKS:
        raise ValueError(f"The 'task' parameter of label_dataframe must be one of {sorted(TEXT_TASKS)}. "
                         f"Got {task!r} instead.")
    task_type = TEXT_TASKS[task]
    if text_column not in df.columns:
        raise ValueError(f"The 'text_column' parameter of label_dataframe must be a column of df. "
                         f"Got {text_column!r} instead.")
    labels = [str(c) for c in categories]
    if len(set(labels)) < 2 or len(set(labels)) != len(labels):
        raise ValueError(f"The 'categories' parameter of label_dataframe must hold at least 2 distinct "
                         f"labels. Got {categories!r} instead.")
    simulated = parse_workers(workers)
    local = session.backend_for("sagemaker", "CreateLabelingJob") == "local"
    truth = None
    if simulated is not None:
        if not local:
            raise ValueError("simulated workers exist only where SageMaker is served locally; on "
                             f"{session.backend_for('sagemaker')!r} give workteam_arn= (a real work team)")
        truth = dict(p.split("=", 1) for p in simulated.split(","))["truth"]
        if truth not in df.columns:
            raise ValueError(f"simulated workers: truth={truth!r} is not a column of df")
    if workers_per_object is None:
        workers_per_object = int(dict(p.split("=", 1) for p in simulated.split(",")).get("count", 3)) \
            if simulated else 3

    if not local and workteam_arn is None:
        raise ValueError("The 'workteam_arn' parameter of label_dataframe is required on "
                         f"{session.backend_for('sagemaker')!r}: give a private or vendor work team")
    if not local and role_arn is None:
        raise ValueError("The 'role_arn' parameter of label_dataframe is required on "
                         f"{session.backend_for('sagemaker')!r}: an IAM role Ground Truth can assume")
    pre, acs = _lambda_arns(session.region, task_type)

    todo = _unlabelled_positions(df, label_column)
    if not todo:
        raise ValueError(f"every row of df already has a {label_column!r}: nothing to label")

    s3, sm = session.client("s3"), session.client("sagemaker")
    _ensure_bucket(s3, bucket, session.region)
    base = _key(prefix, job_name)
    lines = []
    texts = df[text_column].tolist()
    truths = df[truth].tolist() if truth is not None else None
    for n, i in enumerate(todo):
        text = texts[i]
        line = {"source": "" if text is None else str(text), "aws-ml-row": n}
        if truth is not None:
            line[truth] = _plain(truths[i])
        lines.append(line)
    manifest_uri = _put_lines(s3, bucket, _key(base, "input", "manifest.jsonl"), lines)
    labels_key = _key(base, "input", "label-categories.json")
    s3.put_object(Bucket=bucket, Key=labels_key, ContentType="application/json", Body=json.dumps(
        {"document-version": LABEL_CATEGORY_VERSION, "labels": [{"label": x} for x in labels]}).encode())
    template_key = _key(base, "input", f"{task_type}.liquid.html")
    s3.put_object(Bucket=bucket, Key=template_key, Body=TEMPLATES[task_type].encode(), ContentType="text/html")

    if workteam_arn is None:
        workteam_arn = _default_workteam(sm)
    if role_arn is None:
        account = session.client("sts").get_caller_identity()["Account"]
        role_arn = f"arn:aws:iam::{account}:role/aws-ml-groundtruth"
    output_path = f"s3://{bucket}/{_key(base, 'output')}"
    request: dict[str, Any] = {
        "LabelingJobName": job_name, "LabelAttributeName": job_name,
        "InputConfig": {"DataSource": {"S3DataSource": {"ManifestS3Uri": manifest_uri}},
                        "DataAttributes": {"ContentClassifiers": ["FreeOfPersonallyIdentifiableInformation",
                                                                  "FreeOfAdultContent"]}},
        "OutputConfig": {"S3OutputPath": output_path},
        "RoleArn": role_arn,
        "LabelCategoryConfigS3Uri": f"s3://{bucket}/{labels_key}",
        "HumanTaskConfig": {
            "WorkteamArn": workteam_arn,
            "UiConfig": {"UiTemplateS3Uri": f"s3://{bucket}/{template_key}"},
            "PreHumanTaskLambdaArn": pre,
            "TaskTitle": "Text classification" if task_type == "TextMultiClass" else "Text classification (multi-label)",
            "TaskDescription": f"Choose the categor{'y' if task_type == 'TextMultiClass' else 'ies'} of each text",
            "TaskKeywords": ["Text", "Classification"],
            "NumberOfHumanWorkersPerDataObject": workers_per_object,
            "TaskTimeLimitInSeconds": task_time_limit,
            "TaskAvailabilityLifetimeInSeconds": 864000,
            "MaxConcurrentTaskCount": 1000,
            "AnnotationConsolidationConfig": {"AnnotationConsolidationLambdaArn": acs},
        },
    }
    if simulated is not None:
        request["Tags"] = [{"Key": SIMULATED_TAG, "Value": simulated}]
    arn = sm.create_labeling_job(**request)["LabelingJobArn"]
    pending = LabelResult(job_name=job_name, job_arn=arn, status="InProgress", label_counters={},
                          output_manifest_uri=None, output_path=output_path, manifest_rows=todo,
                          label_column=label_column, _session=session, _source=df)
    if not wait:
        return pending
    return pending.wait(timeout=timeout, progress=progress)


def _unlabelled_positions(df, label_column: str) -> list[int]:
    """The positions of the rows of ``df`` with no value in ``label_column`` (all rows
    when it is not a column): the rows a labelling job gets."""
    if label_column not in df.columns:
        return list(range(len(df)))
    return [n for n, v in enumerate(df[label_column].tolist()) if v is None or (isinstance(v, float) and v != v)]


def label_pool(session, pool_df, *, text_column: str, categories: list[str], job_name: str, bucket: str,
               workers: str | None = None, workteam_arn: str | None = None, role_arn: str | None = None,
               label_column: str = "label", prefix: str = "labeling", timeout: float | None = None,
               progress: bool = False, max_attempts: int = 20) -> LabelResult:
    """Label the rows of ``pool_df`` that have no ``label_column`` with ONE labelling job,
    idempotently: what a pipeline step (section 2, or section 8's relabelling) calls.

    If a job named ``job_name`` exists already — left by an earlier run, or by a run killed
    while the job ran — it is reused: waited for while it runs (``DescribeLabelingJob``
    says ``InProgress``), read when it is ``Completed``; no second job is created. A job of
    that name that ended ``Failed`` or ``Stopped`` is left as it is and the next free name
    ``<job_name>-r2``, ``-r3``, ... is used. ``result.reused`` says whether an existing job
    was reused; ``result.job_name`` is the job's actual name.

    The other parameters are :func:`label_dataframe`'s. ``pool_df`` must hold the same rows,
    in the same order, as when the job was created (derive ``job_name`` from them, e.g. a
    digest of the configuration); a job whose number of objects differs raises ``ValueError``.
    """
    if not isinstance(job_name, str) or not job_name:
        raise ValueError(f"The 'job_name' parameter of label_pool must be a non-empty string. Got {job_name!r} instead.")
    sm = session.client("sagemaker")
    todo = _unlabelled_positions(pool_df, label_column)
    for attempt in range(1, max_attempts + 1):
        suffix = "" if attempt == 1 else f"-r{attempt}"
        name = job_name[:63 - len(suffix)].rstrip("-") + suffix
        try:
            describe = sm.describe_labeling_job(LabelingJobName=name)
        except sm.exceptions.ClientError as exc:
            if exc.response["Error"]["Code"] not in ("ResourceNotFound", "ResourceNotFoundException"):
                raise
            result = label_dataframe(session, pool_df, text_column=text_column, categories=categories,
                                     job_name=name, bucket=bucket, workteam_arn=workteam_arn, workers=workers,
                                     prefix=prefix, label_column=label_column, role_arn=role_arn,
                                     timeout=timeout, progress=progress)
            result.reused = False
            return result
        if describe["LabelingJobStatus"] == "Stopping":
            describe = _wait(session, name, timeout, progress)     # it ends Stopped: not reusable
        if describe["LabelingJobStatus"] in ("Failed", "Stopped"):
            continue
        c = describe["LabelCounters"]
        objects = c.get("TotalLabeled", 0) + c.get("FailedNonRetryableError", 0) + c.get("Unlabeled", 0)
        if objects and objects != len(todo):
            raise ValueError(f"labeling job {name} exists with {objects} objects, but pool_df has {len(todo)} rows "
                             f"to label: give another job_name")
        done = _wait(session, name, timeout, progress)
        result = _result(session, done, pool_df, todo, label_column)
        result.reused = True
        return result
    raise LabelingJobFailed(f"labeling jobs {job_name} to {job_name}-r{max_attempts} all ended Failed or Stopped")


def _wait(session, job_name: str, timeout: float | None, progress: bool) -> dict:
    """Describe the job until it ends (with a rich progress bar of labelled objects)."""
    sm = session.client("sagemaker")
    deadline = None if timeout is None else time.monotonic() + timeout
    describe = sm.describe_labeling_job(LabelingJobName=job_name)

    local = session.backend_for("sagemaker", "DescribeLabelingJob") == "local"

    def poll() -> dict:
        nonlocal describe
        delay = 0.05 if local else 15.0
        while describe["LabelingJobStatus"] not in TERMINAL:
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"labeling job {job_name} is still {describe['LabelingJobStatus']} "
                                   f"after {timeout} s")
            yield describe
            time.sleep(delay)
            delay = min(delay * 1.5, 1.0 if local else 60.0)
            describe = sm.describe_labeling_job(LabelingJobName=job_name)
        yield describe

    if not progress:
        for describe in poll():
            pass
        return describe
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    console = Console(stderr=True)
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[status]}"), TimeElapsedColumn(), transient=True,
                  console=console, disable=not console.is_terminal) as bar:
        task_id = bar.add_task(f"labeling job {job_name}", total=None, status="")
        for describe in poll():
            c = describe["LabelCounters"]
            total = c.get("TotalLabeled", 0) + c.get("Unlabeled", 0) + c.get("FailedNonRetryableError", 0)
            bar.update(task_id, completed=c.get("TotalLabeled", 0), total=total or None,
                       status=describe["LabelingJobStatus"])
    return describe


def _result(session, describe: dict, df, rows: list, label_column: str) -> LabelResult:
    status = describe["LabelingJobStatus"]
    name = describe["LabelingJobName"]
    output_path = describe["OutputConfig"]["S3OutputPath"]
    if status != "Completed":
        raise LabelingJobFailed(f"labeling job {name} ended {status}: {describe.get('FailureReason', 'no reason given')}")
    uri = describe["LabelingJobOutput"]["OutputDatasetS3Uri"]
    attr = describe["LabelAttributeName"]
    out = df.copy()
    labels = out[label_column].tolist() if label_column in out.columns else [None] * len(out)
    confidence = [float("nan")] * len(out)
    human: list[bool | None] = [None] * len(out)
    for line in _read_lines(session.client("s3"), uri):
        meta = line.get(f"{attr}-metadata")
        if meta is None or "aws-ml-row" not in line:
            continue                                  # an object the job did not label
        i = rows[int(line["aws-ml-row"])]
        if "class-map" in meta:                       # multi-label
            labels[i] = [meta["class-map"][str(k)] for k in line[attr]]
            scores = list(meta.get("confidence-map", {}).values())
            confidence[i] = min(scores) if scores else float("nan")
        else:
            labels[i] = meta["class-name"]
            confidence[i] = meta.get("confidence", float("nan"))
        human[i] = meta.get("human-annotated") == "yes"
    import pandas as pd
    out[label_column] = pd.Series(labels, index=out.index, dtype=object)
    out["confidence"] = pd.Series(confidence, index=out.index, dtype=float)
    out["human_annotated"] = pd.Series(human, index=out.index, dtype=object)
    return LabelResult(job_name=name, job_arn=describe["LabelingJobArn"], status=status,
                       label_counters=dict(describe["LabelCounters"]), output_manifest_uri=uri, df=out,
                       output_path=output_path, manifest_rows=rows, label_column=label_column,
                       _session=session, _source=df)


__all__ = ["CollectResult", "LabelResult", "LabelingJobFailed", "collect", "label_dataframe", "label_pool",
           "parse_workers"]
