"""The deployment facade (section 6): a model trained by ``aws_ml.training`` on the fraud
claims deployed from its training job (the script as the entry point, as the SDK's
``estimator.deploy()`` does), predictions from a DataFrame, and the other model sources."""
from __future__ import annotations

import io
import tarfile
import textwrap

import numpy as np
import pytest

from aws_ml import datasets, serving

pytest.importorskip("sklearn")
pytest.importorskip("starlette")

NUMERIC = ["num_vehicles_involved", "num_injuries", "num_witnesses", "injury_claim", "vehicle_claim",
           "total_claim_amount", "incident_hour"]

# a SageMaker scikit-learn script: training under __main__, serving functions beside it
SCRIPT = textwrap.dedent('''
    import argparse, glob, os
    import joblib
    import pandas as pd
    from sklearn.linear_model import LogisticRegression


    def model_fn(model_dir):
        return joblib.load(os.path.join(model_dir, "model.joblib"))


    def predict_fn(data, model):
        return model.predict_proba(data)[:, 1]


    if __name__ == "__main__":
        p = argparse.ArgumentParser()
        p.add_argument("--C", type=float, default=1.0)
        args, _ = p.parse_known_args()
        frame = pd.concat(pd.read_csv(f) for f in glob.glob(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "*.csv")))
        y = frame.pop("fraud")
        model = LogisticRegression(C=args.C, max_iter=1000).fit(frame, y)
        joblib.dump(model, os.path.join(os.environ["SM_MODEL_DIR"], "model.joblib"))
''')


@pytest.mark.slow
def test_a_trained_job_is_deployed_and_predicts_a_dataframe(local_session, tmp_path):
    import joblib

    from aws_ml import training

    claims = datasets.load("fraud/claims")[NUMERIC + ["fraud"]]
    script = tmp_path / "fraud_lr.py"
    script.write_text(SCRIPT)
    result = training.train(local_session, data=claims, target="fraud", entry_point=script,
                            hyperparameters={"C": 0.5}, progress=False)
    assert result.status == "Completed", result.failure_reason

    src = serving.model_source(local_session, result)
    assert src["model_data_url"] == result.model_data
    assert src["environment"]["SAGEMAKER_PROGRAM"] == "fraud_lr.py"
    assert src["environment"]["SAGEMAKER_SUBMIT_DIRECTORY"].startswith("s3://")
    assert serving.model_source(local_session, result.job_name) == src

    name = serving.deploy_model(local_session, result, name="fraud-trained")
    try:
        sm = local_session.client("sagemaker")
        container = sm.describe_model(ModelName=name)["PrimaryContainer"]
        assert container["Environment"]["SAGEMAKER_PROGRAM"] == "fraud_lr.py"
        # the trained artifact, scored here: the endpoint's answers must be these
        bucket, key = result.model_data[5:].split("/", 1)
        archive = local_session.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            model = joblib.load(tar.extractfile("model.joblib"))
        X = claims.drop(columns="fraud").iloc[:120]
        expected = model.predict_proba(X)[:, 1]
        got = serving.predict(local_session, name, X, batch_rows=50)   # 3 requests
        assert got.shape == (120,)
        np.testing.assert_allclose(got, expected, rtol=1e-12)
        as_json = serving.predict(local_session, name, X.iloc[:7], content_type="application/json",
                                  accept="text/csv")
        np.testing.assert_allclose(as_json, expected[:7], rtol=1e-12)
        with pytest.raises(local_session.client("sagemaker-runtime").exceptions.ModelError,
                           match="features"):
            serving.predict(local_session, name, X.iloc[:3, :4])
    finally:
        serving.delete(local_session, name)


def test_model_sources(local_session):
    url = "s3://models/fraud/model.tar.gz"
    assert serving.model_source(local_session, url) == {"model_data_url": url, "image": None,
                                                        "environment": {}}
    candidate = {"CandidateName": "c1", "InferenceContainers": [{
        "Image": "img", "ModelDataUrl": url, "Environment": {"SAGEMAKER_PROGRAM": "inference.py"}}]}
    assert serving.model_source(local_session, candidate) == {
        "model_data_url": url, "image": "img", "environment": {"SAGEMAKER_PROGRAM": "inference.py"}}
    from aws_ml.training import AutoMLResult
    automl = AutoMLResult("job", "Completed", "BinaryClassification", "F1", "c1", {}, url,
                          candidate["InferenceContainers"][0])
    assert serving.model_source(local_session, automl)["environment"] == {"SAGEMAKER_PROGRAM": "inference.py"}
    sm = local_session.client("sagemaker")
    with pytest.raises(sm.exceptions.ClientError):
        serving.model_source(local_session, "no-such-training-job")
    with pytest.raises(TypeError, match="training job name"):
        serving.model_source(local_session, 42)


def test_predict_refuses_what_it_cannot_send(local_session):
    with pytest.raises(ValueError, match="content_type"):
        serving.predict(local_session, "any", np.zeros((2, 3)), content_type="application/x-npy")
    with pytest.raises(ValueError, match="rows of features"):
        serving.predict(local_session, "any", np.zeros((2, 0)))
