"""Run one SageMaker training job on this machine, as the platform runs it on an instance.

:func:`run_training` is the whole job, given the ``CreateTrainingJob`` request and a
working directory: download the channels from S3, write the container contract (see
:mod:`.container`), run the algorithm in a child process (the user's entry point in script
mode, or :mod:`.xgboost_algo`), stream its output to CloudWatch Logs, extract the
``MetricDefinitions`` from it, enforce ``MaxRuntimeInSeconds`` and stop requests, then
upload ``model.tar.gz`` and ``output.tar.gz``. It talks to S3, Logs and CloudWatch only
through the boto3 clients it is given, so it runs the same in the detached job process of
the local backend and in-process next to moto (:func:`run_locally`).
"""
from __future__ import annotations

import os
import queue
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from . import container
from .container import JobDirs

STOP_GRACE_SECONDS = 120
"""Between SIGTERM and SIGKILL when a job is stopped (AWS gives the algorithm 120 s)."""

POLL_SECONDS = 0.05
FLUSH_SECONDS = 1.0
LOG_GROUP = "/aws/sagemaker/TrainingJobs"
METRIC_NAMESPACE = "/aws/sagemaker/TrainingJobs"
FAILURE_REASON_MAX = 1024
SINGLE_PUT_BYTES = 8 * 1024 * 1024

MESSAGES = {
    "Starting": "Preparing the instances for training",
    "Downloading": "Downloading input data",
    "Training": "Training image download completed. Training in progress.",
    "Uploading": "Uploading generated training model",
    "Completed": "Training job completed",
    "Failed": "Training job failed",
    "Stopping": "Stopping the training job",
    "Stopped": "Training job stopped",
    "MaxRuntimeExceeded": "Training job exceeded MaxRuntimeInSeconds provided",
}
"""The status messages of ``SecondaryStatusTransitions`` (as the AWS console shows them)."""



@dataclass
class JobClients:
    """The services a job uses: boto3 clients, and the local S3 backend when there is one."""

    s3: Any
    logs: Any = None
    cloudwatch: Any = None
    local_s3: Any = None


@dataclass
class JobHooks:
    """How the caller follows a job: status changes, stop requests, the algorithm's pid."""

    on_transition: Callable[[dict], None] = lambda update: None
    should_stop: Callable[[], bool] = lambda: False
    on_warning: Callable[[str], None] = lambda message: None


@dataclass
class TrainingResult:
    """How a job ended, in ``DescribeTrainingJob``'s terms."""

    status: str
    secondary: str
    transitions: list[dict]
    failure_reason: str | None = None
    model_artifacts: str | None = None
    final_metrics: list[dict] = field(default_factory=list)
    training_start: float | None = None
    training_end: float | None = None
    log_stream: str | None = None
    warnings: list[str] = field(default_factory=list)


class JobError(Exception):
    """The job fails with this ``FailureReason``."""


def split_s3(uri: str) -> tuple[str, str]:
    if not uri.startswith("s3://"):
        raise JobError(f"ClientError: {uri!r} is not an s3:// URI")
    bucket, _, key = uri[5:].partition("/")
    return bucket, key


def output_prefix(request: dict) -> tuple[str, str]:
    """Bucket and key prefix under which the job's outputs go (``<path>/<job>/output/``)."""
    bucket, key = split_s3(request["OutputDataConfig"]["S3OutputPath"])
    key = key.rstrip("/")
    return bucket, f"{key}/{request['TrainingJobName']}/output/".lstrip("/")


def model_artifacts_uri(request: dict) -> str:
    bucket, prefix = output_prefix(request)
    return f"s3://{bucket}/{prefix}model.tar.gz"


def metric_definitions(request: dict) -> list[dict]:
    return list((request.get("AlgorithmSpecification") or {}).get("MetricDefinitions") or [])


# ---------------------------------------------------------------------------------------
class _Job:
    def __init__(self, request: dict, work_dir: Path, clients: JobClients, hooks: JobHooks,
                 transitions: list[dict] | None) -> None:
        self.request = request
        self.name = request["TrainingJobName"]
        self.dirs = JobDirs(Path(work_dir))
        self.clients = clients
        self.hooks = hooks
        self.transitions = list(transitions or [])
        self.result = TrainingResult("InProgress", "Starting", self.transitions)
        self.metrics = [(d["Name"], re.compile(d["Regex"])) for d in metric_definitions(request)]
        self.datapoints: list[tuple[str, float, float]] = []
        self.pending_metrics: list[tuple[str, float, float]] = []
        self.pending_logs: list[dict] = []
        self.log_file = None
        self.log_ready = False
        self.stop_reason: str | None = None
        self.deadline: float | None = None
        self._recent: list[str] = []

    # -- status ----------------------------------------------------------------------
    def transition(self, secondary: str, status: str = "InProgress", message: str | None = None,
                   **extra: Any) -> None:
        now = time.time()
        if self.transitions and self.transitions[-1]["Status"] == secondary:
            self.transitions[-1]["StatusMessage"] = message or MESSAGES[secondary]
        else:
            if self.transitions and self.transitions[-1].get("EndTime") is None:
                self.transitions[-1]["EndTime"] = now
            entry = {"Status": secondary, "StartTime": now,
                     "StatusMessage": message or MESSAGES[secondary]}
            if status not in ("InProgress", "Stopping"):
                entry["EndTime"] = now
            self.transitions.append(entry)
        self.result.status, self.result.secondary = status, secondary
        self.hooks.on_transition({"status": status, "secondary": secondary,
                                  "transitions": self.transitions, **extra})

    def warn(self, message: str) -> None:
        self.result.warnings.append(message)
        self.hooks.on_warning(message)

    def check_stop(self) -> None:
        if self.stop_reason is None:
            if self.hooks.should_stop():
                self.stop_reason = "Stopped"
            elif self.deadline is not None and time.time() >= self.deadline:
                self.stop_reason = "MaxRuntimeExceeded"

    # -- the job -----------------------------------------------------------------------
    def run(self) -> TrainingResult:
        self.transition("Starting")
        self.dirs.root.mkdir(parents=True, exist_ok=True)
        self.log_file = open(self.dirs.root / f"{container.CURRENT_HOST}.log", "a", encoding="utf-8")
        try:
            self._run()
        except JobError as exc:
            self._fail(str(exc))
        except Exception as exc:  # an internal error: report it as AWS would, keep the trace
            self.log(f"Internal error of the local training runner:\n{traceback.format_exc()}")
            self._fail(f"InternalServerError: {type(exc).__name__}: {exc}")
        finally:
            self.flush(final=True)
            self.log_file.close()
        return self.result

    def _run(self) -> None:
        start = time.time()
        self.result.training_start = start
        runtime = (self.request.get("StoppingCondition") or {}).get("MaxRuntimeInSeconds")
        self.deadline = start + runtime if runtime else None
        self.result.log_stream = f"{self.name}/{container.CURRENT_HOST}-{int(start)}"
        channels = self.request.get("InputDataConfig") or []
        self.dirs.create([c["ChannelName"] for c in channels])
        self.transition("Downloading", training_start=start)
        for channel in channels:
            self.download_channel(channel)
            self.check_stop()
            if self.stop_reason:
                return self._stopped()
        self.transition("Training", message="Downloading the training image.")
        argv, env, cwd = self.prepare()
        self.transition("Training")
        code = self.execute(argv, env, cwd)
        if self.stop_reason:
            return self._stopped()
        if code != 0:
            raise JobError(self.failure_reason(argv, code))
        self.transition("Uploading")
        self.upload()
        self.finish("Completed", "Completed")

    def finish(self, status: str, secondary: str) -> None:
        end = time.time()
        self.result.training_end = end
        self.flush(final=True)
        self.result.final_metrics = self.final_metrics()
        self.transition(secondary, status=status, training_end=end,
                        final_metrics=self.result.final_metrics,
                        model_artifacts=self.result.model_artifacts,
                        failure_reason=self.result.failure_reason)

    def _fail(self, reason: str) -> None:
        self.result.failure_reason = reason[:FAILURE_REASON_MAX]
        self.log(reason)
        self.finish("Failed", "Failed")

    def _stopped(self) -> None:
        if self.stop_reason == "Stopped" and self.result.secondary != "Stopping":
            self.transition("Stopping", status="Stopping")
        if self.dirs.model.exists() and any(self.dirs.model.iterdir()):
            self.upload()  # what the algorithm saved in its SIGTERM window is kept, as on AWS
        self.finish("Stopped", self.stop_reason or "Stopped")

    # -- input -------------------------------------------------------------------------
    def download_channel(self, channel: dict) -> None:
        name = channel["ChannelName"]
        source = channel.get("DataSource", {}).get("S3DataSource")
        if source is None:
            raise JobError(f"ClientError: channel {name!r}: only S3 data sources run locally")
        dest = self.dirs.channel(name)
        kind = source["S3DataType"]
        bucket, prefix = split_s3(source["S3Uri"])
        if kind == "S3Prefix":
            # as SageMaker's local mode does: the key less the prefix, or the object's name
            keys = [(key, key[len(prefix):].lstrip("/") or key.rsplit("/", 1)[-1])
                    for key in self.list_keys(bucket, prefix)]
        elif kind == "ManifestFile":
            keys = self.manifest_keys(bucket, prefix)
            bucket = keys.pop(0)[0]
        else:
            raise JobError(f"ClientError: channel {name!r}: S3DataType {kind} is not supported locally")
        if not keys:
            raise JobError(f"ClientError: No S3 objects found under S3 URL \"{source['S3Uri']}\" "
                           f"given in input data source.")
        for key, rel in keys:
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            self.fetch(bucket, key, target)
        self.log(f"Downloaded {len(keys)} object(s) of channel {name!r} to {dest}")

    def list_keys(self, bucket: str, prefix: str) -> list[str]:
        local = self.clients.local_s3
        if local is not None:  # the local S3 backend's own operation: no botocore round trip
            keys, token = [], None
            while True:
                page = local.list_objects_v2(Bucket=bucket, Prefix=prefix, ContinuationToken=token)
                keys += [o["Key"] for o in page.get("Contents", [])]
                token = page.get("NextContinuationToken")
                if not page.get("IsTruncated") or not token:
                    break
        else:
            pages = self.clients.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            keys = [o["Key"] for page in pages for o in page.get("Contents", [])]
        return [k for k in keys if not k.endswith("/")]

    def manifest_keys(self, bucket: str, key: str) -> list[tuple[str, str]]:
        import json
        body = self.clients.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        try:
            manifest = json.loads(body)
            prefix_uri = manifest[0]["prefix"]
        except (ValueError, LookupError, TypeError):
            raise JobError(f"ClientError: s3://{bucket}/{key} is not a manifest file "
                           f"([{{\"prefix\": \"s3://...\"}}, \"relative/key\", ...])") from None
        pbucket, pprefix = split_s3(prefix_uri)
        return [(pbucket, "")] + [(pprefix + rel, rel) for rel in manifest[1:]]

    def fetch(self, bucket: str, key: str, target: Path) -> None:
        local = self.clients.local_s3
        if local is not None:
            # the object's immutable file: copy it (a link would let the job edit S3's bytes)
            shutil.copyfile(local.object_path(bucket, key), target)
        else:
            self.clients.s3.download_file(bucket, key, str(target))

    # -- the algorithm -----------------------------------------------------------------
    def prepare(self) -> tuple[list[str], dict[str, str], Path]:
        request = self.request
        hps = dict(request.get("HyperParameters") or {})
        spec = request.get("AlgorithmSpecification") or {}
        try:
            algorithm = container.resolve_algorithm(spec, hps)
        except container.UnsupportedAlgorithm as exc:
            raise JobError(f"ClientError: {exc}") from None
        resource = container.resource_config(request.get("ResourceConfig"))
        if (request.get("ResourceConfig") or {}).get("InstanceCount", 1) > 1:
            self.log("InstanceCount > 1: the local backend runs the job on one host (algo-1)")
        data_config = container.input_data_config(request.get("InputDataConfig") or [],
                                                  spec.get("TrainingInputMode", "File"))
        container.write_config(self.dirs, hps, resource, data_config)
        env = dict(os.environ)
        env.update(request.get("Environment") or {})
        env.update({
            "SAGEMAKER_BASE_DIR": str(self.dirs.root),
            "TRAINING_JOB_NAME": self.name,
            "TRAINING_JOB_ARN": request.get("TrainingJobArn", ""),
            "PYTHONUNBUFFERED": "1",
        })
        region = request.get("Region")
        if region:
            env.setdefault("AWS_REGION", region)
            env.setdefault("AWS_DEFAULT_REGION", region)
        if algorithm.kind == "entrypoint":
            return self.prepare_entrypoint(spec, hps, resource, data_config, env)
        if algorithm.kind == "xgboost":
            # run as a file, not ``-m``: the algorithm needs none of the backend's imports
            return [sys.executable, str(Path(__file__).with_name("xgboost_algo.py"))], env, self.dirs.root
        if algorithm.kind == "blazingtext":
            return [sys.executable, str(Path(__file__).with_name("blazingtext_algo.py"))], env, self.dirs.root
        decoded = container.decode_hyperparameters(hps)
        program = str(decoded["sagemaker_program"])
        submit = str(decoded.get("sagemaker_submit_directory") or "")
        self.install_code(submit)
        if not (self.dirs.code / program).exists():
            raise JobError(f"AlgorithmError: entry point {program!r} is not in the source "
                           f"directory {submit or '(none)'}")
        if (self.dirs.code / "requirements.txt").exists():
            self.log("requirements.txt found: not installed (the local backend runs the entry "
                     "point with the current Python environment)")
        sm_env, args = container.training_env(self.dirs, self.name, hps, resource, data_config,
                                              module_dir=submit)
        env.update(sm_env)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(self.dirs.code), env.get("PYTHONPATH")]))
        if program.endswith(".py"):
            argv = [sys.executable, program, *args]
        elif program.endswith(".sh"):
            argv = ["/bin/sh", program, *args]
        else:
            argv = [str(self.dirs.code / program), *args]
        return argv, env, self.dirs.code

    def prepare_entrypoint(self, spec: dict, hps: dict, resource: dict, data_config: dict,
                           env: dict[str, str]) -> tuple[list[str], dict[str, str], Path]:
        """``ContainerEntrypoint`` + ``ContainerArguments`` with ``/opt/ml`` mapped to the job
        directory, in the SDK-owned ``sm_drivers`` channel too (ModelTrainer's drivers hold
        ``/opt/ml`` paths); ``python3`` on the PATH is this Python."""
        root = str(self.dirs.root)
        drivers = self.dirs.channel("sm_drivers")
        if drivers.is_dir():
            for path in drivers.rglob("*"):
                if path.is_file() and path.suffix in (".py", ".sh", ".json", ".env", ""):
                    try:
                        text = path.read_text(encoding="utf-8")
                    except UnicodeDecodeError:
                        continue  # a binary file: nothing to map
                    if container.CONTAINER_ROOT in text:
                        path.write_text(text.replace(container.CONTAINER_ROOT, root), encoding="utf-8")
        sm_env, _ = container.training_env(self.dirs, self.name, hps, resource, data_config)
        env.update(sm_env)
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
        argv = [a.replace(container.CONTAINER_ROOT, root)
                for a in [*spec["ContainerEntrypoint"], *(spec.get("ContainerArguments") or [])]]
        return argv, env, self.dirs.root

    def install_code(self, submit: str) -> None:
        code = self.dirs.code
        code.mkdir(parents=True, exist_ok=True)
        if not submit:
            return
        if submit.startswith("s3://"):
            bucket, key = split_s3(submit)
            archive = self.dirs.root / "sourcedir.tar.gz"
            try:
                self.fetch(bucket, key, archive)
            except Exception as exc:
                raise JobError(f"ClientError: cannot download sagemaker_submit_directory "
                               f"{submit}: {exc}") from None
        else:
            archive = Path(submit[7:] if submit.startswith("file://") else submit)
            if archive.is_dir():
                shutil.copytree(archive, code, dirs_exist_ok=True)
                return
        try:
            with tarfile.open(archive, "r:*") as tar:
                tar.extractall(code, filter="data")
        except (tarfile.TarError, OSError) as exc:
            raise JobError(f"ClientError: sagemaker_submit_directory {submit} is not a tar.gz "
                           f"archive: {exc}") from None

    def execute(self, argv: list[str], env: dict[str, str], cwd: Path) -> int:
        self.log("Invoking script with the following command:\n\n" + shlex.join(argv) + "\n")
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                start_new_session=True, preexec_fn=_die_with_parent)
        lines: queue.Queue = queue.Queue()
        reader = threading.Thread(target=_pump, args=(proc.stdout, lines), daemon=True)
        reader.start()
        last_flush = time.monotonic()
        kill_at: float | None = None
        while True:
            try:
                line = lines.get(timeout=POLL_SECONDS)
            except queue.Empty:
                line = ""
            if line is None:  # the pipe closed: the process (and its children) are done
                break
            if line:
                self.log(line.rstrip("\n"))
            if time.monotonic() - last_flush >= FLUSH_SECONDS:
                self.flush()
                last_flush = time.monotonic()
            if kill_at is None:
                self.check_stop()
                if self.stop_reason:
                    if self.stop_reason == "Stopped":
                        self.transition("Stopping", status="Stopping")
                    _signal_group(proc.pid, signal.SIGTERM)
                    kill_at = time.monotonic() + STOP_GRACE_SECONDS
            elif time.monotonic() >= kill_at:
                _signal_group(proc.pid, signal.SIGKILL)
                kill_at = float("inf")
        code = proc.wait()
        reader.join(timeout=5)
        return code

    def failure_reason(self, argv: list[str], code: int) -> str:
        if self.dirs.failure.exists():
            text = self.dirs.failure.read_text(errors="replace").strip()
            if text:
                return f"AlgorithmError: {text}"
        last = "\n".join(self.tail_errors())
        return (f"AlgorithmError: ExecuteUserScriptError:\nExitCode {code}\n"
                f"ErrorMessage \"{last}\"\nCommand \"{shlex.join(argv)}\", exit code: {code}")

    def tail_errors(self, lines: int = 8) -> list[str]:
        recent = self._recent
        # from the last traceback on, else the last lines
        for i in range(len(recent) - 1, -1, -1):
            if recent[i].startswith("Traceback (most recent call last)"):
                return [ln for ln in recent[i:] if ln.strip()][-lines:]
        return [ln for ln in recent if ln.strip()][-lines:]

    # -- output ------------------------------------------------------------------------
    def upload(self) -> None:
        bucket, prefix = output_prefix(self.request)
        tmp = self.dirs.root / "artifacts"
        tmp.mkdir(exist_ok=True)
        for name, src in (("model.tar.gz", self.dirs.model), ("output.tar.gz", self.dirs.output_data)):
            archive = tmp / name
            with tarfile.open(archive, "w:gz") as tar:
                if src.exists():
                    for item in sorted(src.iterdir()):
                        tar.add(item, arcname=item.name)
            try:
                if archive.stat().st_size < SINGLE_PUT_BYTES:  # one request, no transfer threads
                    with open(archive, "rb") as body:
                        self.clients.s3.put_object(Bucket=bucket, Key=prefix + name, Body=body)
                else:
                    self.clients.s3.upload_file(str(archive), bucket, prefix + name)
            except Exception as exc:
                raise JobError(f"ClientError: cannot upload {name} to s3://{bucket}/{prefix}: {exc}") from None
        self.result.model_artifacts = f"s3://{bucket}/{prefix}model.tar.gz"

    # -- logs and metrics --------------------------------------------------------------
    def log(self, text: str) -> None:
        now = time.time()
        for line in text.split("\n"):
            if self.log_file is not None:
                self.log_file.write(line + "\n")
            if line.strip():  # CloudWatch Logs takes no empty message
                self.pending_logs.append({"timestamp": int(now * 1000), "message": line})
            self._recent.append(line)
            del self._recent[:-200]
            for name, rx in self.metrics:
                m = rx.search(line)
                if m:
                    try:
                        value = float(m.group(1))
                    except (IndexError, ValueError):
                        continue
                    self.datapoints.append((name, value, now))
                    self.pending_metrics.append((name, value, now))

    def final_metrics(self) -> list[dict]:
        last: dict[str, tuple[float, float]] = {}
        for name, value, ts in self.datapoints:
            last[name] = (value, ts)
        return [{"MetricName": n, "Value": v, "Timestamp": ts} for n, (v, ts) in last.items()]

    def flush(self, final: bool = False) -> None:
        if self.log_file is not None:
            self.log_file.flush()
        self._flush_logs()
        self._flush_metrics()

    def _flush_logs(self) -> None:
        logs = self.clients.logs
        if logs is None or not self.pending_logs or self.result.log_stream is None:
            return
        events, self.pending_logs = self.pending_logs, []
        try:
            if not self.log_ready:
                try:
                    logs.create_log_group(logGroupName=LOG_GROUP)
                except logs.exceptions.ResourceAlreadyExistsException:
                    pass  # the group is shared by every training job
                logs.create_log_stream(logGroupName=LOG_GROUP, logStreamName=self.result.log_stream)
                self.log_ready = True
            for i in range(0, len(events), 5000):
                logs.put_log_events(logGroupName=LOG_GROUP, logStreamName=self.result.log_stream,
                                    logEvents=events[i:i + 5000])
        except Exception as exc:
            self.clients.logs = None
            self.warn(f"CloudWatch Logs unavailable, the job log stays in "
                      f"{self.dirs.root / 'algo-1.log'}: {type(exc).__name__}: {exc}")

    def _flush_metrics(self) -> None:
        cw = self.clients.cloudwatch
        if cw is None or not self.pending_metrics:
            return
        points, self.pending_metrics = self.pending_metrics, []
        from datetime import datetime, timezone
        dims = [{"Name": "Host", "Value": f"{self.name}/{container.CURRENT_HOST}"}]
        data = [{"MetricName": n, "Value": v, "Timestamp": datetime.fromtimestamp(ts, timezone.utc),
                 "Dimensions": dims, "Unit": "None"} for n, v, ts in points]
        try:
            for i in range(0, len(data), 500):
                cw.put_metric_data(Namespace=METRIC_NAMESPACE, MetricData=data[i:i + 500])
        except Exception as exc:
            self.clients.cloudwatch = None
            self.warn(f"CloudWatch metrics unavailable: {type(exc).__name__}: {exc}")


def _pump(stream, lines: queue.Queue) -> None:
    try:
        for raw in iter(stream.readline, b""):
            lines.put(raw.decode("utf-8", errors="replace"))
    finally:
        stream.close()
        lines.put(None)


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass  # the group is already gone


def _die_with_parent() -> None:
    """In the algorithm's process: die if the job process dies (Linux), so no orphan runs on."""
    if sys.platform.startswith("linux"):
        import ctypes
        try:
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except OSError:
            pass  # no glibc (musl): the job process kills the group when it is stopped


# ---------------------------------------------------------------------------------------
def run_training(request: dict, work_dir: Path, clients: JobClients, hooks: JobHooks | None = None,
                 transitions: list[dict] | None = None) -> TrainingResult:
    """Run the training job of a ``CreateTrainingJob`` ``request`` in ``work_dir``.

    Blocks until the job ends; never raises for a failing job (the result says
    ``Failed`` with its ``FailureReason``). ``request`` may carry ``TrainingJobArn`` and
    ``Region`` (set in the algorithm's environment as AWS does).
    """
    return _Job(request, Path(work_dir), clients, hooks or JobHooks(), transitions).run()


def run_locally(session: Any, request: dict, work_dir: Path | None = None,
                hooks: JobHooks | None = None) -> TrainingResult:
    """Run a training job here, reading and writing through ``session``'s clients.

    For backends that record ``CreateTrainingJob`` without running it (moto): the facade
    creates the job there, then calls this to do the work, so the model artifact lands in
    that backend's S3 where AWS would put it. ``session`` is an ``aws_ml.Session`` or a
    ``boto3.Session`` (anything with ``client(name)``).
    """
    clients = JobClients(s3=session.client("s3"), logs=session.client("logs"),
                         cloudwatch=session.client("cloudwatch"))
    region = getattr(session, "region", None) or getattr(session, "region_name", None)
    request = {**request, "Region": request.get("Region") or region}
    if work_dir is not None:
        return run_training(request, work_dir, clients, hooks)
    with tempfile.TemporaryDirectory(prefix=f"aws-ml-training-{request['TrainingJobName']}-") as tmp:
        return run_training(request, Path(tmp), clients, hooks)
