"""``serving.redeploy``: an endpoint switched to a new model by UpdateEndpoint, its old
config and model deleted, on local and moto (moto records, the local server serves)."""
from __future__ import annotations

import json

import pytest

from aws_ml import serving

from tests.conftest import moto_gap

from .test_sagemaker_hosting import IMAGE, XGB_IMAGE, csv_rows, sklearn_archive, upload, xgboost_archive

pytestmark = pytest.mark.slow


def test_redeploy_switches_the_model_and_cleans_up(session):
    sk, clf, x = sklearn_archive()
    xg, booster, _ = xgboost_archive()
    first = upload(session, "redeploy/sk/model.tar.gz", sk)
    second = upload(session, "redeploy/xgb/model.tar.gz", xg)
    name = serving.deploy(session, first, name="switch", image=IMAGE)
    rt, sm = session.client("sagemaker-runtime"), session.client("sagemaker")
    body = csv_rows(x[:2]).encode()
    try:
        before = rt.invoke_endpoint(EndpointName=name, Body=body, ContentType="text/csv")["Body"].read().decode()
        assert json.loads(before) == clf.predict(x[:2]).tolist()      # the scikit-learn container answers JSON
        config = serving.redeploy(session, name, second, version="v2", image=XGB_IMAGE)
        assert config == "switch-v2"
        after = rt.invoke_endpoint(EndpointName=name, Body=body, ContentType="text/csv")["Body"].read().decode()
        import xgboost as xgb

        expected = booster.predict(xgb.DMatrix(x[:2]))
        assert [float(v) for v in after.replace(",", "\n").split()] == pytest.approx(expected.tolist(), rel=1e-5)
        moto_gap(session, "moto does not implement UpdateEndpoint: its record keeps the old config")
        desc = sm.describe_endpoint(EndpointName=name)
        assert desc["EndpointStatus"] == "InService" and desc["EndpointConfigName"] == "switch-v2"
        with pytest.raises(sm.exceptions.ClientError):
            sm.describe_endpoint_config(EndpointConfigName="switch")
        with pytest.raises(sm.exceptions.ClientError):
            sm.describe_model(ModelName="switch")
    finally:
        serving.delete(session, name)
    assert [e for e in sm.list_endpoints()["Endpoints"] if e["EndpointName"] == name] == []
