"""A local training job's life: failures, time limits, stops, and processes that die."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from local_backends.sagemaker.training_store import TrainingStore
from tests.contract.test_sagemaker.test_sagemaker_training_support import (
    put_sklearn_inputs, sklearn_request, wait_done)

pytestmark = pytest.mark.slow

HANG = "import time\nprint('started', flush=True)\ntime.sleep(600)\n"


def _job(local_session, name: str, script: str, **kwargs) -> tuple:
    s3, sm = local_session.client("s3"), local_session.client("sagemaker")
    put_sklearn_inputs(s3, script=script, rows=10)
    sm.create_training_job(**sklearn_request(name, **kwargs))
    return s3, sm


def _record(local_session, name: str) -> dict:
    return TrainingStore(local_session.home).get("123456789012", "us-east-1", name)


def _wait_started(local_session, name: str) -> None:
    """Until the script printed its first line (bounded)."""
    log = TrainingStore(local_session.home).job_dir("us-east-1", name) / "algo-1.log"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if log.exists() and "started" in log.read_text():
            return
        time.sleep(0.05)
    raise AssertionError(f"{name} never started: {log.read_text() if log.exists() else 'no log'}")


def _gone(pid: int) -> bool:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
            stat = Path(f"/proc/{pid}/stat").read_text()
            if stat.rsplit(")", 1)[1].split()[0] == "Z":
                return True
        except (ProcessLookupError, FileNotFoundError):
            return True
        time.sleep(0.05)
    return False


def test_crashing_script_fails_with_its_error(local_session):
    script = "print('loading')\nraise RuntimeError('the fraud table is empty')\n"
    _, sm = _job(local_session, "crash", script)
    job = wait_done(sm, "crash")
    assert job["TrainingJobStatus"] == "Failed" and job["SecondaryStatus"] == "Failed"
    reason = job["FailureReason"]
    assert reason.startswith("AlgorithmError: ExecuteUserScriptError:\nExitCode 1\n")
    assert "RuntimeError: the fraud table is empty" in reason
    assert len(reason) <= 1024
    assert job["SecondaryStatusTransitions"][-1]["Status"] == "Failed"
    assert "FinalMetricDataList" not in job


def test_failure_file_is_the_failure_reason(local_session):
    script = textwrap.dedent("""
        import os, sys
        with open(os.path.join(os.environ["SM_OUTPUT_DIR"], "failure"), "w") as f:
            f.write("label column 'fraud' is missing")
        sys.exit(3)
    """)
    _, sm = _job(local_session, "failure-file", script)
    job = wait_done(sm, "failure-file")
    assert job["TrainingJobStatus"] == "Failed"
    assert job["FailureReason"] == "AlgorithmError: label column 'fraud' is missing"


def test_missing_entry_point_fails(local_session):
    _, sm = _job(local_session, "no-entry", "print(1)\n", program="missing.py")
    job = wait_done(sm, "no-entry")
    assert job["TrainingJobStatus"] == "Failed"
    assert "'missing.py'" in job["FailureReason"]


def test_hanging_script_is_stopped_by_max_runtime(local_session):
    _, sm = _job(local_session, "hang", HANG, max_runtime=2)
    job = wait_done(sm, "hang")
    assert job["TrainingJobStatus"] == "Stopped"
    assert job["SecondaryStatus"] == "MaxRuntimeExceeded"
    assert [t["Status"] for t in job["SecondaryStatusTransitions"]][-2:] == ["Training", "MaxRuntimeExceeded"]
    assert "FailureReason" not in job
    assert _gone(_record(local_session, "hang")["pid"])


def test_stop_training_job_stops_a_running_job(local_session):
    script = textwrap.dedent("""
        import os, signal, sys, time
        def on_term(*_):
            open(os.path.join(os.environ["SM_MODEL_DIR"], "partial.txt"), "w").write("saved on SIGTERM")
            sys.exit(0)
        signal.signal(signal.SIGTERM, on_term)
        print("started", flush=True)
        time.sleep(600)
    """)
    s3, sm = _job(local_session, "to-stop", script)
    _wait_started(local_session, "to-stop")
    sm.stop_training_job(TrainingJobName="to-stop")
    assert sm.describe_training_job(TrainingJobName="to-stop")["TrainingJobStatus"] in ("Stopping", "Stopped")
    job = wait_done(sm, "to-stop")
    assert job["TrainingJobStatus"] == "Stopped" and job["SecondaryStatus"] == "Stopped"
    statuses = [t["Status"] for t in job["SecondaryStatusTransitions"]]
    assert statuses[-2:] == ["Stopping", "Stopped"]
    # the 'model saved in the SIGTERM window' is uploaded, as AWS does
    uri = job["ModelArtifacts"]["S3ModelArtifacts"]
    body = s3.get_object(Bucket=uri[5:].split("/", 1)[0], Key=uri[5:].split("/", 1)[1])["Body"].read()
    from tests.contract.test_sagemaker.test_sagemaker_training_support import read_tar
    assert read_tar(body) == {"partial.txt": b"saved on SIGTERM"}
    # a second stop of a stopped job is refused
    with pytest.raises(sm.exceptions.ClientError) as exc:
        sm.stop_training_job(TrainingJobName="to-stop")
    assert exc.value.response["Error"]["Code"] == "ValidationException"


def test_killed_job_process_is_reported_failed(local_session):
    _, sm = _job(local_session, "killed", HANG)
    _wait_started(local_session, "killed")
    pid = _record(local_session, "killed")["pid"]
    os.kill(pid, signal.SIGKILL)
    assert _gone(pid)
    job = wait_done(sm, "killed")
    assert job["TrainingJobStatus"] == "Failed"
    assert f"(pid {pid})" in job["FailureReason"]
    assert [j["TrainingJobStatus"] for j in sm.list_training_jobs()["TrainingJobSummaries"]] == ["Failed"]


CALLER = textwrap.dedent("""
    import sys
    sys.path.insert(0, {root!r})
    from aws_ml import Session
    from tests.contract.test_sagemaker.test_sagemaker_training_support import sklearn_request
    sm = Session(backend="local", home={home!r}, region="us-east-1").client("sagemaker")
    sm.create_training_job(**sklearn_request("outlives-caller"))
    print("created", flush=True)
    import time
    time.sleep(600)
""")


def test_job_outlives_the_process_that_started_it(local_session):
    script = "import time\nprint('started', flush=True)\ntime.sleep(1)\nprint('done')\n"
    s3 = local_session.client("s3")
    put_sklearn_inputs(s3, script=script, rows=10)
    root = str(Path(__file__).resolve().parents[2])
    caller = subprocess.Popen([sys.executable, "-c", CALLER.format(root=root, home=str(local_session.home))],
                              stdout=subprocess.PIPE, start_new_session=True)
    try:
        assert caller.stdout.readline().strip() == b"created"
        _wait_started(local_session, "outlives-caller")
    finally:
        os.killpg(caller.pid, signal.SIGKILL)  # the caller's whole process group dies
        caller.wait()
    sm = local_session.client("sagemaker")
    job = wait_done(sm, "outlives-caller")
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
