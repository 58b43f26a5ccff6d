"""Endpoint metrics aggregation and data-capture records, without servers."""
from __future__ import annotations

import base64
import json

from local_backends.sagemaker_runtime.capture import DataCapture
from local_backends.sagemaker_runtime.metrics import NAMESPACE, EndpointMetrics


class _Recorder:
    def __init__(self):
        self.calls = []

    def put_metric_data(self, **kwargs):
        self.calls.append(kwargs)

    def put_object(self, **kwargs):
        self.calls.append(kwargs)


def test_metrics_are_statistic_sets_per_minute_and_variant():
    cw = _Recorder()
    metrics = EndpointMetrics(lambda: cw)
    metrics.record("ep", "A", 200, 150.0, 400.0)
    metrics.record("ep", "A", 400, 90.0, 300.0)
    metrics.record("ep", "A", 500, None, 500.0)
    metrics.flush()
    assert len(cw.calls) == 1 and cw.calls[0]["Namespace"] == NAMESPACE == "AWS/SageMaker"
    data = {d["MetricName"]: d for d in cw.calls[0]["MetricData"]}
    assert data["Invocations"]["StatisticValues"]["Sum"] == 3
    assert data["Invocation4XXErrors"]["StatisticValues"] == {"SampleCount": 3, "Sum": 1,
                                                               "Minimum": 0, "Maximum": 1}
    assert data["Invocation5XXErrors"]["StatisticValues"]["Sum"] == 1
    assert data["ModelLatency"]["Unit"] == "Microseconds"
    assert data["ModelLatency"]["StatisticValues"] == {"SampleCount": 2, "Sum": 240.0,
                                                        "Minimum": 90.0, "Maximum": 150.0}
    assert data["OverheadLatency"]["StatisticValues"]["Sum"] == 1200.0
    assert data["Invocations"]["Dimensions"] == [{"Name": "EndpointName", "Value": "ep"},
                                                 {"Name": "VariantName", "Value": "A"}]
    assert data["Invocations"]["Timestamp"].second == 0


def test_a_local_cloudwatch_with_a_service_method_gets_the_metrics():
    class LocalCW:
        published = []

        def publish_service_metrics(self, namespace, data):
            self.published.append((namespace, data))

    local = LocalCW()
    metrics = EndpointMetrics(lambda: (_ for _ in ()).throw(AssertionError("no client")), lambda: local)
    metrics.record("ep", "A", 200, 1.0, 1.0)
    metrics.flush()
    assert local.published[0][0] == "AWS/SageMaker"


def test_capture_records_in_sagemaker_format_and_sampling():
    s3 = _Recorder()
    capture = DataCapture(lambda: s3)
    config = {"EnableCapture": True, "InitialSamplingPercentage": 100,
              "DestinationS3Uri": "s3://bucket/prefix/",
              "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}]}
    assert capture.sampled(config)
    assert not capture.sampled(dict(config, InitialSamplingPercentage=0))
    assert not capture.sampled(dict(config, EnableCapture=False))
    capture.record(config, "ep", "A", b"1,2", "text/csv", b"\x00\x01", "application/x-npy", "id-7")
    assert s3.calls == []          # buffered
    capture.flush()
    (put,) = s3.calls
    assert put["Bucket"] == "bucket"
    parts = put["Key"].split("/")
    assert parts[:3] == ["prefix", "ep", "A"] and len(parts) == 8 and parts[-1].endswith(".jsonl")
    rec = json.loads(put["Body"].decode())
    assert rec["captureData"]["endpointInput"] == {"observedContentType": "text/csv", "mode": "INPUT",
                                                   "data": "1,2", "encoding": "CSV"}
    out = rec["captureData"]["endpointOutput"]
    assert out["encoding"] == "BASE64" and base64.b64decode(out["data"]) == b"\x00\x01"
    assert rec["eventMetadata"]["inferenceId"] == "id-7" and rec["eventVersion"] == "0"
