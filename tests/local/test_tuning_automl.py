"""A local Autopilot job on the bundled fraud claims (every column: numeric, categorical with
missing values, an identifier): at least 3 candidates from different families, a best
candidate that beats the majority-class baseline on F1, and a model artifact that loads,
predicts and serves on a local endpoint."""
from __future__ import annotations

import io
import tarfile

import pytest

from tests.contract.test_sagemaker.test_sagemaker_automl import wait_automl
from tests.contract.test_sagemaker.test_sagemaker_training_support import BUCKET, FRAUD, ROLE, _bucket

pytest.importorskip("sklearn")


@pytest.mark.slow
def test_automl_on_the_fraud_claims(local_session, tmp_path):
    import pandas as pd

    s3 = local_session.client("s3")
    sm = local_session.client("sagemaker")
    _bucket(s3)
    s3.put_object(Bucket=BUCKET, Key="fraud/claims.csv", Body=FRAUD.read_bytes())
    sm.create_auto_ml_job_v2(
        AutoMLJobName="fraud-automl",
        AutoMLJobInputDataConfig=[{"ChannelType": "training", "ContentType": "text/csv;header=present",
                                   "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix",
                                                                   "S3Uri": f"s3://{BUCKET}/fraud/"}}}],
        OutputDataConfig={"S3OutputPath": f"s3://{BUCKET}/automl-output"},
        AutoMLProblemTypeConfig={"TabularJobConfig": {"TargetAttributeName": "fraud",
                                                      "CompletionCriteria": {"MaxCandidates": 3}}},
        RoleArn=ROLE)
    job = wait_automl(sm, "fraud-automl", timeout=600)
    assert (job["AutoMLJobStatus"], job["AutoMLJobSecondaryStatus"]) == ("Completed", "MaxCandidatesReached"), \
        job.get("FailureReason")
    assert job["ResolvedAttributes"]["AutoMLProblemTypeResolvedAttributes"]["TabularResolvedAttributes"] == \
        {"ProblemType": "BinaryClassification"}

    pages = sm.get_paginator("list_candidates_for_auto_ml_job").paginate(
        AutoMLJobName="fraud-automl", SortBy="FinalObjectiveMetricValue", SortOrder="Descending",
        PaginationConfig={"PageSize": 2})
    board = [c for page in pages for c in page["Candidates"]]
    assert len(board) == 3
    families = {c["CandidateName"].split("-")[2] for c in board}
    assert len(families) == 3  # logistic regression, random forest, gradient boosting
    f1s = [c["FinalAutoMLJobObjectiveMetric"]["Value"] for c in board]
    assert f1s == sorted(f1s, reverse=True)
    best = job["BestCandidate"]
    assert best["CandidateName"] == board[0]["CandidateName"]
    assert best["FinalAutoMLJobObjectiveMetric"]["MetricName"] == "F1"
    # the majority class (not fraud) never predicts a fraud: its F1 is 0
    assert best["FinalAutoMLJobObjectiveMetric"]["Value"] > 0.0
    metrics = {m["StandardMetricName"]: m["Value"] for m in best["CandidateProperties"]["CandidateMetrics"]}
    assert metrics["AUC"] > 0.5 and 0 <= metrics["Recall"] <= 1

    # the artifact: model.joblib + code/inference.py, loaded as the local model server does
    container = best["InferenceContainers"][0]
    bucket, key = container["ModelDataUrl"][5:].split("/", 1)
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    model_dir = tmp_path / "model"
    with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as tar:
        tar.extractall(model_dir, filter="data")
    assert sorted(p.relative_to(model_dir).as_posix() for p in model_dir.rglob("*") if p.is_file()) == \
        ["code/inference.py", "model.joblib"]
    from local_backends.sagemaker.model_server.handlers import invocations, load_model

    rows = pd.read_csv(FRAUD).drop(columns="fraud").head(5)
    csv_body = rows.to_csv(index=False, header=False).encode()
    loaded = load_model(model_dir)
    out, ctype = invocations(csv_body, "text/csv", "text/csv", loaded)
    assert ctype == "text/csv"
    labels = out.decode().splitlines()
    assert len(labels) == 5 and set(labels) <= {"0", "1"}

    # and it serves on a local endpoint
    pytest.importorskip("uvicorn")
    from aws_ml import serving

    endpoint = serving.deploy(local_session, container["ModelDataUrl"], image=container["Image"],
                              environment=container["Environment"], name="fraud-automl-best")
    try:
        answer = local_session.client("sagemaker-runtime").invoke_endpoint(
            EndpointName=endpoint, Body=csv_body, ContentType="text/csv", Accept="text/csv")
        assert answer["Body"].read().decode() == out.decode()
    finally:
        sm.delete_endpoint(EndpointName=endpoint)
