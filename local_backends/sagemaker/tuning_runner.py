"""The tuner of one local hyperparameter tuning job, run in its own detached process.

:class:`Tuner` asks the strategy (:mod:`.tuning_strategies`) for combinations and runs each
as a real training job through the backend's own operations (``create_training_job`` /
``describe_training_job`` / ``stop_training_job``, the AWS shapes), named
``<tuning-job>-NNN-<8 hex>``, at most ``MaxParallelTrainingJobs`` at a time, and records
every trial in the tuning job's store (:class:`.tuning.TuningStore`). A trial's objective is
the objective metric's value in its ``FinalMetricDataList``.

Intermediate objective values (``TrainingJobEarlyStoppingType: Auto`` and Hyperband) are
the successive matches of the objective's metric regex in the trial's CloudWatch Logs stream
(``/aws/sagemaker/TrainingJobs``), read while the job runs: the lines AWS derives training
metrics from. Early stopping applies AWS's median rule; Hyperband stops a trial that Optuna's
``HyperbandPruner`` prunes or that reached ``MaxResource`` epochs. A trial stopped early
ends ``Stopped`` and keeps the objective value it had reached.
"""
from __future__ import annotations

import os
import re
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path

from local_backends.core.errors import AwsError
from local_backends.core.processes import process_token

from . import blazingtext_algo, container, xgboost_algo
from .tuning import ACTIVE, TuningStore, objective_of, trial_job_name, trial_request
from .tuning_strategies import Trial, make_strategy, median_rule_stops

POLL_SECONDS = 0.25
LOG_GROUP = "/aws/sagemaker/TrainingJobs"
FAILED_TRIALS_TO_FAIL = 3
"""A tuning job whose first trials all fail this many times fails (AWS gives up likewise)."""


def _builtin_metric_definitions(definition: dict) -> list[dict]:
    """The metric definitions of the built-in algorithm of a training-job definition."""
    try:
        algorithm = container.resolve_algorithm(definition.get("AlgorithmSpecification") or {},
                                                definition.get("StaticHyperParameters") or {})
    except container.UnsupportedAlgorithm:
        return []
    if algorithm.kind == "blazingtext":
        return blazingtext_algo.metric_definitions()
    return xgboost_algo.metric_definitions()


class _Running:
    def __init__(self, seq: int, name: str, trial: Trial) -> None:
        self.seq, self.name, self.trial = seq, name, trial
        self.curve: list[float] = []
        self.log_token: str | None = None
        self.log_stream: str | None = None
        self.last_log_read = 0.0
        self.early_stopped = False


class Tuner:
    """The loop of one tuning job, run in its own process (:func:`tuner_main`)."""

    def __init__(self, backend, name: str) -> None:
        self.backend = backend
        self.name = name
        self.store: TuningStore = backend.tuning_store
        self.key = (backend.account_id, backend.region)
        rec = self.store.get(*self.key, name)
        if rec is None:
            raise LookupError(f"no tuning job {name!r}")
        self.request = rec["request"]
        self.config = self.request["HyperParameterTuningJobConfig"]
        self.definition = self.request["TrainingJobDefinition"]
        self.objective = objective_of(self.request)
        self.maximize = self.objective["Type"] == "Maximize"
        metric = self.objective["MetricName"]
        regexes = {m["Name"]: m["Regex"] for m in
                   (self.definition["AlgorithmSpecification"].get("MetricDefinitions") or
                    _builtin_metric_definitions(self.definition))}
        self.metric_regex = re.compile(regexes[metric])
        static = dict(self.definition.get("StaticHyperParameters") or {})
        ranges = self.config.get("ParameterRanges") or self.definition.get("HyperParameterRanges")
        self.strategy = make_strategy({**self.config, "ParameterRanges": ranges,
                                       "HyperParameterTuningJobObjective": self.objective}, static)
        limits = self.config["ResourceLimits"]
        capacity = self.strategy.capacity()
        max_jobs = limits.get("MaxNumberOfTrainingJobs")
        self.max_jobs = min(x for x in (max_jobs, capacity) if x is not None)
        self.max_parallel = max(1, int(limits["MaxParallelTrainingJobs"]))
        self.max_runtime = limits.get("MaxRuntimeInSeconds")
        self.early_stopping = self.config.get("TrainingJobEarlyStoppingType") == "Auto"
        self.watch_curves = self.early_stopping or self.strategy.name == "Hyperband"
        self.criteria = self.config.get("TuningJobCompletionCriteria") or {}
        self.running: dict[str, _Running] = {}
        self.finished_curves: list[list[float]] = []
        self.launched = 0
        self.failed = 0
        self.succeeded = 0
        self.best: float | None = None
        self.not_improving = 0
        self.start = rec["creation_time"]
        self._logs = None

    # -- helpers -----------------------------------------------------------------------
    def _better(self, a: float, b: float | None) -> bool:
        return b is None or (a > b if self.maximize else a < b)

    # -- the loop ------------------------------------------------------------------------
    def run(self) -> None:
        exhausted = False
        done_reason: str | None = None
        while True:
            if self.store.stop_requested(*self.key, self.name):
                self._stop_all()
                self._finish("Stopped")
                return
            self._poll()
            if done_reason is None:
                done_reason = self._completion_reason()
                if done_reason == "MaxRuntime":  # the tuning job's time is up: so is its trials'
                    self._stop_all()
            while (done_reason is None and not exhausted and len(self.running) < self.max_parallel
                   and self.launched < self.max_jobs):
                trial = self.strategy.ask()
                if trial is None:
                    exhausted = True
                    break
                self._launch(trial)
            if not self.running and (done_reason is not None or exhausted
                                     or self.launched >= self.max_jobs):
                if done_reason == "Failed":
                    self._finish("Failed", self._failure_reason)
                else:
                    self._finish("Completed")
                return
            time.sleep(POLL_SECONDS)

    def _completion_reason(self) -> str | None:
        if self.failed >= FAILED_TRIALS_TO_FAIL and self.succeeded == 0:
            return "Failed"
        if self.max_runtime and time.time() - self.start >= self.max_runtime:
            return "MaxRuntime"
        target = self.criteria.get("TargetObjectiveMetricValue")
        if target is not None and self.best is not None and \
                (self.best >= target if self.maximize else self.best <= target):
            return "TargetReached"
        patience = (self.criteria.get("BestObjectiveNotImproving") or {}).get("MaxNumberOfTrainingJobsNotImproving")
        if patience and self.not_improving >= patience:
            self.store.update(*self.key, self.name, completion={
                "NumberOfTrainingJobsObjectiveNotImproving": self.not_improving})
            return "NotImproving"
        return None

    @property
    def _failure_reason(self) -> str:
        trials = self.store.trials(*self.key, self.name)
        last = next((t["failure_reason"] for t in reversed(trials) if t["failure_reason"]), "")
        return (f"ClientError: the first {self.failed} training jobs of the tuning job failed; "
                f"last failure: {last}")[:1024]

    def _launch(self, trial: Trial) -> None:
        self.launched += 1
        seq = self.launched
        name = trial_job_name(self.name, seq, trial.params)
        now = time.time()
        arn = self.backend.arn(f"training-job/{name}")
        self.store.put_trial(*self.key, self.name, seq, name=name, arn=arn, tuned=trial.params,
                             status="InProgress", objective_status="Pending", creation_time=now)
        try:
            arn = self.backend.create_training_job(
                **trial_request(self.definition, name, trial.params, self.objective["MetricName"]))["TrainingJobArn"]
        except (AwsError, NotImplementedError) as exc:
            message = getattr(exc, "message", None) or str(exc)
            code = getattr(exc, "code", "ClientError")
            self.store.put_trial(*self.key, self.name, seq, status="Failed", objective_status="Failed",
                                 failure_reason=f"{code}: {message}"[:1024], end_time=time.time())
            self.strategy.tell(trial, None, "fail")
            self.failed += 1
            return
        self.store.put_trial(*self.key, self.name, seq, arn=arn)
        self.running[name] = _Running(seq, name, trial)

    def _poll(self) -> None:
        for name, run in list(self.running.items()):
            job = self.backend.describe_training_job(TrainingJobName=name)
            status = job["TrainingJobStatus"]
            if status in ACTIVE:
                fields = {}
                if "TrainingStartTime" in job:
                    fields["start_time"] = job["TrainingStartTime"].timestamp()
                fields["status"] = status
                self.store.put_trial(*self.key, self.name, run.seq, **fields)
                if self.watch_curves and status == "InProgress" and not run.early_stopped:
                    self._watch(run)
                continue
            self._ended(run, job)

    def _ended(self, run: _Running, job: dict) -> None:
        del self.running[run.name]
        status = job["TrainingJobStatus"]
        metric = self.objective["MetricName"]
        value = next((m["Value"] for m in job.get("FinalMetricDataList") or []
                      if m["MetricName"] == metric), None)
        if value is None and run.curve:
            value = run.curve[-1]
        if self.watch_curves:
            self._read_curve(run)
        if run.curve:
            self.finished_curves.append(run.curve)
        fields = {"status": status, "end_time": (job.get("TrainingEndTime") or datetime.now(timezone.utc)).timestamp()}
        if "TrainingStartTime" in job:
            fields["start_time"] = job["TrainingStartTime"].timestamp()
        if job.get("FailureReason"):
            fields["failure_reason"] = job["FailureReason"]
        ok = status in ("Completed", "Stopped") and value is not None
        if ok:
            fields.update(objective=float(value), objective_status="Succeeded")
            self.succeeded += 1
            if self._better(float(value), self.best):
                self.best = float(value)
                self.not_improving = 0
            else:
                self.not_improving += 1
        else:
            fields["objective_status"] = "Failed"
            if status == "Failed":
                self.failed += 1
            if status == "Completed" and not fields.get("failure_reason"):
                fields["failure_reason"] = (f"The training job did not report the objective metric "
                                            f"{metric}.")
        self.store.put_trial(*self.key, self.name, run.seq, **fields)
        if ok and run.early_stopped and self.strategy.name == "Hyperband" and \
                len(run.curve) < self.strategy.max_resource:
            self.strategy.tell(run.trial, float(value), "pruned")
        elif ok:
            self.strategy.tell(run.trial, float(value), "complete")
        else:
            self.strategy.tell(run.trial, None, "fail")

    # -- intermediate values -----------------------------------------------------------
    @property
    def logs(self):
        if self._logs is None:
            self._logs = self.backend.peers.client("logs")
        return self._logs

    def _read_curve(self, run: _Running) -> int:
        """Append the objective values newly logged by the trial; how many were new."""
        logs = self.logs
        if run.log_stream is None:
            try:
                streams = logs.describe_log_streams(logGroupName=LOG_GROUP,
                                                    logStreamNamePrefix=f"{run.name}/")["logStreams"]
            except logs.exceptions.ResourceNotFoundException:
                return 0
            if not streams:
                return 0
            run.log_stream = streams[0]["logStreamName"]
        new = 0
        while True:
            kwargs = {"logGroupName": LOG_GROUP, "logStreamName": run.log_stream, "startFromHead": True}
            if run.log_token:
                kwargs["nextToken"] = run.log_token
            page = logs.get_log_events(**kwargs)
            for event in page["events"]:
                m = self.metric_regex.search(event["message"])
                if m:
                    try:
                        run.curve.append(float(m.group(1)))
                        new += 1
                    except (IndexError, ValueError):
                        pass
            token = page.get("nextForwardToken")
            if not page["events"] or token == run.log_token:
                run.log_token = token
                return new
            run.log_token = token

    def _watch(self, run: _Running) -> None:
        now = time.monotonic()
        if now - run.last_log_read < 0.5:
            return
        run.last_log_read = now
        before = len(run.curve)
        if not self._read_curve(run):
            return
        stop = False
        if self.strategy.name == "Hyperband":
            for step in range(before + 1, len(run.curve) + 1):
                if self.strategy.report(run.trial, step, run.curve[step - 1]):
                    stop = True
                    break
        elif self.early_stopping:
            stop = median_rule_stops(run.curve, self.finished_curves, self.maximize)
        if stop:
            run.early_stopped = True
            self.store.put_trial(*self.key, self.name, run.seq, early_stopped=1)
            try:
                self.backend.stop_training_job(TrainingJobName=run.name)
            except AwsError:
                pass  # it ended between the describe and the stop: _poll records how

    def _stop_all(self) -> None:
        for name in list(self.running):
            try:
                self.backend.stop_training_job(TrainingJobName=name)
            except AwsError:
                pass  # already ended: recorded below
        while self.running:
            self._poll()
            if self.running:
                time.sleep(POLL_SECONDS)

    def _finish(self, status: str, reason: str | None = None) -> None:
        fields = {"status": status, "end_time": time.time()}
        if reason:
            fields["failure_reason"] = reason
        self.store.update(*self.key, self.name, **fields)


def tuner_main(argv: list[str]) -> int:
    """The detached tuner process: ``home region account name``."""
    home, region, account, name = argv
    from local_backends import backend_class, get_backend

    backend = get_backend(backend_class("sagemaker"), Path(home), region, account)
    store = backend.tuning_store
    store.update(account, region, name, pid=os.getpid(), pid_token=process_token(os.getpid()))
    try:
        Tuner(backend, name).run()
    except BaseException as exc:
        traceback.print_exc()
        store.update(account, region, name, status="Failed", end_time=time.time(),
                     failure_reason=f"InternalServerError: {type(exc).__name__}: {exc}"[:1024])
        return 1
    return 0
