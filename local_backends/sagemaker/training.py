"""SageMaker training jobs: CreateTrainingJob, DescribeTrainingJob, ListTrainingJobs,
StopTrainingJob.

``CreateTrainingJob`` records the job and starts its own process
(:mod:`.training_process`, detached: it survives the caller), which runs the SageMaker
container contract locally (:mod:`.training_runner`) and moves the record through
``Starting → Downloading → Training → Uploading → Completed`` (or ``Failed``,
``Stopping → Stopped``, ``MaxRuntimeExceeded``). Describing a job whose process died
reports it ``Failed`` instead of in progress forever.
"""
from __future__ import annotations

import time
from pathlib import Path

from local_backends.core.base import operation
from local_backends.core.errors import NotImplementedByBackend, ResourceInUse, ValidationException
from local_backends.core.times import utc_datetime as _dt
from local_backends.sagemaker.listing import list_page

from . import blazingtext_algo, container, xgboost_algo
from .job_store import BackendStore, jsonable, spawn_detached
from .training_runner import MESSAGES, model_artifacts_uri, split_s3, JobError
from .training_store import TrainingStore, process_token


NOT_FOUND = "Requested resource not found."

# The job process imports only what it runs: the package's ``__init__`` (every SageMaker
# mixin and botocore's whole SageMaker model) would add about half a second to each job.
_BOOTSTRAP = (
    "import sys, types\n"
    "pkg = types.ModuleType('local_backends.sagemaker')\n"
    f"pkg.__path__ = [{str(Path(__file__).resolve().parent)!r}]\n"
    "sys.modules.setdefault('local_backends.sagemaker', pkg)\n"
    "from local_backends.sagemaker.training_process import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)
DEFAULT_STOPPING = {"MaxRuntimeInSeconds": 86400}


class UnsupportedTrainingJob(NotImplementedByBackend):
    """A training job the local backend cannot run (an image it does not reproduce)."""

    def __init__(self, message: str) -> None:
        super().__init__("sagemaker", "CreateTrainingJob", message=message)


class TrainingJobs:
    """The training-job operations of the local SageMaker backend (a mixin)."""

    training_store = BackendStore(TrainingStore)

    # -- CreateTrainingJob ---------------------------------------------------------------
    @operation
    def create_training_job(self, TrainingJobName: str, RoleArn: str, OutputDataConfig: dict,
                            AlgorithmSpecification: dict | None = None,
                            HyperParameters: dict | None = None,
                            InputDataConfig: list | None = None,
                            ResourceConfig: dict | None = None,
                            StoppingCondition: dict | None = None,
                            **rest) -> dict:
        name = TrainingJobName
        if AlgorithmSpecification is None:
            raise ValidationException("AlgorithmSpecification is required.")
        if not AlgorithmSpecification.get("TrainingImage") and not AlgorithmSpecification.get("AlgorithmName"):
            raise ValidationException("Either AlgorithmName or TrainingImage must be specified "
                                      "in AlgorithmSpecification.")
        hps = dict(HyperParameters or {})
        try:
            algorithm = container.resolve_algorithm(AlgorithmSpecification, hps)
        except container.UnsupportedAlgorithm as exc:
            raise UnsupportedTrainingJob(f"sagemaker.CreateTrainingJob: {exc}") from None
        self._check_channels(InputDataConfig or [], AlgorithmSpecification)
        try:
            split_s3(OutputDataConfig["S3OutputPath"])
        except JobError:
            raise ValidationException(f"Invalid S3OutputPath {OutputDataConfig['S3OutputPath']!r}: "
                                      f"it must be an s3:// URI.") from None

        spec = dict(AlgorithmSpecification)
        if algorithm.kind == "xgboost" and not spec.get("MetricDefinitions"):
            spec["MetricDefinitions"] = xgboost_algo.metric_definitions()
        if algorithm.kind == "blazingtext" and not spec.get("MetricDefinitions"):
            spec["MetricDefinitions"] = blazingtext_algo.metric_definitions()
        spec.setdefault("EnableSageMakerMetricsTimeSeries", False)
        request = {
            "TrainingJobName": name, "RoleArn": RoleArn,
            "AlgorithmSpecification": spec,
            "OutputDataConfig": {"KmsKeyId": "", **OutputDataConfig},
            "ResourceConfig": ResourceConfig,
            "StoppingCondition": StoppingCondition or dict(DEFAULT_STOPPING),
            "InputDataConfig": [_channel_defaults(c) for c in (InputDataConfig or [])],
            "HyperParameters": hps,
            **{k: v for k, v in rest.items() if v is not None},
        }
        request = {k: v for k, v in request.items() if v is not None}
        arn = self.arn(f"training-job/{name}")
        now = time.time()
        transitions = [{"Status": "Starting", "StartTime": now,
                        "StatusMessage": "Launching requested ML instances"}]
        store = self.training_store
        if not store.insert(self.account_id, self.region, name, arn, jsonable(request), transitions, now):
            raise ResourceInUse(
                f"Training job names must be unique within an AWS account and region, and a "
                f"training job with this name already exists ({arn})")
        self._spawn_training(name)
        return {"TrainingJobArn": arn}

    def _check_channels(self, channels: list[dict], spec: dict) -> None:
        names = [c["ChannelName"] for c in channels]
        if len(set(names)) != len(names):
            raise ValidationException("Channel names must be unique within InputDataConfig.")
        for ch in channels:
            mode = ch.get("InputMode") or spec.get("TrainingInputMode")
            if mode == "Pipe":
                raise UnsupportedTrainingJob("sagemaker.CreateTrainingJob: Pipe input mode is not "
                                             "run by the local backend (use File or FastFile)")
            source = ch.get("DataSource", {})
            s3 = source.get("S3DataSource")
            if s3 is None:
                raise UnsupportedTrainingJob(f"sagemaker.CreateTrainingJob: channel "
                                             f"{ch['ChannelName']!r}: only S3 data sources run locally")
            if s3["S3DataType"] not in ("S3Prefix", "ManifestFile"):
                raise UnsupportedTrainingJob(f"sagemaker.CreateTrainingJob: S3DataType "
                                             f"{s3['S3DataType']} is not run by the local backend")
            try:
                bucket, prefix = split_s3(s3["S3Uri"])
            except JobError:
                raise ValidationException(f"Invalid S3Uri {s3['S3Uri']!r} in channel "
                                          f"{ch['ChannelName']!r}.") from None
            if s3["S3DataType"] == "S3Prefix" and not self._any_object(bucket, prefix):
                raise ValidationException(
                    f"No S3 objects found under S3 URL \"{s3['S3Uri']}\" given in input data "
                    f"source. Please ensure that the bucket exists in the selected region "
                    f"({self.region}), that objects exist under that S3 prefix, and that the role "
                    f"has \"s3:ListBucket\" permissions on bucket \"{bucket}\".")

    def _any_object(self, bucket: str, prefix: str) -> bool:
        s3 = self.peers.client("s3")
        try:
            return bool(s3.list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=1).get("KeyCount"))
        except s3.exceptions.NoSuchBucket:
            return False

    def _spawn_training(self, name: str) -> None:
        store = self.training_store
        try:
            proc = spawn_detached(self, store.job_dir(self.region, name), _BOOTSTRAP, name, "supervisor.log")
        except OSError as exc:  # AWS accepted the job; it fails as an instance that never starts
            now = time.time()
            store.update(self.account_id, self.region, name, status="Failed", secondary="Failed",
                         failure_reason=f"InternalServerError: cannot start the local training "
                                        f"process: {exc}", training_end=now,
                         transitions=[{"Status": "Starting", "StartTime": now, "EndTime": now,
                                       "StatusMessage": "Launching requested ML instances"},
                                      {"Status": "Failed", "StartTime": now, "EndTime": now,
                                       "StatusMessage": MESSAGES["Failed"]}])
            return
        store.set_process(self.account_id, self.region, name, proc.pid, process_token(proc.pid))

    # -- DescribeTrainingJob -------------------------------------------------------------
    @operation
    def describe_training_job(self, TrainingJobName: str) -> dict:
        rec = self.training_store.get(self.account_id, self.region, TrainingJobName)
        if rec is None:
            raise ValidationException(NOT_FOUND)
        return self._describe(rec)

    def _describe(self, rec: dict) -> dict:
        req = rec["request"]
        out = {
            "TrainingJobName": rec["name"],
            "TrainingJobArn": rec["arn"],
            "ModelArtifacts": {"S3ModelArtifacts": rec["model_artifacts"] or model_artifacts_uri(req)},
            "TrainingJobStatus": rec["status"],
            "SecondaryStatus": rec["secondary"],
        }
        if rec["failure_reason"]:
            out["FailureReason"] = rec["failure_reason"]
        for key in ("HyperParameters", "AlgorithmSpecification", "RoleArn", "InputDataConfig",
                    "OutputDataConfig", "ResourceConfig", "VpcConfig", "StoppingCondition"):
            if key in req:
                out[key] = req[key]
        out["CreationTime"] = _dt(rec["creation_time"])
        if rec["training_start"] is not None:
            out["TrainingStartTime"] = _dt(rec["training_start"])
        if rec["training_end"] is not None:
            out["TrainingEndTime"] = _dt(rec["training_end"])
        out["LastModifiedTime"] = _dt(rec["last_modified"])
        out["SecondaryStatusTransitions"] = [
            {k: (_dt(v) if k in ("StartTime", "EndTime") else v) for k, v in t.items() if v is not None}
            for t in rec["transitions"]]
        if rec["final_metrics"]:
            out["FinalMetricDataList"] = [{"MetricName": m["MetricName"], "Value": m["Value"],
                                           "Timestamp": _dt(m["Timestamp"])} for m in rec["final_metrics"]]
        out["EnableNetworkIsolation"] = req.get("EnableNetworkIsolation", False)
        out["EnableInterContainerTrafficEncryption"] = req.get("EnableInterContainerTrafficEncryption", False)
        out["EnableManagedSpotTraining"] = req.get("EnableManagedSpotTraining", False)
        if rec["training_start"] is not None and rec["training_end"] is not None:
            seconds = max(1, round(rec["training_end"] - rec["training_start"]))
            out["TrainingTimeInSeconds"] = seconds
            out["BillableTimeInSeconds"] = seconds
        for key in ("CheckpointConfig", "DebugHookConfig", "ExperimentConfig", "DebugRuleConfigurations",
                    "TensorBoardOutputConfig", "ProfilerConfig", "ProfilerRuleConfigurations",
                    "Environment", "RetryStrategy", "RemoteDebugConfig", "InfraCheckConfig"):
            if key in req:
                out[key] = req[key]
        return out

    # -- ListTrainingJobs ----------------------------------------------------------------
    @operation
    def list_training_jobs(self, WarmPoolStatusEquals: str | None = None,
                           TrainingPlanArnEquals: str | None = None, **params) -> dict:
        """``ListTrainingJobs``: the parameters of :func:`.listing.list_page` (by creation time,
        ascending); local jobs use neither warm pools nor training plans."""
        jobs = self.training_store.all(self.account_id, self.region)
        if WarmPoolStatusEquals or TrainingPlanArnEquals:
            jobs = []
        items, token = list_page(jobs, default_sort="CreationTime", default_order="Ascending", **params)
        out = {"TrainingJobSummaries": [self._summary(j) for j in items]}
        if token:
            out["NextToken"] = token
        return out

    @staticmethod
    def _summary(rec: dict) -> dict:
        out = {"TrainingJobName": rec["name"], "TrainingJobArn": rec["arn"],
               "CreationTime": _dt(rec["creation_time"])}
        if rec["training_end"] is not None:
            out["TrainingEndTime"] = _dt(rec["training_end"])
        out["LastModifiedTime"] = _dt(rec["last_modified"])
        out["TrainingJobStatus"] = rec["status"]
        out["SecondaryStatus"] = rec["secondary"]
        return out

    # -- StopTrainingJob -----------------------------------------------------------------
    @operation
    def stop_training_job(self, TrainingJobName: str) -> dict:
        before = self.training_store.request_stop(self.account_id, self.region, TrainingJobName,
                                                  MESSAGES["Stopping"])
        if before is None:
            raise ValidationException(NOT_FOUND)
        if before not in ("InProgress", "Stopping"):
            raise ValidationException(f"The training job {TrainingJobName} is in status {before} "
                                      f"and cannot be stopped.")
        return {}


def _channel_defaults(channel: dict) -> dict:
    out = dict(channel)
    source = dict(out.get("DataSource") or {})
    if "S3DataSource" in source:
        s3 = dict(source["S3DataSource"])
        s3.setdefault("S3DataDistributionType", "FullyReplicated")
        source["S3DataSource"] = s3
    out["DataSource"] = source
    out.setdefault("CompressionType", "None")
    out.setdefault("RecordWrapperType", "None")
    return out
