"""SageMaker hosting on local and moto: models, endpoint configs, endpoints, InvokeEndpoint.

On moto, moto records the control plane and ``aws_ml.serving.deploy`` starts the same
local model server beside it (``sagemaker-runtime`` is routed to local by the session):
the predictions must be those of the model in-process, on both backends.
"""
from __future__ import annotations

import io
import json
import tarfile
import tempfile
import warnings
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from aws_ml import serving
from tests.conftest import moto_gap

pytest.importorskip("sklearn")
pytest.importorskip("starlette")

ROLE = "arn:aws:iam::123456789012:role/sm"
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
XGB_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
BUCKET = "hosting-models"


# -- models made here (the bundled fraud claims' numeric columns) -------------------------------

def fraud_xy():
    from aws_ml import datasets
    df = datasets.load("fraud/claims").select_dtypes("number")
    y = df.pop("fraud").to_numpy()
    df = df.drop(columns=[c for c in df.columns if c.endswith("_id")])
    return df.to_numpy(dtype=float), y


def _tar(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def sklearn_archive():
    """``(model.tar.gz bytes, fitted LogisticRegression, X)``."""
    import joblib
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x, y = fraud_xy()
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(x, y)
    with tempfile.TemporaryDirectory() as d:
        joblib.dump(clf, Path(d) / "model.joblib")
        data = (Path(d) / "model.joblib").read_bytes()
    return _tar({"model.joblib": data}), clf, x


def xgboost_archive():
    """``(model.tar.gz bytes holding xgboost-model, booster, X)``."""
    import xgboost as xgb

    x, y = fraud_xy()
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 3}, xgb.DMatrix(x, label=y), 5)
    with tempfile.TemporaryDirectory() as d:
        with warnings.catch_warnings():  # no extension, as the built-in algorithm names it
            warnings.simplefilter("ignore", UserWarning)
            booster.save_model(str(Path(d) / "xgboost-model"))
        data = (Path(d) / "xgboost-model").read_bytes()
    return _tar({"xgboost-model": data}), booster, x


def upload(session, key: str, data: bytes) -> str:
    s3 = session.client("s3")
    try:
        s3.create_bucket(Bucket=BUCKET)
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    s3.put_object(Bucket=BUCKET, Key=key, Body=data)
    return f"s3://{BUCKET}/{key}"


def csv_rows(x) -> str:
    return "\n".join(",".join(repr(float(v)) for v in row) for row in x)


# -- control plane -------------------------------------------------------------------------------

def test_model_and_endpoint_config_lifecycle(session):
    sm = session.client("sagemaker")
    container = {"Image": IMAGE, "ModelDataUrl": f"s3://{BUCKET}/m/model.tar.gz"}
    arn = sm.create_model(ModelName="fraud-lr", PrimaryContainer=container,
                          ExecutionRoleArn=ROLE)["ModelArn"]
    assert arn == "arn:aws:sagemaker:us-east-1:123456789012:model/fraud-lr"
    desc = sm.describe_model(ModelName="fraud-lr")
    assert desc["ModelArn"] == arn
    assert desc["PrimaryContainer"]["ModelDataUrl"] == container["ModelDataUrl"]
    assert [m["ModelName"] for m in sm.list_models()["Models"]] == ["fraud-lr"]

    cfg_arn = sm.create_endpoint_config(
        EndpointConfigName="fraud-cfg",
        ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": "fraud-lr",
                             "InstanceType": "ml.m5.large", "InitialInstanceCount": 1,
                             "InitialVariantWeight": 1.0}],
        DataCaptureConfig={"EnableCapture": True, "InitialSamplingPercentage": 50,
                           "DestinationS3Uri": f"s3://{BUCKET}/capture",
                           "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}]},
    )["EndpointConfigArn"]
    assert cfg_arn.endswith(":endpoint-config/fraud-cfg")
    cfg = sm.describe_endpoint_config(EndpointConfigName="fraud-cfg")
    assert cfg["ProductionVariants"][0]["ModelName"] == "fraud-lr"
    assert cfg["DataCaptureConfig"]["InitialSamplingPercentage"] == 50
    assert [c["EndpointConfigName"] for c in sm.list_endpoint_configs()["EndpointConfigs"]] == ["fraud-cfg"]

    sm.delete_endpoint_config(EndpointConfigName="fraud-cfg")
    sm.delete_model(ModelName="fraud-lr")
    assert sm.list_models()["Models"] == []
    with pytest.raises(ClientError) as err:
        sm.describe_model(ModelName="fraud-lr")
    assert err.value.response["Error"]["Code"] == "ValidationException"


def test_error_messages_are_aws_words(session):
    sm = session.client("sagemaker")
    arn = "arn:aws:sagemaker:us-east-1:123456789012"
    with pytest.raises(ClientError) as err:
        sm.describe_endpoint(EndpointName="nope")
    assert err.value.response["Error"]["Code"] == "ValidationException"
    moto_gap(session, "moto quotes ARNs with ', accepts a second model of the same name and "
                      "does not check a config's models")
    assert err.value.response["Error"]["Message"] == f'Could not find endpoint "{arn}:endpoint/nope".'
    with pytest.raises(ClientError) as err:
        sm.create_endpoint_config(EndpointConfigName="c", ProductionVariants=[
            {"VariantName": "v", "ModelName": "missing", "InstanceType": "ml.m5.large",
             "InitialInstanceCount": 1}])
    assert err.value.response["Error"]["Message"] == f'Could not find model "{arn}:model/missing".'
    with pytest.raises(ClientError) as err:
        sm.create_endpoint(EndpointName="e", EndpointConfigName="missing")
    assert err.value.response["Error"]["Message"] == \
        f'Could not find endpoint configuration "{arn}:endpoint-config/missing".'
    container = {"Image": IMAGE, "ModelDataUrl": f"s3://{BUCKET}/m/model.tar.gz"}
    sm.create_model(ModelName="twice", PrimaryContainer=container, ExecutionRoleArn=ROLE)
    with pytest.raises(ClientError) as err:
        sm.create_model(ModelName="twice", PrimaryContainer=container, ExecutionRoleArn=ROLE)
    assert err.value.response["Error"]["Message"] == \
        f'Cannot create already existing model "{arn}:model/twice".'


def test_invoke_unknown_endpoint(session):
    rt = session.client("sagemaker-runtime")
    with pytest.raises(rt.exceptions.ValidationError) as err:
        rt.invoke_endpoint(EndpointName="nope", Body=b"1,2", ContentType="text/csv")
    assert err.value.response["Error"]["Message"] == "Endpoint nope of account 123456789012 not found."


# -- a deployed endpoint -----------------------------------------------------------------------------

@pytest.mark.slow
def test_deploy_and_invoke_csv_and_json(session):
    archive, clf, x = sklearn_archive()
    url = upload(session, "fraud/model.tar.gz", archive)
    name = serving.deploy(session, url, name="fraud-endpoint", image=IMAGE)
    try:
        sm = session.client("sagemaker")
        assert sm.describe_endpoint(EndpointName=name)["EndpointStatus"] == "InService"
        rt = session.client("sagemaker-runtime")
        rows = x[:5]
        expected = clf.predict(rows).tolist()

        resp = rt.invoke_endpoint(EndpointName=name, Body=csv_rows(rows).encode(),
                                  ContentType="text/csv", Accept="text/csv")
        assert resp["ContentType"].startswith("text/csv")
        assert resp["InvokedProductionVariant"] == "AllTraffic"
        got = [int(float(v)) for v in resp["Body"].read().decode().split()]
        assert got == expected

        resp = rt.invoke_endpoint(EndpointName=name, Body=json.dumps(rows.tolist()),
                                  ContentType="application/json", Accept="application/json")
        assert json.loads(resp["Body"].read()) == expected

        with pytest.raises(rt.exceptions.ModelError) as err:
            rt.invoke_endpoint(EndpointName=name, Body=b"1,2,3", ContentType="text/csv")
        assert err.value.response["Error"]["OriginalStatusCode"] == "400"
        assert "features" in err.value.response["Error"]["Message"]

        # the endpoint keeps serving after a bad request; its 4XX is counted
        assert rt.invoke_endpoint(EndpointName=name, Body=csv_rows(rows[:1]),
                                  ContentType="text/csv")["Body"].read()
        serving.flush(session)
        cw = session.client("cloudwatch")
        from datetime import datetime, timedelta, timezone
        now = datetime.now(timezone.utc)
        dims = [{"Name": "EndpointName", "Value": name}, {"Name": "VariantName", "Value": "AllTraffic"}]
        stats = {}
        for metric in ("Invocations", "Invocation4XXErrors"):
            points = cw.get_metric_statistics(
                Namespace="AWS/SageMaker", MetricName=metric, Dimensions=dims,
                StartTime=now - timedelta(minutes=5), EndTime=now + timedelta(minutes=1),
                Period=60, Statistics=["Sum"])["Datapoints"]
            stats[metric] = sum(p["Sum"] for p in points)
        assert stats == {"Invocations": 4, "Invocation4XXErrors": 1}
    finally:
        serving.delete(session, name)
    with pytest.raises(ClientError):
        session.client("sagemaker-runtime").invoke_endpoint(EndpointName=name, Body=b"1",
                                                             ContentType="text/csv")


def test_missing_model_data_fails_the_endpoint(session):
    s3 = session.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    with pytest.raises(RuntimeError, match="Failed to download model data"):
        serving.deploy(session, f"s3://{BUCKET}/nothing/model.tar.gz", name="no-data", image=IMAGE)
    if session.backend == "local":
        desc = session.client("sagemaker").describe_endpoint(EndpointName="no-data")
        assert desc["EndpointStatus"] == "Failed"
        assert desc["FailureReason"].startswith('Failed to download model data for container')
