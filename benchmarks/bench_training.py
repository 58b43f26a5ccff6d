"""Fixed overhead of a local SageMaker training job.

From ``create_training_job`` to ``describe_training_job`` showing ``Completed``, less the
run time the script measures itself: the job process, channel download, the contract
files, the interpreter that runs the script, log streaming, tar + upload of the
artifacts and the status updates. Median of 5 jobs, against the target of 1.5 s.

    .venv/bin/python benchmarks/bench_training.py [--runs 5]
"""
from __future__ import annotations

import argparse
import io
import os
import resource
import json
import statistics
import sys
import tarfile
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aws_ml import Session  # noqa: E402
from local_backends.sagemaker.training_store import TrainingStore  # noqa: E402

TARGET_SECONDS = 1.5
SCRIPT = """\
import time
_t0 = time.perf_counter()
import json, os
rows = open(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "data.csv")).read().splitlines()
time.sleep(0.2)
with open(os.path.join(os.environ["SM_MODEL_DIR"], "model.json"), "w") as f:
    json.dump({"rows": len(rows)}, f)
print(f"script_seconds={time.perf_counter() - _t0:.6f}")
"""
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"


def _tar(name: str, text: str) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo(name)
        info.size = len(text.encode())
        tar.addfile(info, io.BytesIO(text.encode()))
    return buf.getvalue()


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def one_job(sm, logs_dir: Path, name: str) -> tuple[float, float, float]:
    request = {
        "TrainingJobName": name, "RoleArn": "arn:aws:iam::123456789012:role/bench",
        "HyperParameters": {"sagemaker_program": json.dumps("train.py"),
                            "sagemaker_submit_directory": json.dumps("s3://bench/code/sourcedir.tar.gz")},
        "AlgorithmSpecification": {"TrainingImage": IMAGE, "TrainingInputMode": "File"},
        "InputDataConfig": [{"ChannelName": "train", "DataSource": {"S3DataSource": {
            "S3DataType": "S3Prefix", "S3Uri": "s3://bench/train/"}}}],
        "OutputDataConfig": {"S3OutputPath": "s3://bench/output"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
        "StoppingCondition": {"MaxRuntimeInSeconds": 120},
    }
    cpu0 = _children_cpu()
    start = time.perf_counter()
    sm.create_training_job(**request)
    while True:
        job = sm.describe_training_job(TrainingJobName=name)
        if job["TrainingJobStatus"] != "InProgress":
            break
        time.sleep(0.01)
    total = time.perf_counter() - start
    if job["TrainingJobStatus"] != "Completed":
        raise SystemExit(f"{name}: {job['TrainingJobStatus']}: {job.get('FailureReason')}")
    log = (logs_dir / name / "algo-1.log").read_text()
    script = float(log.split("script_seconds=")[1].split()[0])
    pid = TrainingStore(logs_dir.parents[2]).get("123456789012", "us-east-1", name)["pid"]
    while Path(f"/proc/{pid}").exists():  # the job process exits after its last write, then is reaped
        time.sleep(0.01)
    return total, script, _children_cpu() - cpu0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-training-") as home:
        session = Session(backend="local", home=home, region="us-east-1")
        s3, sm = session.client("s3"), session.client("sagemaker")
        s3.create_bucket(Bucket="bench")
        s3.put_object(Bucket="bench", Key="train/data.csv", Body=b"".join(b"%d,1,2,3\n" % i for i in range(1000)))
        s3.put_object(Bucket="bench", Key="code/sourcedir.tar.gz", Body=_tar("train.py", SCRIPT))
        logs_dir = Path(home) / "sagemaker" / "training-jobs" / "us-east-1"
        overheads, cpus = [], []
        for i in range(args.runs):
            total, script, cpu = one_job(sm, logs_dir, f"bench-{i}")
            overheads.append(total - script)
            cpus.append(cpu)
            print(f"job {i}: create->Completed {total:.3f} s, script {script:.3f} s, "
                  f"overhead {total - script:.3f} s, CPU of the job processes {cpu:.3f} s")
        median = statistics.median(overheads)
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        print(f"fixed overhead (median of {args.runs}): {median:.3f} s; target {TARGET_SECONDS:.1f} s; "
              f"ratio to target {median / TARGET_SECONDS:.2f}; CPU per job {statistics.median(cpus):.3f} s")
    return 0 if median <= TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
