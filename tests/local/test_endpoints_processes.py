"""Local endpoints as real processes: direct HTTP, other processes, updates under load,
deletion, a killed server, data capture."""
from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import urllib.request

import pytest

from aws_ml import Session, serving
from local_backends.core.processes import process_alive
from tests.contract.test_sagemaker.test_sagemaker_hosting import (
    IMAGE, XGB_IMAGE, csv_rows, sklearn_archive, upload, xgboost_archive)

pytestmark = pytest.mark.slow


@contextlib.contextmanager
def stopped_at_end(session, name: str):
    """Delete the endpoint ``name`` at the end, whatever happens (endpoints outlive sessions)."""
    try:
        yield
    finally:
        sm = session.client("sagemaker")
        try:
            sm.delete_endpoint(EndpointName=name)
        except sm.exceptions.ClientError as exc:
            if "Could not find endpoint" not in str(exc):
                raise


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    with Session(backend="local", home=home, region="us-east-1") as session:
        archive, clf, x = sklearn_archive()
        url = upload(session, "fraud/model.tar.gz", archive)
        name = serving.deploy(session, url, name="fraud", image=IMAGE, data_capture={
            "EnableCapture": True, "InitialSamplingPercentage": 100,
            "DestinationS3Uri": "s3://hosting-models/capture",
            "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}]})
        yield session, name, clf, x
        serving.delete(session, name)


def test_direct_http_and_ping(deployed):
    session, name, clf, x = deployed
    url = serving.endpoint_url(session, name)
    assert url.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(f"{url}/ping") as r:
        assert r.status == 200
    req = urllib.request.Request(f"{url}/invocations", data=json.dumps(x[:3].tolist()).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        assert json.loads(r.read()) == clf.predict(x[:3]).tolist()
    req = urllib.request.Request(f"{url}/invocations", data=b"1,2\n3", headers={"Content-Type": "text/csv"})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req)
    assert err.value.code == 400
    req = urllib.request.Request(f"{url}/invocations", data=b"x", headers={"Content-Type": "image/png"})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req)
    assert err.value.code == 415 and b"not supported" in err.value.read()


def test_invoke_from_another_process(deployed):
    session, name, clf, x = deployed
    code = (
        "import sys\nfrom aws_ml import Session\n"
        f"s = Session(backend='local', home={str(session.home)!r}, region='us-east-1')\n"
        "rt = s.client('sagemaker-runtime')\n"
        f"r = rt.invoke_endpoint(EndpointName={name!r}, Body={csv_rows(x[:4])!r}, "
        "ContentType='text/csv', Accept='application/json')\n"
        "print(r['Body'].read().decode())\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == clf.predict(x[:4]).tolist()


def test_data_capture_in_sagemaker_format(deployed):
    session, name, clf, x = deployed
    rt = session.client("sagemaker-runtime")
    for i in range(3):
        rt.invoke_endpoint(EndpointName=name, Body=csv_rows(x[i:i + 1]), ContentType="text/csv",
                           Accept="text/csv")
    serving.flush(session)
    s3 = session.client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="hosting-models",
                                                  Prefix=f"capture/{name}/AllTraffic/")["Contents"]]
    assert keys and all(k.endswith(".jsonl") for k in keys)
    assert len(keys[0].split("/")) == 8   # capture/<ep>/<variant>/yyyy/mm/dd/hh/<file>
    lines = [json.loads(line) for k in keys
             for line in s3.get_object(Bucket="hosting-models", Key=k)["Body"].read().splitlines()]
    assert len(lines) >= 3
    rec = lines[-1]
    assert rec["eventVersion"] == "0"
    assert set(rec["eventMetadata"]) >= {"eventId", "inferenceTime"}
    inp, out = rec["captureData"]["endpointInput"], rec["captureData"]["endpointOutput"]
    assert inp == {"observedContentType": "text/csv", "mode": "INPUT", "data": csv_rows(x[2:3]),
                   "encoding": "CSV"}
    assert out["mode"] == "OUTPUT" and out["encoding"] == "CSV"


def test_update_under_load_loses_no_request(deployed):
    session, name, clf, x = deployed
    sm = session.client("sagemaker")
    archive, booster, _ = xgboost_archive()
    url = upload(session, "fraud/xgb.tar.gz", archive)
    sm.create_model(ModelName="fraud-xgb", ExecutionRoleArn="arn:aws:iam::123456789012:role/sm",
                    PrimaryContainer={"Image": XGB_IMAGE, "ModelDataUrl": url})
    sm.create_endpoint_config(EndpointConfigName="fraud-xgb-cfg", ProductionVariants=[{
        "VariantName": "AllTraffic", "ModelName": "fraud-xgb", "InstanceType": "ml.m5.large",
        "InitialInstanceCount": 1}])
    before = serving.endpoint_url(session, name)
    rt = session.client("sagemaker-runtime")
    body = csv_rows(x[:1])
    results, errors, stop = [], [], threading.Event()

    def stream():
        while not stop.is_set():
            try:
                r = rt.invoke_endpoint(EndpointName=name, Body=body, ContentType="text/csv",
                                       Accept="text/csv")
                results.append(r["Body"].read())
            except Exception as exc:  # recorded: the test asserts there is none
                errors.append(exc)

    thread = threading.Thread(target=stream)
    thread.start()
    try:
        import time
        deadline = time.monotonic() + 30
        while len(results) < 5 and time.monotonic() < deadline:   # the stream is flowing
            time.sleep(0.01)
        sm.update_endpoint(EndpointName=name, EndpointConfigName="fraud-xgb-cfg")
        at_update = len(results)
        assert sm.describe_endpoint(EndpointName=name)["EndpointStatus"] in ("Updating", "InService")
        sm.get_waiter("endpoint_in_service").wait(EndpointName=name,
                                                  WaiterConfig={"Delay": 0.2, "MaxAttempts": 300})
        during_switch = len(results) - at_update
        n, deadline = len(results), time.monotonic() + 30
        while len(results) < n + 20 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        stop.set()
        thread.join()
    assert errors == [], (errors[:1], sm.describe_endpoint(EndpointName=name))
    assert during_switch > 0                       # requests were answered during the switch
    answers = {r.strip() for r in results}
    assert len(answers) == 2                       # the old model's label, then the new model's score
    import xgboost as xgb
    assert float(results[-1]) == pytest.approx(float(booster.predict(xgb.DMatrix(x[:1]))[0]), rel=1e-6)
    assert serving.endpoint_url(session, name) == before       # the variant keeps its port
    desc = sm.describe_endpoint(EndpointName=name)
    assert desc["EndpointConfigName"] == "fraud-xgb-cfg"
    assert desc["ProductionVariants"][0]["CurrentInstanceCount"] == 1


def test_killed_server_is_reported_and_delete_frees_the_port(tmp_path):
    with Session(backend="local", home=tmp_path / "h", region="us-east-1") as session:
        archive, clf, x = sklearn_archive()
        url = upload(session, "m/model.tar.gz", archive)
        name = serving.deploy(session, url, name="doomed", image=IMAGE)
        store = session.router.backend("sagemaker", "us-east-1").hosting_store
        server = store.servers("123456789012", "us-east-1", name)[0]
        os.kill(server["pid"], signal.SIGKILL)
        sm = session.client("sagemaker")
        import time
        deadline = time.monotonic() + 10
        while sm.describe_endpoint(EndpointName=name)["EndpointStatus"] != "Failed":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert "exited" in sm.describe_endpoint(EndpointName=name)["FailureReason"]
        rt = session.client("sagemaker-runtime")
        with pytest.raises(rt.exceptions.ValidationError):
            rt.invoke_endpoint(EndpointName=name, Body=csv_rows(x[:1]), ContentType="text/csv")
        config = sm.describe_endpoint(EndpointName=name)["EndpointConfigName"]
        sm.delete_endpoint(EndpointName=name)
        # the dead server's record goes with the endpoint (its port was freed by the kill
        # itself; probing the port is no test: another worker's server may take it at once)
        assert store.all_servers("123456789012", "us-east-1", name) == []
        with pytest.raises(sm.exceptions.ClientError, match="Could not find endpoint"):
            sm.describe_endpoint(EndpointName=name)
        # and the name serves again once redeployed
        sm.create_endpoint(EndpointName=name, EndpointConfigName=config)
        try:
            sm.get_waiter("endpoint_in_service").wait(EndpointName=name,
                                                       WaiterConfig={"Delay": 0.2, "MaxAttempts": 100})
            out = rt.invoke_endpoint(EndpointName=name, Body=csv_rows(x[:1]), ContentType="text/csv")
            assert out["Body"].read()
        finally:   # endpoints outlive the session: stop its server
            sm.delete_endpoint(EndpointName=name)


def test_listing_and_server_logs_in_cloudwatch_logs(deployed):
    session, name, clf, x = deployed
    sm = session.client("sagemaker")
    listed = sm.list_endpoints(StatusEquals="InService", NameContains="frau")["Endpoints"]
    assert [e["EndpointName"] for e in listed] == [name]
    assert sm.list_endpoints(StatusEquals="Failed")["Endpoints"] == []
    sm.describe_endpoint(EndpointName=name)          # ships the servers' new output
    logs = session.client("logs")
    group = f"/aws/sagemaker/Endpoints/{name}"
    streams = [s["logStreamName"] for s in logs.describe_log_streams(logGroupName=group)["logStreams"]]
    assert streams and all(s.startswith("AllTraffic/i-") for s in streams)
    messages = [e["message"] for e in logs.filter_log_events(logGroupName=group)["events"]]
    assert any("model server ready" in m for m in messages)


def test_variant_weights_and_target_variant(tmp_path):
    with Session(backend="local", home=tmp_path / "h", region="us-east-1") as session:
        archive, clf, x = sklearn_archive()
        url = upload(session, "m/model.tar.gz", archive)
        sm = session.client("sagemaker")
        sm.create_model(ModelName="m", ExecutionRoleArn="arn:aws:iam::123456789012:role/sm",
                        PrimaryContainer={"Image": IMAGE, "ModelDataUrl": url})
        sm.create_endpoint_config(EndpointConfigName="ab", ProductionVariants=[
            {"VariantName": "A", "ModelName": "m", "InstanceType": "ml.m5.large",
             "InitialInstanceCount": 1, "InitialVariantWeight": 1.0},
            {"VariantName": "B", "ModelName": "m", "InstanceType": "ml.m5.large",
             "InitialInstanceCount": 1, "InitialVariantWeight": 0.0}])
        sm.create_endpoint(EndpointName="ab", EndpointConfigName="ab")
        with stopped_at_end(session, "ab"):
            sm.get_waiter("endpoint_in_service").wait(EndpointName="ab",
                                                      WaiterConfig={"Delay": 0.2, "MaxAttempts": 600})
            desc = sm.describe_endpoint(EndpointName="ab")
            assert {v["VariantName"]: v["CurrentWeight"] for v in desc["ProductionVariants"]} == \
                {"A": 1.0, "B": 0.0}
            rt = session.client("sagemaker-runtime")
            body = csv_rows(x[:1])
            seen = {rt.invoke_endpoint(EndpointName="ab", Body=body, ContentType="text/csv")
                    ["InvokedProductionVariant"] for _ in range(20)}
            assert seen == {"A"}
            r = rt.invoke_endpoint(EndpointName="ab", Body=body, ContentType="text/csv", TargetVariant="B")
            assert r["InvokedProductionVariant"] == "B"
            assert serving.endpoint_url(session, "ab", "A") != serving.endpoint_url(session, "ab", "B")
            sm.delete_endpoint(EndpointName="ab")
        sm.get_waiter("endpoint_deleted").wait(EndpointName="ab", WaiterConfig={"Delay": 0.1})


def test_endpoint_outlives_the_process_that_created_it(tmp_path):
    home = tmp_path / "h"
    archive, clf, x = sklearn_archive()
    with Session(backend="local", home=home, region="us-east-1") as session:
        url = upload(session, "m/model.tar.gz", archive)
    code = (
        "from aws_ml import Session, serving\n"
        f"s = Session(backend='local', home={str(home)!r}, region='us-east-1')\n"
        f"print(serving.deploy(s, {url!r}, name='orphan', image={IMAGE!r}))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180,
                         cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    assert out.returncode == 0, out.stderr
    with Session(backend="local", home=home, region="us-east-1") as session, \
            stopped_at_end(session, "orphan"):
        sm = session.client("sagemaker")
        assert sm.describe_endpoint(EndpointName="orphan")["EndpointStatus"] == "InService"
        r = session.client("sagemaker-runtime").invoke_endpoint(
            EndpointName="orphan", Body=csv_rows(x[:2]), ContentType="text/csv", Accept="application/json")
        assert json.loads(r["Body"].read()) == clf.predict(x[:2]).tolist()
        (server,) = session.router.backend("sagemaker", "us-east-1").hosting_store.servers(
            "123456789012", "us-east-1", "orphan")
        sm.delete_endpoint(EndpointName="orphan")
        assert not process_alive(server["pid"], server["token"])   # stopped by another process
