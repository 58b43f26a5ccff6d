"""SageMaker Autopilot (AutoML V2, tabular): CreateAutoMLJobV2, DescribeAutoMLJobV2,
ListCandidatesForAutoMLJob, StopAutoMLJob, ListAutoMLJobs.

``CreateAutoMLJobV2`` checks the request, records the job and starts the candidate search
(:mod:`.automl_runner`) in its own detached process, which reads the input channels
through S3, moves the job through ``Starting → AnalyzingData → FeatureEngineering →
ModelTuning → Completed`` (or ``MaxCandidatesReached``, ``MaxAutoMLJobRuntimeReached``,
``Stopped``, ``Failed``) and writes each candidate's ``model.tar.gz`` to
``<S3OutputPath>/<job>/tuning/<candidate>/output/``.

Differences from AWS, by design: candidates are scored in the job's process (scikit-learn
and XGBoost pipelines, cross-validated) rather than by separate training and processing
jobs, so the ``CandidateSteps`` name steps that ``DescribeTrainingJob`` does not know; no
explainability or model-insights reports, no data-exploration notebooks; only the tabular
problem type; ``MaxRuntimePerTrainingJobInSeconds`` is not enforced within a candidate and
``MaxAutoMLJobRuntimeInSeconds`` is checked between candidates (the one being scored when
the time is up runs to its end);
candidates are scored by 3-fold cross-validation on the training channel (or on the
validation channel when there is one), not on a ``DataSplitConfig.ValidationFraction`` split;
``MaxCandidates`` defaults to 10 (AWS: 250).
"""
from __future__ import annotations

import os
import time

from local_backends.core.base import operation
from local_backends.core.errors import (NotImplementedByBackend, ResourceInUse, ResourceNotFound,
                                        ValidationException)
from local_backends.core.processes import process_token
from local_backends.core.times import utc_datetime as _dt
from local_backends.sagemaker.listing import list_page, sorted_page

from .automl_runner import DEFAULT_OBJECTIVE, METRICS, MINIMIZE
from .job_store import BackendStore, JobStore, spawn_detached


_BOOTSTRAP = (
    "import sys\n"
    "from local_backends.sagemaker.automl_runner import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)
CSV_TYPES = ("text/csv", "text/csv;header=present")
PARQUET_TYPE = "x-application/vnd.amazon+parquet"


SCHEMA = """
CREATE TABLE IF NOT EXISTS automl_jobs (
    account        TEXT NOT NULL,
    region         TEXT NOT NULL,
    name           TEXT NOT NULL,
    arn            TEXT NOT NULL,
    request        TEXT NOT NULL,
    status         TEXT NOT NULL,
    secondary      TEXT NOT NULL,
    resolved       TEXT,             -- {ProblemType, MetricName, CompletionCriteria}
    failure_reason TEXT,
    creation_time  REAL NOT NULL,
    last_modified  REAL NOT NULL,
    end_time       REAL,
    pid            INTEGER,
    pid_token      TEXT,
    stop_requested INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (account, region, name)
);
CREATE TABLE IF NOT EXISTS automl_candidates (
    account        TEXT NOT NULL,
    region         TEXT NOT NULL,
    job            TEXT NOT NULL,
    seq            INTEGER NOT NULL,
    name           TEXT NOT NULL,
    status         TEXT NOT NULL,
    family         TEXT,
    params         TEXT,
    metrics        TEXT,
    objective      REAL,
    containers     TEXT,
    failure_reason TEXT,
    creation_time  REAL NOT NULL,
    end_time       REAL,
    last_modified  REAL NOT NULL,
    PRIMARY KEY (account, region, job, seq)
);
"""


class UnsupportedAutoMLJob(NotImplementedByBackend):
    """An Autopilot feature the local backend does not run (non-tabular problem types)."""

    def __init__(self, message: str) -> None:
        super().__init__("sagemaker", "CreateAutoMLJobV2", message=message)


def _not_found(name: str) -> ResourceNotFound:
    return ResourceNotFound(f"Could not find AutoML job with name {name}.")


_CANDIDATE_SORT_KEYS = {"CreationTime": lambda c: (c["creation_time"], c["seq"]),
                        "Status": lambda c: (c["status"], c["seq"]),
                        "FinalObjectiveMetricValue": lambda c: (c["objective"], c["seq"])}


class AutoMLStore(JobStore):
    """AutoML jobs and their candidates, in ``<home>/sagemaker/automl.sqlite3``."""

    FILE, SCHEMA, TABLE, JOBS_DIR, PROCESS = "automl.sqlite3", SCHEMA, "automl_jobs", "automl-jobs", "AutoML"
    JSON_COLUMNS = ("request", "resolved")
    STATUS_FIELDS = ("status", "secondary")
    CHILD_TABLE, CHILD_JOB, CHILD_JSON = "automl_candidates", "job", ("params", "metrics", "containers")

    def insert(self, account: str, region: str, name: str, arn: str, request: dict) -> bool:
        return self._insert(account, region, name, arn, request, time.time(), secondary="Starting")

    def set_process(self, account: str, region: str, name: str, pid: int | None = None) -> None:
        pid = pid or os.getpid()
        self.update(account, region, name, pid=pid, pid_token=process_token(pid))

    def put_candidate(self, account: str, region: str, job: str, seq: int, **fields) -> None:
        self._put_child(account, region, job, seq, {**fields, "last_modified": time.time()})

    def candidates(self, account: str, region: str, job: str) -> list[dict]:
        return self._children(account, region, job)


class AutoMLJobs:
    """The Autopilot (AutoML V2) operations of the local SageMaker backend (a mixin)."""

    automl_store = BackendStore(AutoMLStore)

    # -- CreateAutoMLJobV2 ------------------------------------------------------------------
    @operation
    def create_auto_ml_job_v2(self, AutoMLJobName: str, AutoMLJobInputDataConfig: list,
                              OutputDataConfig: dict, AutoMLProblemTypeConfig: dict, RoleArn: str,
                              Tags: list | None = None, SecurityConfig: dict | None = None,
                              AutoMLJobObjective: dict | None = None,
                              ModelDeployConfig: dict | None = None,
                              DataSplitConfig: dict | None = None,
                              AutoMLComputeConfig: dict | None = None) -> dict:
        name = AutoMLJobName
        if "TabularJobConfig" not in AutoMLProblemTypeConfig:
            kinds = sorted(AutoMLProblemTypeConfig)
            raise UnsupportedAutoMLJob(f"sagemaker.CreateAutoMLJobV2: problem type {kinds} is not run "
                                       f"by the local backend (only TabularJobConfig)")
        if len(AutoMLProblemTypeConfig) != 1:
            raise ValidationException("AutoMLProblemTypeConfig must hold exactly one problem type config.")
        tabular = AutoMLProblemTypeConfig["TabularJobConfig"]
        self._check_automl_channels(AutoMLJobInputDataConfig)
        if not OutputDataConfig["S3OutputPath"].startswith("s3://"):
            raise ValidationException(f"Invalid S3OutputPath {OutputDataConfig['S3OutputPath']!r}: it "
                                      f"must be an s3:// URI.")
        problem = tabular.get("ProblemType")
        metric = (AutoMLJobObjective or {}).get("MetricName")
        if problem and metric and metric not in METRICS[problem]:
            raise ValidationException(f"The objective metric {metric} is not valid for the problem type "
                                      f"{problem}: use one of "
                                      f"{[m for m in METRICS[problem] if m != 'LogLoss']}.")
        if metric and not problem and metric not in {m for ms in METRICS.values() for m in ms}:
            raise ValidationException(f"The objective metric {metric} is not supported for tabular "
                                      f"problems.")
        if ModelDeployConfig and (ModelDeployConfig.get("AutoGenerateEndpointName")
                                  or ModelDeployConfig.get("EndpointName")):
            raise UnsupportedAutoMLJob("sagemaker.CreateAutoMLJobV2: ModelDeployConfig (deploying the "
                                       "best candidate) is not run by the local backend; deploy it "
                                       "with CreateModel/CreateEndpoint")
        fraction = (DataSplitConfig or {}).get("ValidationFraction")
        if fraction is not None and not 0 <= fraction <= 1:
            raise ValidationException("DataSplitConfig.ValidationFraction must be between 0 and 1.")
        request = {"AutoMLJobInputDataConfig": AutoMLJobInputDataConfig,
                   "OutputDataConfig": OutputDataConfig, "AutoMLProblemTypeConfig": AutoMLProblemTypeConfig,
                   "RoleArn": RoleArn, "Tags": Tags or [],
                   "DataSplitConfig": DataSplitConfig or {"ValidationFraction": 0.2}}
        for key, value in (("AutoMLJobObjective", AutoMLJobObjective), ("SecurityConfig", SecurityConfig),
                           ("ModelDeployConfig", ModelDeployConfig),
                           ("AutoMLComputeConfig", AutoMLComputeConfig)):
            if value:
                request[key] = value
        arn = self.arn(f"automl-job/{name}")
        if not self.automl_store.insert(self.account_id, self.region, name, arn, request):
            raise ResourceInUse(f"Resource Already Exists: Auto ML Job with name {name} already exists. "
                                f"Choose a different name.")
        self._spawn_automl(name)
        return {"AutoMLJobArn": arn}

    @staticmethod
    def _check_automl_channels(channels: list[dict]) -> None:
        kinds = [c.get("ChannelType", "training") for c in channels]
        if kinds.count("training") != 1 or kinds.count("validation") > 1:
            raise ValidationException("AutoMLJobInputDataConfig needs exactly one channel of type "
                                      "training and at most one of type validation.")
        for ch in channels:
            source = (ch.get("DataSource") or {}).get("S3DataSource")
            if source is None:
                raise ValidationException("Each AutoMLJobInputDataConfig channel needs a "
                                          "DataSource.S3DataSource.")
            if not source["S3Uri"].startswith("s3://"):
                raise ValidationException(f"Invalid S3Uri {source['S3Uri']!r}: it must be an s3:// URI.")
            if source["S3DataType"] != "S3Prefix":
                raise UnsupportedAutoMLJob(f"sagemaker.CreateAutoMLJobV2: S3DataType "
                                           f"{source['S3DataType']} is not read by the local backend")
            ctype = (ch.get("ContentType") or "text/csv;header=present").replace(" ", "").lower()
            if ctype not in CSV_TYPES and ctype != PARQUET_TYPE:
                raise ValidationException(f"ContentType {ch.get('ContentType')} is not supported: use "
                                          f"text/csv;header=present or {PARQUET_TYPE}.")

    def _spawn_automl(self, name: str) -> None:
        store = self.automl_store
        try:
            # one "instance" per job: OpenMP pools (histogram gradient boosting, XGBoost) of one
            # thread, which also spares the other jobs of the machine the pools' busy-waiting
            proc = spawn_detached(self, store.job_dir(self.region, name), _BOOTSTRAP, name, "automl.log",
                                  env_defaults={"OMP_NUM_THREADS": "1"})
        except OSError as exc:
            store.update(self.account_id, self.region, name, status="Failed", secondary="Failed",
                         end_time=time.time(),
                         failure_reason=f"InternalServerError: cannot start the local AutoML process: {exc}")
            return
        store.set_process(self.account_id, self.region, name, proc.pid)

    # -- DescribeAutoMLJobV2 ----------------------------------------------------------------
    @operation
    def describe_auto_ml_job_v2(self, AutoMLJobName: str) -> dict:
        rec = self.automl_store.get(self.account_id, self.region, AutoMLJobName)
        if rec is None:
            raise _not_found(AutoMLJobName)
        req = rec["request"]
        out = {"AutoMLJobName": rec["name"], "AutoMLJobArn": rec["arn"],
               "AutoMLJobInputDataConfig": req["AutoMLJobInputDataConfig"],
               "OutputDataConfig": req["OutputDataConfig"], "RoleArn": req["RoleArn"]}
        resolved = rec["resolved"]
        metric = (req.get("AutoMLJobObjective") or {}).get("MetricName") or (resolved or {}).get("MetricName")
        if metric:
            out["AutoMLJobObjective"] = {"MetricName": metric}
        out["AutoMLProblemTypeConfig"] = req["AutoMLProblemTypeConfig"]
        out["AutoMLProblemTypeConfigName"] = "Tabular"
        out["CreationTime"] = _dt(rec["creation_time"])
        if rec["end_time"] is not None:
            out["EndTime"] = _dt(rec["end_time"])
        out["LastModifiedTime"] = _dt(rec["last_modified"])
        if rec["failure_reason"]:
            out["FailureReason"] = rec["failure_reason"]
        candidates = self.automl_store.candidates(self.account_id, self.region, rec["name"])
        failed = [c for c in candidates if c["status"] == "Failed"]
        if failed:
            out["PartialFailureReasons"] = [{"PartialFailureMessage": f"{c['name']}: {c['failure_reason']}"}
                                            for c in failed[:5]]
        best = self._best_candidate(candidates, metric)
        if best is not None:
            out["BestCandidate"] = self._candidate(rec, best, metric)
        out["AutoMLJobStatus"] = rec["status"]
        out["AutoMLJobSecondaryStatus"] = rec["secondary"]
        if resolved:
            out["ResolvedAttributes"] = {
                "AutoMLJobObjective": {"MetricName": resolved["MetricName"]},
                "CompletionCriteria": resolved["CompletionCriteria"],
                "AutoMLProblemTypeResolvedAttributes": {
                    "TabularResolvedAttributes": {"ProblemType": resolved["ProblemType"]}}}
        for key in ("ModelDeployConfig", "DataSplitConfig", "SecurityConfig", "AutoMLComputeConfig"):
            if req.get(key):
                out[key] = req[key]
        return out

    @staticmethod
    def _best_candidate(candidates: list[dict], metric: str | None) -> dict | None:
        done = [c for c in candidates if c["status"] == "Completed" and c["objective"] is not None]
        if not done or metric is None:
            return None
        return (min if metric in MINIMIZE else max)(done, key=lambda c: c["objective"])

    def _candidate(self, job: dict, cand: dict, metric: str | None) -> dict:
        out = {"CandidateName": cand["name"]}
        if cand["objective"] is not None and metric:
            out["FinalAutoMLJobObjectiveMetric"] = {
                "Type": "Minimize" if metric in MINIMIZE else "Maximize", "MetricName": metric,
                "Value": cand["objective"], "StandardMetricName": metric}
        out["ObjectiveStatus"] = {"Completed": "Succeeded", "Failed": "Failed"}.get(cand["status"], "Pending")
        out["CandidateSteps"] = [{
            "CandidateStepType": "AWS::SageMaker::TrainingJob",
            "CandidateStepArn": self.arn(f"training-job/{cand['name']}"),
            "CandidateStepName": cand["name"]}]
        out["CandidateStatus"] = cand["status"]
        if cand["containers"]:
            out["InferenceContainers"] = cand["containers"]
        out["CreationTime"] = _dt(cand["creation_time"])
        if cand["end_time"] is not None:
            out["EndTime"] = _dt(cand["end_time"])
        out["LastModifiedTime"] = _dt(cand["last_modified"])
        if cand["failure_reason"]:
            out["FailureReason"] = cand["failure_reason"]
        if cand["metrics"]:
            out["CandidateProperties"] = {"CandidateMetrics": [
                {"MetricName": k, "StandardMetricName": k, "Value": v, "Set": "Validation"}
                if k != "LogLoss" else {"StandardMetricName": k, "Value": v, "Set": "Validation"}
                for k, v in cand["metrics"].items()]}
        return out

    # -- ListCandidatesForAutoMLJob ---------------------------------------------------------
    @operation
    def list_candidates_for_auto_ml_job(self, AutoMLJobName: str, StatusEquals: str | None = None,
                                        CandidateNameEquals: str | None = None,
                                        SortOrder: str | None = None, SortBy: str | None = None,
                                        MaxResults: int | None = None, NextToken: str | None = None) -> dict:
        rec = self.automl_store.get(self.account_id, self.region, AutoMLJobName)
        if rec is None:
            raise _not_found(AutoMLJobName)
        metric = (rec["request"].get("AutoMLJobObjective") or {}).get("MetricName") or \
            (rec["resolved"] or {}).get("MetricName")
        cands = self.automl_store.candidates(self.account_id, self.region, rec["name"])
        if StatusEquals:
            cands = [c for c in cands if c["status"] == StatusEquals]
        if CandidateNameEquals:
            cands = [c for c in cands if c["name"] == CandidateNameEquals]
        page, token = sorted_page(cands, _CANDIDATE_SORT_KEYS, sort_by=SortBy or "CreationTime",
                                  sort_order=SortOrder, next_token=NextToken, max_results=MaxResults)
        out = {"Candidates": [self._candidate(rec, c, metric) for c in page]}
        if token:
            out["NextToken"] = token
        return out

    # -- StopAutoMLJob ----------------------------------------------------------------------
    @operation
    def stop_auto_ml_job(self, AutoMLJobName: str) -> dict:
        self.automl_store.stop(self.account_id, self.region, AutoMLJobName, _not_found(AutoMLJobName),
                               "AutoML job")
        return {}

    # -- ListAutoMLJobs ---------------------------------------------------------------------
    @operation
    def list_auto_ml_jobs(self, **params) -> dict:
        """``ListAutoMLJobs``: the parameters of :func:`.listing.list_page` (by name, descending)."""
        page, token = list_page(self.automl_store.all(self.account_id, self.region), default_sort="Name",
                                default_order="Descending", **params)
        summaries = []
        for j in page:
            s = {"AutoMLJobName": j["name"], "AutoMLJobArn": j["arn"], "AutoMLJobStatus": j["status"],
                 "AutoMLJobSecondaryStatus": j["secondary"], "CreationTime": _dt(j["creation_time"])}
            if j["end_time"] is not None:
                s["EndTime"] = _dt(j["end_time"])
            s["LastModifiedTime"] = _dt(j["last_modified"])
            if j["failure_reason"]:
                s["FailureReason"] = j["failure_reason"]
            summaries.append(s)
        out = {"AutoMLJobSummaries": summaries}
        if token:
            out["NextToken"] = token
        return out


__all__ = ["AutoMLJobs", "AutoMLStore", "DEFAULT_OBJECTIVE", "UnsupportedAutoMLJob"]
