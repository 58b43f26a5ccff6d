"""End to end through a real endpoint: a fraud model deployed with data capture at 100 %,
invoked with normal and then shifted traffic (claim amounts × 3); the capture is read back
from S3 in SageMaker's format, checked against the training baseline, published to
CloudWatch, and the drift alarm follows it (local and moto: on moto, moto records the
endpoint and the local model server answers, as ``aws_ml.serving`` documents)."""
from __future__ import annotations

import io
import tarfile
import tempfile
from pathlib import Path

import pytest

from aws_ml import serving
from aws_ml.monitoring import (alarm_states, check_drift, create_quality_alarms, publish, read_capture,
                               suggest_baseline)
from tests.conftest import moto_gap

from .fraud import CLAIM_AMOUNTS, fraud_split

pytest.importorskip("sklearn")
pytest.importorskip("starlette")

BUCKET = "fraud-endpoint"
CAPTURE = f"s3://{BUCKET}/capture"
ROWS_PER_REQUEST = 50


def _model_archive(split) -> bytes:
    import joblib
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(split.X_train, split.y_train)
    with tempfile.TemporaryDirectory() as d:
        joblib.dump(model, Path(d) / "model.joblib")
        data = (Path(d) / "model.joblib").read_bytes()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("model.joblib")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _invoke_all(session, endpoint, frame) -> None:
    runtime = session.client("sagemaker-runtime")
    values = frame.to_numpy()
    for start in range(0, len(values), ROWS_PER_REQUEST):
        body = "\n".join(",".join(repr(v.item()) for v in row) for row in values[start:start + ROWS_PER_REQUEST])
        resp = runtime.invoke_endpoint(EndpointName=endpoint, Body=body.encode(), ContentType="text/csv",
                                       Accept="text/csv")
        assert len(resp["Body"].read().decode().split()) == len(values[start:start + ROWS_PER_REQUEST])
    serving.flush(session)


@pytest.mark.slow
def test_captured_traffic_drifts_when_claim_amounts_shift(session):
    split = fraud_split()
    s3 = session.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="model/model.tar.gz", Body=_model_archive(split))
    baseline = suggest_baseline(split.X_train, session=session, output_uri=f"s3://{BUCKET}/baseline")
    endpoint = serving.deploy(session, f"s3://{BUCKET}/model/model.tar.gz", name="fraud-monitored",
                              data_capture={"EnableCapture": True, "InitialSamplingPercentage": 100,
                                            "DestinationS3Uri": CAPTURE,
                                            "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}]})
    try:
        dims = {"Endpoint": endpoint}
        alarms = create_quality_alarms(session, dimensions=dims)
        normal = split.X_test.iloc[:500]
        _invoke_all(session, endpoint, normal)

        # SageMaker's layout: <destination>/<endpoint>/<variant>/yyyy/mm/dd/hh/<file>.jsonl
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="capture/")["Contents"]]
        assert keys and all(k.startswith("capture/fraud-monitored/AllTraffic/") and k.endswith(".jsonl")
                            and len(k.split("/")) == 8 for k in keys)
        captured = read_capture(session, f"{CAPTURE}/fraud-monitored/AllTraffic",
                                feature_names=baseline.feature_names)
        assert len(captured) == len(normal) == len(captured.outputs)
        assert list(captured.inputs.columns) == baseline.feature_names
        assert captured.inputs["total_claim_amount"].tolist() == pytest.approx(normal["total_claim_amount"].tolist())
        assert set(captured.outputs) <= {0.0, 1.0}

        stable = check_drift(baseline, f"{CAPTURE}/fraud-monitored", session=session)
        assert stable.item_count == len(normal) and stable.violations == []
        publish(session, stable, dimensions=dims)
        after_stable = alarm_states(session, alarms)     # asserted below (moto never evaluates)

        _invoke_all(session, endpoint, split.shifted.iloc[:500])
        drifted = check_drift(baseline, CAPTURE, session=session)
        assert drifted.item_count == 1000
        assert sorted(drifted.drifted_features) == sorted(CLAIM_AMOUNTS)
        publish(session, drifted, dimensions=dims)
        moto_gap(session, "moto stores metric alarms but never evaluates them (StateValue stays as created)")
        assert after_stable == {f"{endpoint}-drift-violations": "OK"}
        assert alarm_states(session, alarms) == {f"{endpoint}-drift-violations": "ALARM"}
    finally:
        serving.delete(session, endpoint)
