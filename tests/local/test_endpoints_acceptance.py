"""Issue #5's acceptance on ``local``, one endpoint per test: Creating → InService →
deleted with its server process gone and its port free; ``curl`` on the endpoint's URL;
bad requests answered 4XX, counted in the five ``AWS/SageMaker`` metrics, the server going
on; user-code errors as ``ModelError`` with the model's message and in the endpoint's log
group; ``CustomAttributes`` both ways; data capture at a sampling percentage."""
from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from datetime import datetime, timedelta, timezone

import pytest

from aws_ml import serving
from local_backends.core.processes import process_alive
from tests.contract.test_sagemaker.test_sagemaker_hosting import (IMAGE, _tar, csv_rows, sklearn_archive,
                                                                  upload)
from tests.local.test_endpoints_processes import stopped_at_end

pytest.importorskip("sklearn")
pytest.importorskip("starlette")
pytestmark = pytest.mark.slow

ROLE = "arn:aws:iam::123456789012:role/sm"
ACCOUNT, REGION = "123456789012", "us-east-1"

# an entry point in a source directory on S3 (SAGEMAKER_SUBMIT_DIRECTORY), using the context
ENTRY_POINT = (
    "import os, joblib\n"
    "def model_fn(model_dir):\n"
    "    return joblib.load(os.path.join(model_dir, 'model.joblib'))\n"
    "def predict_fn(data, model, context):\n"
    "    attrs = context.get_request_header(0, 'X-Amzn-SageMaker-Custom-Attributes') or ''\n"
    "    if 'explode' in attrs:\n"
    "        raise RuntimeError('claim scorer exploded on request ' + attrs)\n"
    "    context.set_response_header(0, 'X-Amzn-SageMaker-Custom-Attributes', 'scored=' + str(len(data)))\n"
    "    return model.predict(data)\n")


@pytest.fixture(scope="module")
def model():
    return sklearn_archive()


def _deploy(session, model, name, **kwargs) -> str:
    archive, clf, x = model
    url = upload(session, f"{name}/model.tar.gz", archive)
    return serving.deploy(session, url, name=name, image=IMAGE, **kwargs)


def _servers(session, name):
    return session.router.backend("sagemaker", REGION).hosting_store.servers(ACCOUNT, REGION, name)


def _sums(session, name, metrics, variant="AllTraffic", statistic="Sum"):
    serving.flush(session)
    cw = session.client("cloudwatch")
    now = datetime.now(timezone.utc)
    dims = [{"Name": "EndpointName", "Value": name}, {"Name": "VariantName", "Value": variant}]
    out = {}
    for metric in metrics:
        points = cw.get_metric_statistics(Namespace="AWS/SageMaker", MetricName=metric, Dimensions=dims,
                                          StartTime=now - timedelta(minutes=5), EndTime=now + timedelta(minutes=2),
                                          Period=60, Statistics=[statistic])["Datapoints"]
        out[metric] = sum(p[statistic] for p in points)
    return out


def test_creating_in_service_and_delete_stops_the_server(local_session, model):
    archive, clf, x = model
    url = upload(local_session, "life/model.tar.gz", archive)
    sm = local_session.client("sagemaker")
    sm.create_model(ModelName="life", ExecutionRoleArn=ROLE, PrimaryContainer={"Image": IMAGE, "ModelDataUrl": url})
    sm.create_endpoint_config(EndpointConfigName="life", ProductionVariants=[{
        "VariantName": "AllTraffic", "ModelName": "life", "InstanceType": "ml.m5.large",
        "InitialInstanceCount": 2}])
    sm.create_endpoint(EndpointName="life", EndpointConfigName="life")
    with stopped_at_end(local_session, "life"):
        _create_and_delete(local_session, sm)


def _create_and_delete(local_session, sm):
    # the servers are loading the model (Python, scikit-learn): the endpoint is Creating
    first = sm.describe_endpoint(EndpointName="life")
    assert first["EndpointStatus"] == "Creating" and "ProductionVariants" not in first
    sm.get_waiter("endpoint_in_service").wait(EndpointName="life", WaiterConfig={"Delay": 0.1, "MaxAttempts": 600})
    desc = sm.describe_endpoint(EndpointName="life")
    assert desc["ProductionVariants"][0]["CurrentInstanceCount"] == 2
    servers = _servers(local_session, "life")
    assert len(servers) == 2 and len({s["port"] for s in servers}) == 1    # two instances, one port
    port = servers[0]["port"]
    assert all(process_alive(s["pid"], s["token"]) for s in servers)

    sm.delete_endpoint(EndpointName="life")
    # delete_endpoint returns once the servers are gone and the port is closed
    assert not any(process_alive(s["pid"], s["token"]) for s in servers)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    with socket.socket() as probe:                      # no listener is left on it
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))
        probe.listen(1)
    sm.get_waiter("endpoint_deleted").wait(EndpointName="life", WaiterConfig={"Delay": 0.1, "MaxAttempts": 10})
    assert sm.list_endpoints(NameContains="life")["Endpoints"] == []


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_on_the_endpoint_url(local_session, model):
    archive, clf, x = model
    name = _deploy(local_session, model, "curled")
    try:
        url = serving.endpoint_url(local_session, name)
        ping = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", f"{url}/ping"],
                              capture_output=True, text=True, timeout=30)
        assert ping.stdout == "200", ping.stderr
        csv = subprocess.run(["curl", "-sS", "--fail", "-H", "Content-Type: text/csv", "-H", "Accept: text/csv",
                              "--data-binary", csv_rows(x[:4]), f"{url}/invocations"],
                             capture_output=True, text=True, timeout=30)
        assert csv.returncode == 0, csv.stderr
        assert [int(v) for v in csv.stdout.split()] == clf.predict(x[:4]).tolist()
        js = subprocess.run(["curl", "-sS", "--fail", "-H", "Content-Type: application/json",
                             "--data-binary", json.dumps(x[:3].tolist()), f"{url}/invocations"],
                            capture_output=True, text=True, timeout=30)
        assert js.returncode == 0, js.stderr
        assert json.loads(js.stdout) == clf.predict(x[:3]).tolist()
        bad = subprocess.run(["curl", "-sS", "-w", "\n%{http_code}", "-H", "Content-Type: text/csv",
                              "--data-binary", "1,2,3", f"{url}/invocations"],
                             capture_output=True, text=True, timeout=30)
        message, code = bad.stdout.rsplit("\n", 1)
        assert code == "400" and "expects" in message and "features" in message
    finally:
        serving.delete(local_session, name)


def test_bad_requests_are_4xx_counted_and_the_server_goes_on(local_session, model):
    archive, clf, x = model
    name = _deploy(local_session, model, "strict")
    rt = local_session.client("sagemaker-runtime")
    try:
        (server,) = _servers(local_session, name)
        bad = [(b"\x89PNG", "image/png", "415", "Content type image/png is not supported"),
               (b"1.0,abc,3.0\n", "text/csv", "400", "csv format"),
               (csv_rows(x[:1])[:-4].encode() + b"\n1,2", "text/csv", "400", "fields"),
               (b"1,2,3", "text/csv", "400", f"The input has 3 features, but the model expects {x.shape[1]}")]
        for body, ctype, status, words in bad:
            with pytest.raises(rt.exceptions.ModelError) as err:
                rt.invoke_endpoint(EndpointName=name, Body=body, ContentType=ctype)
            error = err.value.response["Error"]
            assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 424
            assert error["OriginalStatusCode"] == status and words in error["OriginalMessage"]
            assert f'Received client error ({status}) from primary with message "' in error["Message"]
            assert error["LogStreamArn"].endswith(f":log-group:/aws/sagemaker/Endpoints/{name}")
        # the same server answers on
        out = rt.invoke_endpoint(EndpointName=name, Body=csv_rows(x[:2]), ContentType="text/csv")
        assert json.loads(out["Body"].read()) == clf.predict(x[:2]).tolist()
        assert [s["pid"] for s in _servers(local_session, name)] == [server["pid"]]
        assert process_alive(server["pid"], server["token"])

        sums = _sums(local_session, name, ["Invocations", "Invocation4XXErrors", "Invocation5XXErrors"])
        assert sums == {"Invocations": 5, "Invocation4XXErrors": 4, "Invocation5XXErrors": 0}
        counts = _sums(local_session, name, ["ModelLatency", "OverheadLatency"], statistic="SampleCount")
        assert counts == {"ModelLatency": 5, "OverheadLatency": 5}
        listed = local_session.client("cloudwatch").list_metrics(
            Namespace="AWS/SageMaker", Dimensions=[{"Name": "EndpointName", "Value": name}])["Metrics"]
        assert {"Invocations", "ModelLatency", "OverheadLatency", "Invocation4XXErrors",
                "Invocation5XXErrors"} <= {m["MetricName"] for m in listed}
        assert all({d["Name"] for d in m["Dimensions"]} == {"EndpointName", "VariantName"} for m in listed)
    finally:
        serving.delete(local_session, name)


def test_user_code_errors_and_custom_attributes(local_session, model):
    archive, clf, x = model
    s3 = local_session.client("s3")
    upload(local_session, "coded/model.tar.gz", archive)
    s3.put_object(Bucket="hosting-models", Key="coded/sourcedir.tar.gz",
                  Body=_tar({"scorer.py": ENTRY_POINT.encode()}))
    name = serving.deploy(local_session, "s3://hosting-models/coded/model.tar.gz", name="coded", image=IMAGE,
                          environment={"SAGEMAKER_PROGRAM": "scorer.py",
                                       "SAGEMAKER_SUBMIT_DIRECTORY": "s3://hosting-models/coded/sourcedir.tar.gz"})
    rt = local_session.client("sagemaker-runtime")
    try:
        out = rt.invoke_endpoint(EndpointName=name, Body=csv_rows(x[:3]), ContentType="text/csv",
                                 Accept="application/json", CustomAttributes="trace=abc")
        assert json.loads(out["Body"].read()) == clf.predict(x[:3]).tolist()
        assert out["CustomAttributes"] == "scored=3"
        with pytest.raises(rt.exceptions.ModelError) as err:
            rt.invoke_endpoint(EndpointName=name, Body=csv_rows(x[:1]), ContentType="text/csv",
                               CustomAttributes="explode=1")
        error = err.value.response["Error"]
        assert error["OriginalStatusCode"] == "500"
        assert error["OriginalMessage"] == "predict_fn raised RuntimeError: claim scorer exploded on request explode=1"
        assert "Received server error (500) from primary" in error["Message"]
        # still serving, the error counted as a 5XX and its traceback in the endpoint's logs
        assert rt.invoke_endpoint(EndpointName=name, Body=csv_rows(x[:1]), ContentType="text/csv")["Body"].read()
        assert _sums(local_session, name, ["Invocation5XXErrors"]) == {"Invocation5XXErrors": 1}
        logs = local_session.client("logs")
        messages = [e["message"] for e in logs.filter_log_events(
            logGroupName=f"/aws/sagemaker/Endpoints/{name}")["events"]]
        assert any("RuntimeError: claim scorer exploded" in m for m in messages)
    finally:
        serving.delete(local_session, name)


def test_capture_follows_the_sampling_percentage(local_session, model):
    archive, clf, x = model
    capture = {"EnableCapture": True, "InitialSamplingPercentage": 30,
               "DestinationS3Uri": "s3://hosting-models/sampled",
               "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}]}
    name = _deploy(local_session, model, "sampled", data_capture=capture)
    rt = local_session.client("sagemaker-runtime")
    try:
        desc = local_session.client("sagemaker").describe_endpoint(EndpointName=name)
        assert desc["DataCaptureConfig"]["CurrentSamplingPercentage"] == 30
        bodies = [csv_rows(x[i:i + 1]) for i in range(300)]
        for body in bodies:
            rt.invoke_endpoint(EndpointName=name, Body=body, ContentType="text/csv", Accept="text/csv")
        serving.flush(local_session)
        s3 = local_session.client("s3")
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket="hosting-models",
                                                      Prefix=f"sampled/{name}/AllTraffic/")["Contents"]]
        records = [json.loads(line) for k in keys
                   for line in s3.get_object(Bucket="hosting-models", Key=k)["Body"].read().splitlines()]
        # Binomial(300, 0.3): mean 90, sd 7.9; [50, 130] is more than 5 sd either way
        assert 50 <= len(records) <= 130, len(records)
        assert {r["captureData"]["endpointInput"]["data"] for r in records} <= set(bodies)
        assert all(set(r["captureData"]) == {"endpointInput", "endpointOutput"} for r in records)
        assert len({r["eventMetadata"]["eventId"] for r in records}) == len(records)
    finally:
        serving.delete(local_session, name)


def test_moto_records_the_same_resources_and_answers_as_local(tmp_path, model):
    from aws_ml import Session

    archive, clf, x = model
    bodies = [(csv_rows(x[:5]).encode(), "text/csv", "text/csv"),
              (json.dumps(x[5:9].tolist()).encode(), "application/json", "application/json")]
    answers = {}
    for backend in ("local", "moto"):
        with Session(backend=backend, home=tmp_path / backend, region=REGION) as session:
            name = _deploy(session, model, "twin")
            try:
                sm = session.client("sagemaker")        # moto's records on moto
                assert [m["ModelName"] for m in sm.list_models()["Models"]] == ["twin"]
                assert [c["EndpointConfigName"] for c in sm.list_endpoint_configs()["EndpointConfigs"]] == ["twin"]
                assert [(e["EndpointName"], e["EndpointStatus"]) for e in sm.list_endpoints()["Endpoints"]] == \
                    [("twin", "InService")]
                rt = session.client("sagemaker-runtime")
                answers[backend] = [rt.invoke_endpoint(EndpointName=name, Body=body, ContentType=ctype,
                                                       Accept=accept)["Body"].read()
                                    for body, ctype, accept in bodies]
                url = serving.endpoint_url(session, name)         # a real server on moto too
                assert url.startswith("http://127.0.0.1:")
            finally:
                serving.delete(session, name)
            assert sm.list_endpoints()["Endpoints"] == []
    assert answers["moto"] == answers["local"]
    assert json.loads(answers["local"][1]) == clf.predict(x[5:9]).tolist()


def test_a_model_that_does_not_load_fails_the_endpoint_or_rolls_the_update_back(local_session, model):
    from botocore.exceptions import WaiterError

    archive, clf, x = model
    sm = local_session.client("sagemaker")
    bad_url = upload(local_session, "broken/model.tar.gz", _tar({"weights.bin": b"\x00" * 16}))
    sm.create_model(ModelName="broken", ExecutionRoleArn=ROLE,
                    PrimaryContainer={"Image": IMAGE, "ModelDataUrl": bad_url})
    sm.create_endpoint_config(EndpointConfigName="broken", ProductionVariants=[{
        "VariantName": "AllTraffic", "ModelName": "broken", "InstanceType": "ml.m5.large"}])
    sm.create_endpoint(EndpointName="broken", EndpointConfigName="broken")
    with stopped_at_end(local_session, "broken"):
        with pytest.raises(WaiterError, match="terminal failure state"):
            sm.get_waiter("endpoint_in_service").wait(EndpointName="broken",
                                                      WaiterConfig={"Delay": 0.1, "MaxAttempts": 600})
        desc = sm.describe_endpoint(EndpointName="broken")
        assert desc["EndpointStatus"] == "Failed"
        assert "no model found in the model archive" in desc["FailureReason"] and "weights.bin" in desc["FailureReason"]
        with pytest.raises(sm.exceptions.ClientError, match="Cannot update failed endpoint"):
            sm.update_endpoint(EndpointName="broken", EndpointConfigName="broken")

    # an update to the broken model rolls back: the endpoint serves its previous model on
    name = _deploy(local_session, model, "steady")
    try:
        sm.update_endpoint(EndpointName=name, EndpointConfigName="broken")
        deadline = time.monotonic() + 120
        while (desc := sm.describe_endpoint(EndpointName=name))["EndpointStatus"] == "Updating":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert desc["EndpointStatus"] == "InService" and desc["EndpointConfigName"] == name
        assert "no model found in the model archive" in desc["FailureReason"]
        out = local_session.client("sagemaker-runtime").invoke_endpoint(
            EndpointName=name, Body=csv_rows(x[:2]), ContentType="text/csv")
        assert json.loads(out["Body"].read()) == clf.predict(x[:2]).tolist()
        assert len(_servers(local_session, name)) == 1          # the failed server is gone
    finally:
        serving.delete(local_session, name)
