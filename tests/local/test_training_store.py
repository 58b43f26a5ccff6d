"""The training-job record: liveness of the job process, and reaping the dead."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from local_backends.sagemaker import training_store
from local_backends.sagemaker.training_store import TrainingStore, process_alive, process_token

ACCOUNT, REGION = "123456789012", "us-east-1"


def _insert(store: TrainingStore, name: str, created: float) -> None:
    assert store.insert(ACCOUNT, REGION, name, f"arn:{name}", {"TrainingJobName": name},
                        [{"Status": "Starting", "StartTime": created, "StatusMessage": "x"}], created)


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="needs Linux /proc")
def test_process_alive_checks_the_start_time_and_zombies():
    me = os.getpid()
    assert process_alive(me, process_token(me))
    assert not process_alive(me, "1")  # same pid, another process (reused pid)
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # not reaped yet: a zombie
        with open(f"/proc/{child.pid}/stat") as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                break
        time.sleep(0.01)
    assert not process_alive(child.pid, None)
    child.wait()
    assert not process_alive(child.pid, None)


def test_a_name_is_taken_once(tmp_path):
    store = TrainingStore(tmp_path)
    _insert(store, "once", time.time())
    assert not store.insert(ACCOUNT, REGION, "once", "arn:again", {}, [{"Status": "Starting"}], time.time())
    assert store.get(ACCOUNT, REGION, "once")["arn"] == "arn:once"


def test_job_whose_process_never_started_is_reaped(tmp_path, monkeypatch):
    store = TrainingStore(tmp_path)
    _insert(store, "fresh", time.time())
    assert store.get(ACCOUNT, REGION, "fresh")["status"] == "InProgress"  # within the grace
    _insert(store, "stale", time.time() - training_store.SPAWN_GRACE_SECONDS - 1)
    rec = store.get(ACCOUNT, REGION, "stale")
    assert (rec["status"], rec["secondary"]) == ("Failed", "Failed")
    assert rec["failure_reason"] == "InternalServerError: the local training process never started"
    assert [t["Status"] for t in rec["transitions"]] == ["Starting", "Failed"]


def test_finished_job_is_never_reaped(tmp_path):
    store = TrainingStore(tmp_path)
    _insert(store, "done", time.time() - 3600)
    store.update(ACCOUNT, REGION, "done", status="Completed", secondary="Completed", pid=1, pid_token="x")
    assert store.get(ACCOUNT, REGION, "done")["status"] == "Completed"
