"""SageMaker hyperparameter tuning jobs: CreateHyperParameterTuningJob,
DescribeHyperParameterTuningJob, ListTrainingJobsForHyperParameterTuningJob,
StopHyperParameterTuningJob, ListHyperParameterTuningJobs.

``CreateHyperParameterTuningJob`` checks the request, records the job and starts the
tuner in its own detached process (it survives the caller, as the job does on AWS). The
tuner (:class:`.tuning_runner.Tuner`) asks the strategy (:mod:`.tuning_strategies`) for
combinations and runs each as a real training job through the backend's own operations
(``create_training_job`` / ``describe_training_job`` / ``stop_training_job``, the AWS
shapes), named ``<tuning-job>-NNN-<8 hex>`` as AWS names them, at most
``MaxParallelTrainingJobs`` at a time. A trial's objective is the value of the objective
metric in its ``FinalMetricDataList``.

Intermediate objective values (for ``TrainingJobEarlyStoppingType: Auto`` and for
Hyperband) are the successive matches of the objective's metric regex in the trial's
CloudWatch Logs stream (``/aws/sagemaker/TrainingJobs``) — the lines AWS derives the
training job's metrics from — read as the job runs. Early stopping follows AWS's median
rule (:func:`.tuning_strategies.median_rule_stops`); a trial stopped early is ``Stopped``
and keeps the objective value it had reached.
"""
from __future__ import annotations

import hashlib
import json
import time

from local_backends.core.base import operation
from local_backends.core.errors import (NotImplementedByBackend, ResourceInUse,
                                        ResourceNotFound, ValidationException)
from local_backends.core.processes import process_token
from local_backends.core.times import utc_datetime as _dt
from local_backends.sagemaker.listing import list_page, sorted_page

from . import blazingtext_algo, container, xgboost_algo
from .job_store import ACTIVE, BackendStore, JobStore, jsonable, spawn_detached
from .tuning_strategies import RangeError, make_strategy, parse_ranges



SCHEMA = """
CREATE TABLE IF NOT EXISTS tuning_jobs (
    account        TEXT NOT NULL,
    region         TEXT NOT NULL,
    name           TEXT NOT NULL,
    arn            TEXT NOT NULL,
    request        TEXT NOT NULL,
    status         TEXT NOT NULL,
    failure_reason TEXT,
    completion     TEXT,              -- TuningJobCompletionDetails as JSON
    creation_time  REAL NOT NULL,
    last_modified  REAL NOT NULL,
    end_time       REAL,
    pid            INTEGER,
    pid_token      TEXT,
    stop_requested INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (account, region, name)
);
CREATE TABLE IF NOT EXISTS tuning_trials (
    account        TEXT NOT NULL,
    region         TEXT NOT NULL,
    tuning_job     TEXT NOT NULL,
    seq            INTEGER NOT NULL,
    name           TEXT NOT NULL,
    arn            TEXT NOT NULL,
    tuned          TEXT NOT NULL,     -- TunedHyperParameters as JSON
    status         TEXT NOT NULL,
    objective_status TEXT NOT NULL,
    objective      REAL,
    failure_reason TEXT,
    creation_time  REAL NOT NULL,
    start_time     REAL,
    end_time       REAL,
    early_stopped  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (account, region, tuning_job, seq)
);
"""


_BOOTSTRAP = (
    "import sys\n"
    "from local_backends.sagemaker.tuning_runner import tuner_main\n"
    "sys.exit(tuner_main(sys.argv[1:]))\n"
)


class UnsupportedTuningJob(NotImplementedByBackend):
    """A tuning-job feature the local backend does not run (warm start, several definitions)."""

    def __init__(self, message: str) -> None:
        super().__init__("sagemaker", "CreateHyperParameterTuningJob", message=message)


def _not_found(name: str) -> ResourceNotFound:
    return ResourceNotFound(f"Amazon SageMaker can't find a tuning job with name {name}")


_TRIAL_SORT_KEYS = {"Name": lambda t: (t["name"],),
                    "CreationTime": lambda t: (t["creation_time"], t["seq"]),
                    "Status": lambda t: (t["status"], t["name"]),
                    "FinalObjectiveMetricValue": lambda t: (t["objective"], t["name"])}


# ---------------------------------------------------------------------------------------
class TuningStore(JobStore):
    """Tuning jobs and their trials, in ``<home>/sagemaker/tuning.sqlite3``."""

    FILE, SCHEMA, TABLE, JOBS_DIR, PROCESS = "tuning.sqlite3", SCHEMA, "tuning_jobs", "tuning-jobs", "tuner"
    JSON_COLUMNS = ("request", "completion")
    CHILD_TABLE, CHILD_JOB, CHILD_JSON = "tuning_trials", "tuning_job", ("tuned",)

    def insert(self, account: str, region: str, name: str, arn: str, request: dict, now: float) -> bool:
        return self._insert(account, region, name, arn, request, now)

    def put_trial(self, account: str, region: str, tuning_job: str, seq: int, **fields) -> None:
        self._put_child(account, region, tuning_job, seq, fields)

    def trials(self, account: str, region: str, tuning_job: str) -> list[dict]:
        return self._children(account, region, tuning_job)


# ---------------------------------------------------------------------------------------
def objective_metrics(definition: dict) -> list[str]:
    """The metric names a training-job definition reports (its regexes, or built-in XGBoost's)."""
    spec = definition.get("AlgorithmSpecification") or {}
    names = [m["Name"] for m in spec.get("MetricDefinitions") or []]
    if not names:
        try:
            algorithm = container.resolve_algorithm(spec, definition.get("StaticHyperParameters") or {})
        except container.UnsupportedAlgorithm:
            return names
        if algorithm.kind == "xgboost":
            names = [m["Name"] for m in xgboost_algo.metric_definitions()]
        elif algorithm.kind == "blazingtext":
            names = [m["Name"] for m in blazingtext_algo.metric_definitions()]
    return names


def trial_job_name(tuning_job: str, seq: int, params: dict[str, str]) -> str:
    """``<tuning-job>-NNN-<8 hex>``, as AWS names a tuning job's training jobs."""
    digest = hashlib.sha1(json.dumps([tuning_job, seq, params], sort_keys=True).encode()).hexdigest()
    return f"{tuning_job}-{seq:03d}-{digest[:8]}"


_RESOURCE_KEYS = ("InstanceType", "InstanceCount", "VolumeSizeInGB", "VolumeKmsKeyId")
_DEFINITION_KEYS = ("InputDataConfig", "VpcConfig", "EnableNetworkIsolation", "Environment",
                    "EnableInterContainerTrafficEncryption", "EnableManagedSpotTraining",
                    "CheckpointConfig", "RetryStrategy")


def trial_request(definition: dict, name: str, params: dict[str, str], objective_metric: str) -> dict:
    """The ``CreateTrainingJob`` request of one trial: the ``TrainingJobDefinition`` with its
    static hyperparameters and the trial's ``params``. Built-in algorithms also get
    ``_tuning_objective_metric``, as AWS passes it to them."""
    static = dict(definition.get("StaticHyperParameters") or {})
    hps = {**static, **params}
    if "sagemaker_program" not in container.decode_hyperparameters(static):
        hps["_tuning_objective_metric"] = objective_metric
    spec = {k: v for k, v in definition["AlgorithmSpecification"].items() if v is not None}
    req = {"TrainingJobName": name, "RoleArn": definition["RoleArn"], "AlgorithmSpecification": spec,
           "HyperParameters": hps, "OutputDataConfig": definition["OutputDataConfig"],
           "StoppingCondition": definition["StoppingCondition"]}
    resource = definition.get("ResourceConfig") or definition.get("HyperParameterTuningResourceConfig")
    if resource:
        req["ResourceConfig"] = {k: resource[k] for k in _RESOURCE_KEYS if k in resource}
    for key in _DEFINITION_KEYS:
        if definition.get(key) is not None:
            req[key] = definition[key]
    return req


class TuningJobs:
    """The hyperparameter-tuning-job operations of the local SageMaker backend (a mixin)."""

    tuning_store = BackendStore(TuningStore)

    # -- CreateHyperParameterTuningJob ---------------------------------------------------
    @operation
    def create_hyper_parameter_tuning_job(self, HyperParameterTuningJobName: str,
                                          HyperParameterTuningJobConfig: dict,
                                          TrainingJobDefinition: dict | None = None,
                                          TrainingJobDefinitions: list | None = None,
                                          WarmStartConfig: dict | None = None,
                                          Tags: list | None = None,
                                          Autotune: dict | None = None) -> dict:
        name = HyperParameterTuningJobName
        config = dict(HyperParameterTuningJobConfig)
        if TrainingJobDefinitions:
            raise UnsupportedTuningJob("sagemaker.CreateHyperParameterTuningJob: several "
                                       "TrainingJobDefinitions are not run by the local backend "
                                       "(give one TrainingJobDefinition)")
        if WarmStartConfig or Autotune:
            raise UnsupportedTuningJob("sagemaker.CreateHyperParameterTuningJob: WarmStartConfig and "
                                       "Autotune are not run by the local backend")
        if TrainingJobDefinition is None:
            raise ValidationException("Either TrainingJobDefinition or TrainingJobDefinitions must "
                                      "be specified.")
        definition = dict(TrainingJobDefinition)
        self._check_tuning_request(config, definition)
        config.setdefault("TrainingJobEarlyStoppingType", "Off")
        request = jsonable({"HyperParameterTuningJobConfig": config,
                             "TrainingJobDefinition": definition, "Tags": Tags or []})
        arn = self.arn(f"hyper-parameter-tuning-job/{name}")
        store = self.tuning_store
        if not store.insert(self.account_id, self.region, name, arn, request, time.time()):
            raise ResourceInUse(f"Hyperparameter tuning job {name} already exists ({arn}).")
        self._spawn_tuner(name)
        return {"HyperParameterTuningJobArn": arn}

    def _check_tuning_request(self, config: dict, definition: dict) -> None:
        static = definition.get("StaticHyperParameters") or {}
        spec = definition.get("AlgorithmSpecification") or {}
        if not spec.get("TrainingImage") and not spec.get("AlgorithmName"):
            raise ValidationException("Either AlgorithmName or TrainingImage must be specified in "
                                      "AlgorithmSpecification.")
        try:
            container.resolve_algorithm(spec, static)
        except container.UnsupportedAlgorithm as exc:
            raise UnsupportedTuningJob(f"sagemaker.CreateHyperParameterTuningJob: {exc}") from None
        objective = config.get("HyperParameterTuningJobObjective") or definition.get("TuningObjective")
        if not objective:
            raise ValidationException("HyperParameterTuningJobObjective must be specified.")
        available = objective_metrics(definition)
        if objective["MetricName"] not in available:
            raise ValidationException(
                f"The objective metric for the hyperparameter tuning job, [{objective['MetricName']}], "
                f"is not one of the metric definitions of the training job definition: "
                f"{available or '[] (define it in AlgorithmSpecification.MetricDefinitions)'}.")
        ranges = config.get("ParameterRanges") or definition.get("HyperParameterRanges")
        try:
            parsed = parse_ranges(ranges)
        except RangeError as exc:
            raise ValidationException(str(exc)) from None
        both = sorted({r.name for r in parsed} & set(static))
        if both:
            raise ValidationException(f"Hyperparameters {both} are both static and tunable: a "
                                      f"hyperparameter is either one or the other.")
        limits = config["ResourceLimits"]
        strategy = config["Strategy"]
        if strategy != "Grid" and not limits.get("MaxNumberOfTrainingJobs"):
            raise ValidationException("ResourceLimits.MaxNumberOfTrainingJobs must be specified "
                                      "unless the strategy is Grid.")
        if strategy == "Hyperband" and config.get("TrainingJobEarlyStoppingType", "Off") != "Off":
            raise ValidationException("TrainingJobEarlyStoppingType must be Off when the strategy is "
                                      "Hyperband (Hyperband stops training jobs itself).")
        try:
            make_strategy({**config, "ParameterRanges": ranges,
                           "HyperParameterTuningJobObjective": objective}, static)
        except RangeError as exc:
            raise ValidationException(str(exc)) from None
        for ch in definition.get("InputDataConfig") or []:
            if "S3DataSource" not in (ch.get("DataSource") or {}):
                raise UnsupportedTuningJob("sagemaker.CreateHyperParameterTuningJob: only S3 data "
                                           "sources run locally")

    def _spawn_tuner(self, name: str) -> None:
        store = self.tuning_store
        try:
            proc = spawn_detached(self, store.job_dir(self.region, name), _BOOTSTRAP, name, "tuner.log")
        except OSError as exc:
            store.update(self.account_id, self.region, name, status="Failed", end_time=time.time(),
                         failure_reason=f"InternalServerError: cannot start the local tuner: {exc}")
            return
        store.update(self.account_id, self.region, name, pid=proc.pid, pid_token=process_token(proc.pid))

    # -- DescribeHyperParameterTuningJob -------------------------------------------------
    @operation
    def describe_hyper_parameter_tuning_job(self, HyperParameterTuningJobName: str) -> dict:
        rec = self.tuning_store.get(self.account_id, self.region, HyperParameterTuningJobName)
        if rec is None:
            raise _not_found(HyperParameterTuningJobName)
        trials = self.tuning_store.trials(self.account_id, self.region, rec["name"])
        req = rec["request"]
        out = {
            "HyperParameterTuningJobName": rec["name"],
            "HyperParameterTuningJobArn": rec["arn"],
            "HyperParameterTuningJobConfig": req["HyperParameterTuningJobConfig"],
            "TrainingJobDefinition": req["TrainingJobDefinition"],
            "HyperParameterTuningJobStatus": rec["status"],
            "CreationTime": _dt(rec["creation_time"]),
            "LastModifiedTime": _dt(rec["last_modified"]),
            "TrainingJobStatusCounters": _status_counters(trials),
            "ObjectiveStatusCounters": _objective_counters(trials),
        }
        if rec["end_time"] is not None:
            out["HyperParameterTuningEndTime"] = _dt(rec["end_time"])
        best = _best(trials, req)
        if best is not None:
            out["BestTrainingJob"] = self._trial_summary(best, req)
        if rec["failure_reason"]:
            out["FailureReason"] = rec["failure_reason"]
        if rec["completion"]:
            details = dict(rec["completion"])
            if "ConvergenceDetectedTime" in details:
                details["ConvergenceDetectedTime"] = _dt(details["ConvergenceDetectedTime"])
            out["TuningJobCompletionDetails"] = details
        end = rec["end_time"] or time.time()
        out["ConsumedResources"] = {"RuntimeInSeconds": max(0, int(end - rec["creation_time"]))}
        return out

    def _trial_summary(self, trial: dict, request: dict) -> dict:
        out = {"TrainingJobName": trial["name"], "TrainingJobArn": trial["arn"],
               "TuningJobName": trial["tuning_job"], "CreationTime": _dt(trial["creation_time"])}
        if trial["start_time"] is not None:
            out["TrainingStartTime"] = _dt(trial["start_time"])
        if trial["end_time"] is not None:
            out["TrainingEndTime"] = _dt(trial["end_time"])
        out["TrainingJobStatus"] = trial["status"]
        out["TunedHyperParameters"] = trial["tuned"]
        if trial["failure_reason"]:
            out["FailureReason"] = trial["failure_reason"]
        if trial["objective"] is not None:
            objective = objective_of(request)
            out["FinalHyperParameterTuningJobObjectiveMetric"] = {
                "Type": objective["Type"], "MetricName": objective["MetricName"],
                "Value": trial["objective"]}
        out["ObjectiveStatus"] = trial["objective_status"]
        return out

    # -- ListTrainingJobsForHyperParameterTuningJob --------------------------------------
    @operation
    def list_training_jobs_for_hyper_parameter_tuning_job(
            self, HyperParameterTuningJobName: str, NextToken: str | None = None,
            MaxResults: int | None = None, StatusEquals: str | None = None,
            SortBy: str | None = None, SortOrder: str | None = None) -> dict:
        rec = self.tuning_store.get(self.account_id, self.region, HyperParameterTuningJobName)
        if rec is None:
            raise _not_found(HyperParameterTuningJobName)
        trials = self.tuning_store.trials(self.account_id, self.region, rec["name"])
        if StatusEquals:
            trials = [t for t in trials if t["status"] == StatusEquals]
        page, token = sorted_page(trials, _TRIAL_SORT_KEYS, sort_by=SortBy or "Name", sort_order=SortOrder,
                                  next_token=NextToken, max_results=MaxResults)
        out = {"TrainingJobSummaries": [self._trial_summary(t, rec["request"]) for t in page]}
        if token:
            out["NextToken"] = token
        return out

    # -- StopHyperParameterTuningJob -----------------------------------------------------
    @operation
    def stop_hyper_parameter_tuning_job(self, HyperParameterTuningJobName: str) -> dict:
        self.tuning_store.stop(self.account_id, self.region, HyperParameterTuningJobName,
                               _not_found(HyperParameterTuningJobName), "hyperparameter tuning job")
        return {}

    # -- ListHyperParameterTuningJobs ----------------------------------------------------
    @operation
    def list_hyper_parameter_tuning_jobs(self, **params) -> dict:
        """``ListHyperParameterTuningJobs``: the parameters of :func:`.listing.list_page` (by
        name, ascending)."""
        page, token = list_page(self.tuning_store.all(self.account_id, self.region), default_sort="Name",
                                default_order="Ascending", **params)
        summaries = []
        for j in page:
            trials = self.tuning_store.trials(self.account_id, self.region, j["name"])
            config = j["request"]["HyperParameterTuningJobConfig"]
            s = {"HyperParameterTuningJobName": j["name"], "HyperParameterTuningJobArn": j["arn"],
                 "HyperParameterTuningJobStatus": j["status"], "Strategy": config["Strategy"],
                 "CreationTime": _dt(j["creation_time"])}
            if j["end_time"] is not None:
                s["HyperParameterTuningEndTime"] = _dt(j["end_time"])
            s["LastModifiedTime"] = _dt(j["last_modified"])
            s["TrainingJobStatusCounters"] = _status_counters(trials)
            s["ObjectiveStatusCounters"] = _objective_counters(trials)
            s["ResourceLimits"] = config["ResourceLimits"]
            summaries.append(s)
        out = {"HyperParameterTuningJobSummaries": summaries}
        if token:
            out["NextToken"] = token
        return out


def objective_of(request: dict) -> dict:
    config = request["HyperParameterTuningJobConfig"]
    return config.get("HyperParameterTuningJobObjective") or request["TrainingJobDefinition"]["TuningObjective"]


def _status_counters(trials: list[dict]) -> dict:
    out = {"Completed": 0, "InProgress": 0, "RetryableError": 0, "NonRetryableError": 0, "Stopped": 0}
    for t in trials:
        if t["status"] in ACTIVE:
            out["InProgress"] += 1
        elif t["status"] == "Failed":
            retryable = (t["failure_reason"] or "").startswith("InternalServerError")
            out["RetryableError" if retryable else "NonRetryableError"] += 1
        elif t["status"] in out:
            out[t["status"]] += 1
    return out


def _objective_counters(trials: list[dict]) -> dict:
    out = {"Succeeded": 0, "Pending": 0, "Failed": 0}
    for t in trials:
        out[t["objective_status"]] += 1
    return out


def _best(trials: list[dict], request: dict) -> dict | None:
    scored = [t for t in trials if t["objective"] is not None and t["objective_status"] == "Succeeded"]
    if not scored:
        return None
    maximize = objective_of(request)["Type"] == "Maximize"
    return (max if maximize else min)(scored, key=lambda t: t["objective"])
