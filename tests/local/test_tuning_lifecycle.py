"""Tuning and AutoML jobs outlive their caller in their own process; a job whose process is
killed is reported ``Failed`` with the reason, never ``InProgress`` for ever."""
from __future__ import annotations

import os
import signal
import time

from tests.contract.test_sagemaker.test_sagemaker_automl import request as automl_request
from tests.contract.test_sagemaker.test_sagemaker_automl import wait_automl
from tests.contract.test_sagemaker.test_sagemaker_training_support import BUCKET, FRAUD, _bucket
from tests.contract.test_sagemaker.test_sagemaker_tuning_support import (
    put_quick_inputs, script_definition, tuning_config, wait_tuning)

SLOW_SCRIPT = "import time\ntime.sleep(30)\nprint('score=1')\n"


def _pid(store, kind: str, name: str) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        rec = store.get("123456789012", "us-east-1", name)
        if rec and rec["pid"]:
            return rec["pid"]
        time.sleep(0.05)
    raise AssertionError(f"the {kind} process of {name} never recorded its pid")


def test_a_killed_tuner_fails_its_tuning_job(local_session):
    sm = local_session.client("sagemaker")
    put_quick_inputs(local_session.client("s3"), script=SLOW_SCRIPT)
    sm.create_hyper_parameter_tuning_job(HyperParameterTuningJobName="tune-killed",
                                         HyperParameterTuningJobConfig=tuning_config(max_jobs=1, max_parallel=1),
                                         TrainingJobDefinition=script_definition())
    backend = local_session.router.backend("sagemaker", "us-east-1")
    pid = _pid(backend.tuning_store, "tuner", "tune-killed")
    os.kill(pid, signal.SIGKILL)  # the tuner this test started
    job = wait_tuning(sm, "tune-killed", timeout=60)
    assert job["HyperParameterTuningJobStatus"] == "Failed"
    assert f"tuner process (pid {pid})" in job["FailureReason"]
    for summary in sm.list_training_jobs(NameContains="tune-killed")["TrainingJobSummaries"]:
        if summary["TrainingJobStatus"] == "InProgress":  # the orphaned trial: stop it
            sm.stop_training_job(TrainingJobName=summary["TrainingJobName"])


def test_a_killed_automl_process_fails_its_job(local_session):
    s3 = local_session.client("s3")
    _bucket(s3)
    s3.put_object(Bucket=BUCKET, Key="automl/in/claims.csv", Body=FRAUD.read_bytes())
    sm = local_session.client("sagemaker")
    sm.create_auto_ml_job_v2(**automl_request("automl-killed", candidates=20))
    backend = local_session.router.backend("sagemaker", "us-east-1")
    pid = _pid(backend.automl_store, "AutoML", "automl-killed")
    os.kill(pid, signal.SIGKILL)  # the AutoML process this test started
    job = wait_automl(sm, "automl-killed", timeout=60)
    assert (job["AutoMLJobStatus"], job["AutoMLJobSecondaryStatus"]) == ("Failed", "Failed")
    assert f"(pid {pid})" in job["FailureReason"]
