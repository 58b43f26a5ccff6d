"""``run_locally``: the training work done here, its outputs put in the session's backend.

Moto records ``CreateTrainingJob`` and runs nothing; a facade on moto runs the same job with
``run_locally``, and the model artifact lands in moto's S3 where AWS would put it.
"""
from __future__ import annotations

from local_backends.sagemaker.training_runner import run_locally

from .test_sagemaker_training_support import BUCKET, put_sklearn_inputs, read_tar, sklearn_request

SCRIPT = """
import os
rows = open(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "claims.csv")).read().splitlines()
print(f"train_auc=0.{len(rows):04d}")
with open(os.path.join(os.environ["SM_MODEL_DIR"], "model.txt"), "w") as f:
    f.write(f"rows={len(rows) - 1}")
"""


def test_run_locally_puts_the_artifacts_in_the_sessions_s3(session, tmp_path):
    s3 = session.client("s3")
    put_sklearn_inputs(s3, script=SCRIPT, rows=40)
    request = sklearn_request("run-here")
    if session.backend == "moto":
        # moto records the job (Completed at once, nothing run); on local, create_training_job
        # would run it itself, so run_locally alone is the subject there
        session.client("sagemaker").create_training_job(**request)
    result = run_locally(session, {**request, "OutputDataConfig": {"S3OutputPath": f"s3://{BUCKET}/here"}},
                         work_dir=tmp_path / "job")
    assert (result.status, result.secondary) == ("Completed", "Completed"), result.failure_reason
    assert result.model_artifacts == f"s3://{BUCKET}/here/run-here/output/model.tar.gz"
    body = s3.get_object(Bucket=BUCKET, Key="here/run-here/output/model.tar.gz")["Body"].read()
    assert read_tar(body) == {"model.txt": b"rows=40"}
    assert [(m["MetricName"], m["Value"]) for m in result.final_metrics] == [("train:auc", 0.0041)]
    assert [t["Status"] for t in result.transitions] == \
        ["Starting", "Downloading", "Training", "Uploading", "Completed"]
    logs = session.client("logs")
    events = logs.get_log_events(logGroupName="/aws/sagemaker/TrainingJobs", logStreamName=result.log_stream,
                                 startFromHead=True)["events"]
    assert "train_auc=0.0041" in [e["message"] for e in events]
    assert result.warnings == []
