"""Labelling-job operations of the local SageMaker backend: CreateLabelingJob,
DescribeLabelingJob, ListLabelingJobs, ListLabelingJobsForWorkteam, StopLabelingJob.

``CreateLabelingJob`` checks everything AWS checks (task type from the Ground Truth Lambda
ARNs, the work team, the UI, the label categories, every manifest line) before it stores
anything, then records the job (``Initializing``) and its data objects. The job moves on as
workers answer (:mod:`.engine`); simulated workers asked for by the ``aws-ml:simulated-workers``
tag answer in a background thread of the process that created (or next describes) the job.
"""
from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from datetime import datetime, timezone

from local_backends.core.base import operation
from local_backends.core.errors import NotImplementedByBackend, ResourceInUse, ResourceNotFound, ValidationException
from local_backends.core.times import utc_datetime as _dt

from . import answers as ans
from . import automated, manifest, templates
from . import workers as programmatic
from .engine import TERMINAL, LabelingEngine, pid_alive, sample_initial
from .store import PENDING, QUEUED, dumps
from .tasks import TASK_TYPES, TaskTypeError, algorithm_arn, default_template, human_task_ui_arn, parse_lambda_arn
from .workforce import Workforces

logger = logging.getLogger("aws_ml")
NOT_FOUND = "Requested resource not found."
CONSOLIDATION_TAG = "aws-ml:consolidation"
CONSOLIDATION_METHODS = ("dawid-skene", "majority-vote")


class UnsupportedLabelingJob(NotImplementedByBackend):
    """A labelling job the local backend cannot run (a custom workflow Lambda, a 3D task type)."""

    def __init__(self, message: str) -> None:
        super().__init__("sagemaker", "CreateLabelingJob", message=message)

_runners: dict[tuple[str, str], threading.Thread] = {}   # (state root, job ARN) -> simulated workers
_runners_lock = threading.Lock()


class LabelingJobs(Workforces):
    """The Ground Truth operations of the local SageMaker backend (a mixin)."""

    @property
    def labeling_engine(self) -> LabelingEngine:
        engine = self.__dict__.get("_labeling_engine")
        if engine is None:
            engine = self.__dict__["_labeling_engine"] = LabelingEngine(
                self.labeling_store, lambda region: self.peers.client("s3"))
        return engine

    # -- CreateLabelingJob -------------------------------------------------------------------
    @operation
    def create_labeling_job(self, LabelingJobName: str, LabelAttributeName: str, InputConfig: dict,
                            OutputConfig: dict, RoleArn: str, HumanTaskConfig: dict,
                            LabelCategoryConfigS3Uri: str | None = None, StoppingConditions: dict | None = None,
                            LabelingJobAlgorithmsConfig: dict | None = None, Tags: list | None = None) -> dict:
        name, attr, htc = LabelingJobName, LabelAttributeName, HumanTaskConfig
        if attr.endswith("-metadata"):
            raise ValidationException(f"LabelAttributeName {attr} is invalid: it cannot end with '-metadata'.")
        if attr.endswith("-ref"):
            raise ValidationException(f"LabelAttributeName {attr} is invalid: only semantic segmentation and "
                                      f"3D point cloud jobs may use a label attribute name ending with '-ref'.")
        if self._gt_job_row(name) is not None:
            raise self._gt_in_use(name)
        task_name = self._gt_task_type(htc)
        task = TASK_TYPES[task_name]
        team = self.labeling_store.query_one("SELECT name FROM workteams WHERE arn=?", (htc["WorkteamArn"],))
        if team is None or not htc["WorkteamArn"].startswith(self.arn("workteam/")):
            raise ValidationException(f"The specified Workteam '{htc['WorkteamArn']}' does not exist or you do "
                                      f"not have access to it.")   # AWS's wording (CreateFlowDefinition)
        tags = {t["Key"]: t["Value"] for t in (Tags or [])}
        simulated = None
        if programmatic.SIMULATED_TAG in tags:
            try:
                simulated = programmatic.parse_simulated_tag(tags[programmatic.SIMULATED_TAG])
            except ValueError as exc:
                raise ValidationException(f"Tag {programmatic.SIMULATED_TAG} is invalid: {exc}.") from None
            if task.kind not in ("classification", "multilabel"):
                raise ValidationException(f"Tag {programmatic.SIMULATED_TAG}: simulated workers answer "
                                          f"classification tasks only, not {task_name}.")
        method = tags.get(CONSOLIDATION_TAG, "dawid-skene")
        if method not in CONSOLIDATION_METHODS:
            raise ValidationException(f"Tag {CONSOLIDATION_TAG} must be one of {list(CONSOLIDATION_METHODS)}.")
        automated_cfg = None
        try:
            tuning = automated.parse_tuning_tag(tags.get(automated.TUNING_TAG, ""))
        except ValueError as exc:
            raise ValidationException(f"Tag {automated.TUNING_TAG} is invalid: {exc}.") from None
        if LabelingJobAlgorithmsConfig is not None:
            spec = LabelingJobAlgorithmsConfig["LabelingJobAlgorithmSpecificationArn"]
            if task.algorithm is None or spec != algorithm_arn(self.region, task.algorithm):
                raise ValidationException(f"LabelingJobAlgorithmSpecificationArn {spec} is not valid for the "
                                          f"{task_name} task type in {self.region}.")
            if task.kind != "classification":
                raise UnsupportedLabelingJob("sagemaker.CreateLabelingJob: automated data labeling is reproduced "
                                             "locally for text and image classification only")
        if not LabelCategoryConfigS3Uri:
            raise ValidationException("LabelCategoryConfigS3Uri is required for built-in task types.")
        try:
            manifest.split_s3_uri(OutputConfig["S3OutputPath"])
        except manifest.ManifestError as exc:
            raise ValidationException(str(exc)) from None

        # read everything from S3 before anything is stored
        label_config = self._gt_read_json_file(LabelCategoryConfigS3Uri, task.min_labels)
        template = self._gt_ui_template(htc["UiConfig"], task_name)
        manifest_uri = InputConfig["DataSource"].get("S3DataSource", {}).get("ManifestS3Uri")
        if not manifest_uri:
            raise UnsupportedLabelingJob("sagemaker.CreateLabelingJob: streaming labeling jobs (SnsDataSource) "
                                         "are not reproduced locally; use S3DataSource.ManifestS3Uri")
        objects = self._gt_read_manifest(manifest_uri)
        labels = ans.label_names(label_config)
        label_field = label_config["labels"] if task.kind == "ner" else labels
        inputs = [{"taskObject": self._gt_task_object(task, o), "labels": label_field} for o in objects]
        try:
            templates.render(template, inputs[0], presign=lambda uri: uri)
        except templates.TemplateError as exc:
            raise ValidationException(str(exc)) from None

        workers_per_object = htc["NumberOfHumanWorkersPerDataObject"]
        if LabelingJobAlgorithmsConfig is not None:
            automated_cfg = {"algorithm": task.algorithm, "target": tuning["target"],
                             "batch": automated.initial_batch(len(objects), tuning["initial"]),
                             "model_arn": self.arn(f"model/{name}-final-active-learning-model")}
        arn = self.arn(f"labeling-job/{name}")
        request = {k: v for k, v in {
            "LabelingJobName": name, "LabelAttributeName": attr, "InputConfig": InputConfig,
            "OutputConfig": OutputConfig, "RoleArn": RoleArn, "LabelCategoryConfigS3Uri": LabelCategoryConfigS3Uri,
            "StoppingConditions": StoppingConditions, "LabelingJobAlgorithmsConfig": LabelingJobAlgorithmsConfig,
            "HumanTaskConfig": htc, "Tags": Tags}.items() if v is not None}
        cfg = {"task_type": task_name, "labels": labels, "label_config": label_config, "attribute": attr,
               "output_path": OutputConfig["S3OutputPath"], "workers_per_object": workers_per_object,
               "time_limit": htc["TaskTimeLimitInSeconds"], "template": template, "workteam": team["name"],
               "stopping": StoppingConditions or {}, "simulated": simulated, "consolidation": method,
               "automated": automated_cfg, "title": htc["TaskTitle"], "description": htc["TaskDescription"]}
        first = set(range(len(objects)))
        if automated_cfg is not None:
            first = sample_initial(len(objects), automated_cfg["batch"], seed=0)
            automated_cfg["validation"] = sorted(first)
        now = time.time()
        with self.labeling_store.transaction() as db:
            if db.execute("SELECT 1 FROM jobs WHERE account=? AND region=? AND name=?",
                          (self.account_id, self.region, name)).fetchone():
                raise self._gt_in_use(name)
            db.execute("INSERT INTO jobs (account, region, name, arn, request, config, status, created, modified, "
                       "reference_code, workteam_arn) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                       (self.account_id, self.region, name, arn, dumps(request), dumps(cfg), "Initializing",
                        now, now, uuid.uuid4().hex, htc["WorkteamArn"]))
            db.executemany("INSERT INTO items VALUES (?,?,?,?,?,NULL,NULL)",
                           [(arn, i, dumps(o), dumps(inp), PENDING if i in first else QUEUED)
                            for i, (o, inp) in enumerate(zip(objects, inputs))])
        if simulated:
            self._gt_ensure_runner(arn)
        return {"LabelingJobArn": arn}

    def _gt_in_use(self, name: str) -> ResourceInUse:
        return ResourceInUse(f"Job name must be unique within an AWS account and region, and a job with this "
                             f"name already exists ({self.arn(f'labeling-job/{name}')})")

    def _gt_task_type(self, htc: dict) -> str:
        pre = htc.get("PreHumanTaskLambdaArn")
        if not pre:
            raise ValidationException("PreHumanTaskLambdaArn is required for built-in task types.")
        try:
            name = parse_lambda_arn(pre, self.region, "PRE")
            acs = (htc.get("AnnotationConsolidationConfig") or {}).get("AnnotationConsolidationLambdaArn")
            if acs is not None and parse_lambda_arn(acs, self.region, "ACS") != name:
                raise TaskTypeError(f"AnnotationConsolidationLambdaArn {acs} does not match the task type of "
                                    f"PreHumanTaskLambdaArn {pre}")
        except TaskTypeError as exc:
            raise ValidationException(f"Invalid task type: {exc}.") from None
        except NotImplementedError as exc:
            raise UnsupportedLabelingJob(f"sagemaker.CreateLabelingJob: {exc}") from None
        return name

    def _gt_ui_template(self, ui: dict, task_name: str) -> str:
        uri, ui_arn = ui.get("UiTemplateS3Uri"), ui.get("HumanTaskUiArn")
        if bool(uri) == bool(ui_arn):
            raise ValidationException("UiConfig must have exactly one of UiTemplateS3Uri and HumanTaskUiArn.")
        if ui_arn:
            if task_name != "NamedEntityRecognition" or ui_arn != human_task_ui_arn(self.region):
                raise ValidationException(f"HumanTaskUiArn {ui_arn} is not valid for the {task_name} task type "
                                          f"in {self.region}.")
            return default_template(task_name)
        return self._gt_read_s3(uri).decode("utf-8", errors="replace")

    def _gt_read_s3(self, uri: str) -> bytes:
        try:
            bucket, key = manifest.split_s3_uri(uri)
        except manifest.ManifestError as exc:
            raise ValidationException(str(exc)) from None
        s3 = self.peers.client("s3")
        try:
            return s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except s3.exceptions.ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            raise ValidationException(f"Cannot read {uri} from Amazon S3 ({code}). Check that the object exists "
                                      f"and the role can read it.") from None

    def _gt_read_json_file(self, uri: str, min_labels: int) -> dict:
        try:
            return manifest.parse_label_categories(self._gt_read_s3(uri), uri, min_labels)
        except manifest.ManifestError as exc:
            raise ValidationException(str(exc)) from None

    def _gt_read_manifest(self, uri: str) -> list[dict]:
        try:
            return manifest.parse_input_manifest(self._gt_read_s3(uri), uri)
        except manifest.ManifestError as exc:
            raise ValidationException(str(exc)) from None

    def _gt_task_object(self, task, obj: dict) -> str:
        if "source" in obj:
            if task.media == "image":
                raise ValidationException("Image task types need 'source-ref' (an S3 URI) in every manifest line.")
            return str(obj["source"])
        if task.media == "text":   # a text object in S3: the worker sees its content
            return self._gt_read_s3(obj["source-ref"]).decode("utf-8", errors="replace")
        try:
            manifest.split_s3_uri(obj["source-ref"])
        except manifest.ManifestError as exc:
            raise ValidationException(str(exc)) from None
        return obj["source-ref"]

    # -- background runner for simulated workers ---------------------------------------------
    def _gt_ensure_runner(self, arn: str) -> None:
        job = self.labeling_engine.job(arn)
        cfg = json.loads(job["config"])
        if job["status"] in TERMINAL or not cfg.get("simulated"):
            return
        key = (str(self.home.resolve()), arn)
        with _runners_lock:
            t = _runners.get(key)
            if t is not None and t.is_alive():
                return
            if job["runner_pid"] and job["runner_pid"] != os.getpid() and pid_alive(job["runner_pid"]):
                return
            with self.labeling_store.transaction() as db:
                db.execute("UPDATE jobs SET runner_pid=? WHERE arn=?", (os.getpid(), arn))
            t = threading.Thread(target=self._gt_run_simulated, args=(arn, cfg["simulated"]),
                                 name=f"labeling-{job['name']}", daemon=True)
            _runners[key] = t
            t.start()

    def _gt_run_simulated(self, arn: str, spec: dict) -> None:
        engine = self.labeling_engine
        try:
            engine.advance(arn)
            programmatic.work(engine, arn, programmatic.simulated_workers(spec), wait=True)
            engine.advance(arn)
        except Exception as exc:   # the job fails with the reason, as AWS reports a failed job
            logger.exception("the simulated workers of labeling job %s failed", arn)
            engine.fail(arn, exc)

    # -- public helpers (local only) ----------------------------------------------------------
    def work_on_labeling_job(self, job_name: str, workers: list, max_tasks: int | None = None) -> int:
        """Let programmatic workers (:mod:`.workers`) answer a job's tasks until none is left for
        them; returns the number of answers. The job then completes if nothing else is open."""
        arn = self._gt_require_job(job_name)["arn"]
        self.labeling_engine.advance(arn)
        return programmatic.work(self.labeling_engine, arn, workers, max_tasks=max_tasks)

    def wait_for_labeling_job(self, job_name: str, timeout: float = 60.0) -> str:
        """Block until the job ends (its simulated workers run in a thread); returns the status."""
        arn = self._gt_require_job(job_name)["arn"]
        deadline = time.time() + timeout
        while True:
            status = self.labeling_engine.advance(arn)
            if status in TERMINAL:
                return status
            self._gt_ensure_runner(arn)
            if time.time() > deadline:
                raise TimeoutError(f"labeling job {job_name} is still {status} after {timeout} s")
            time.sleep(0.05)

    def label_quality_report(self, job_name: str) -> dict:
        """The label-quality report (agreement, per-worker accuracy) of a finished job; the same
        JSON is in S3 under ``<output>/<job>/annotations/label-quality/``."""
        job = self._gt_require_job(job_name)
        cfg = json.loads(job["config"])
        if "quality" not in cfg:
            raise ValidationException(f"Labeling job {job_name} has not finished: it has no label-quality report.")
        return cfg["quality"]

    def _gt_require_job(self, name: str):
        row = self._gt_job_row(name)
        if row is None:
            raise ResourceNotFound(NOT_FOUND)
        return row

    def _gt_job_row(self, name: str):
        return self.labeling_store.query_one("SELECT * FROM jobs WHERE account=? AND region=? AND name=?",
                                             (self.account_id, self.region, name))

    # -- Describe / List / Stop -------------------------------------------------------------
    def _gt_summary_counters(self, row) -> dict:
        return self.labeling_engine.counters(row["arn"])

    def _gt_output(self, row) -> dict | None:
        if row["status"] not in ("Completed", "Stopped"):
            return None
        cfg = json.loads(row["config"])
        out = {"OutputDatasetS3Uri": manifest.output_manifest_uri(cfg["output_path"], row["name"])}
        if row["final_model_arn"]:
            out["FinalActiveLearningModelArn"] = row["final_model_arn"]
        return out

    @operation
    def describe_labeling_job(self, LabelingJobName: str) -> dict:
        row = self._gt_require_job(LabelingJobName)
        if row["status"] not in TERMINAL:
            self._gt_ensure_runner(row["arn"])
            self.labeling_engine.advance(row["arn"])
            row = self._gt_job_row(LabelingJobName)
        req = json.loads(row["request"])
        out = {
            "LabelingJobStatus": row["status"], "LabelCounters": self._gt_summary_counters(row),
            "CreationTime": _dt(row["created"]), "LastModifiedTime": _dt(row["modified"]),
            "JobReferenceCode": row["reference_code"], "LabelingJobName": row["name"],
            "LabelingJobArn": row["arn"],
        }
        for key in ("LabelAttributeName", "InputConfig", "OutputConfig", "RoleArn", "LabelCategoryConfigS3Uri",
                    "StoppingConditions", "LabelingJobAlgorithmsConfig", "HumanTaskConfig", "Tags"):
            if key in req:
                out[key] = req[key]
        if row["failure_reason"]:
            out["FailureReason"] = row["failure_reason"]
        output = self._gt_output(row)
        if output:
            out["LabelingJobOutput"] = output
        return out

    def _gt_advanced_jobs(self, sql: str, args: tuple) -> list:
        """The jobs a query selects, each moved on first (a status never depends on which
        operation reads it)."""
        rows = self.labeling_store.query(sql, args)
        if any(r["status"] not in TERMINAL for r in rows):
            for r in rows:
                if r["status"] not in TERMINAL:
                    self._gt_ensure_runner(r["arn"])
                    self.labeling_engine.advance(r["arn"])
            rows = self.labeling_store.query(sql, args)
        return rows

    @operation
    def list_labeling_jobs(self, CreationTimeAfter=None, CreationTimeBefore=None, LastModifiedTimeAfter=None,
                           LastModifiedTimeBefore=None, MaxResults: int | None = None, NextToken: str | None = None,
                           NameContains: str | None = None, SortBy: str | None = None, SortOrder: str | None = None,
                           StatusEquals: str | None = None) -> dict:
        rows = self._gt_advanced_jobs("SELECT * FROM jobs WHERE account=? AND region=?", (self.account_id, self.region))
        rows = [r for r in rows if _within(r["created"], CreationTimeAfter, CreationTimeBefore)
                and _within(r["modified"], LastModifiedTimeAfter, LastModifiedTimeBefore)
                and (not NameContains or NameContains.lower() in r["name"].lower())
                and (not StatusEquals or r["status"] == StatusEquals)]
        key = {"Name": lambda r: r["name"], "Status": lambda r: r["status"]}.get(SortBy or "", lambda r: r["created"])
        rows.sort(key=key, reverse=(SortOrder or "Descending") == "Descending")
        summaries = []
        for r in rows:
            req = json.loads(r["request"])
            htc = req["HumanTaskConfig"]
            s = {"LabelingJobName": r["name"], "LabelingJobArn": r["arn"], "CreationTime": _dt(r["created"]),
                 "LastModifiedTime": _dt(r["modified"]), "LabelingJobStatus": r["status"],
                 "LabelCounters": self._gt_summary_counters(r), "WorkteamArn": htc["WorkteamArn"],
                 "PreHumanTaskLambdaArn": htc["PreHumanTaskLambdaArn"], "InputConfig": req["InputConfig"]}
            acs = (htc.get("AnnotationConsolidationConfig") or {}).get("AnnotationConsolidationLambdaArn")
            if acs:
                s["AnnotationConsolidationLambdaArn"] = acs
            if r["failure_reason"]:
                s["FailureReason"] = r["failure_reason"]
            output = self._gt_output(r)
            if output:
                s["LabelingJobOutput"] = output
            summaries.append(s)
        return self._labeling_page(summaries, "LabelingJobSummaryList", NextToken, MaxResults)

    @operation
    def list_labeling_jobs_for_workteam(self, WorkteamArn: str, MaxResults: int | None = None,
                                        NextToken: str | None = None, CreationTimeAfter=None, CreationTimeBefore=None,
                                        JobReferenceCodeContains: str | None = None, SortBy: str | None = None,
                                        SortOrder: str | None = None) -> dict:
        if self.labeling_store.query_one("SELECT 1 FROM workteams WHERE arn=?", (WorkteamArn,)) is None:
            raise ResourceNotFound(NOT_FOUND)
        rows = self._gt_advanced_jobs("SELECT * FROM jobs WHERE workteam_arn=?", (WorkteamArn,))
        rows = [r for r in rows if _within(r["created"], CreationTimeAfter, CreationTimeBefore)
                and (not JobReferenceCodeContains or JobReferenceCodeContains in r["reference_code"])]
        rows.sort(key=lambda r: r["created"], reverse=(SortOrder or "Descending") == "Descending")
        out = []
        for r in rows:
            c = self._gt_summary_counters(r)
            pending = self.labeling_store.query_one(
                "SELECT COUNT(*) FROM items WHERE job_arn=? AND state=?", (r["arn"], PENDING))[0]
            out.append({"LabelingJobName": r["name"], "JobReferenceCode": r["reference_code"],
                        "WorkRequesterAccountId": r["account"], "CreationTime": _dt(r["created"]),
                        "LabelCounters": {"HumanLabeled": c["HumanLabeled"], "PendingHuman": pending,
                                          "Total": c["TotalLabeled"] + c["FailedNonRetryableError"]
                                          + c["Unlabeled"]},
                        "NumberOfHumanWorkersPerDataObject":
                            json.loads(r["config"])["workers_per_object"]})
        return self._labeling_page(out, "LabelingJobSummaryList", NextToken, MaxResults)

    @operation
    def stop_labeling_job(self, LabelingJobName: str) -> dict:
        row = self._gt_require_job(LabelingJobName)
        if row["status"] in ("Initializing", "InProgress"):
            self.labeling_engine.stop(row["arn"])
        return {}


def _within(ts: float, after, before) -> bool:
    def as_ts(v):
        if isinstance(v, datetime):
            return (v if v.tzinfo else v.replace(tzinfo=timezone.utc)).timestamp()
        return float(v)
    return (after is None or ts > as_ts(after)) and (before is None or ts < as_ts(before))
