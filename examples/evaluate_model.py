"""Sections 6–7, deployment and model evaluation, on the bundled fraud claims.

A fraud model is trained here (scikit-learn, numeric columns), evaluated on a held-out
split against trivial baselines, and its training data baselined in S3 in SageMaker Model
Monitor's format. The model is deployed to an endpoint with data capture at 100 %, sent
normal traffic and then shifted traffic (claim amounts × 3); the capture is read back from
S3 and checked for drift; the figures go to CloudWatch, where alarms watch them. The report
is written to ./model_evaluation/report.html and to S3.

    python examples/evaluate_model.py                 # local backend (AWS_ML_BACKEND to change)
"""
from __future__ import annotations

import io
import tarfile
import tempfile
from pathlib import Path

import joblib
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from aws_ml import Session, datasets, serving
from aws_ml.monitoring import (alarm_states, check_drift, create_quality_alarms, evaluate_model, publish,
                               suggest_baseline)
from aws_ml.problem import ProblemSpec

BUCKET = "fraud-models"
CLAIM_AMOUNTS = ["injury_claim", "vehicle_claim", "total_claim_amount"]


def model_archive(model) -> bytes:
    """``model.tar.gz`` holding ``model.joblib``, as the scikit-learn container expects it."""
    with tempfile.TemporaryDirectory() as d:
        joblib.dump(model, Path(d) / "model.joblib")
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz") as tar:
            tar.add(Path(d) / "model.joblib", arcname="model.joblib")
    return buf.getvalue()


def invoke(session, endpoint: str, frame, rows_per_request: int = 50) -> None:
    runtime = session.client("sagemaker-runtime")
    values = frame.to_numpy()
    for start in range(0, len(values), rows_per_request):
        body = "\n".join(",".join(repr(v.item()) for v in row) for row in values[start:start + rows_per_request])
        runtime.invoke_endpoint(EndpointName=endpoint, Body=body.encode(), ContentType="text/csv")
    serving.flush(session)                       # write the buffered capture to S3 now


def main() -> None:
    claims = datasets.load("fraud/claims")
    X = claims.select_dtypes("number").drop(columns=["policy_id", "fraud"])
    y = claims["fraud"]
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
    spec = ProblemSpec(objective="Stop paying fraudulent claims", question="Is this claim fraudulent?",
                       target="fraud", metric="pr_auc", threshold=0.05)

    # 1. evaluation on the held-out split, against trivial baselines and a simpler model
    logistic = make_pipeline(StandardScaler(), LogisticRegression(class_weight="balanced", max_iter=1000))
    logistic.fit(X_train, y_train)
    boosting = GradientBoostingClassifier(n_estimators=50, max_depth=3, random_state=0).fit(X_train, y_train)
    features = claims.loc[X_test.index].drop(columns=["policy_id", "fraud"])
    evaluation = evaluate_model(y_test, y_score=logistic.predict_proba(X_test)[:, 1], features=features,
                                baseline={"majority": "majority",
                                          "gradient boosting": {"y_score": boosting.predict_proba(X_test)[:, 1]}},
                                model_name="fraud-logistic")
    print(evaluation.summary())

    with tempfile.TemporaryDirectory(prefix="aws_ml_example_") as home, \
            Session(home=home) as session:               # backend: AWS_ML_BACKEND, else local
        s3 = session.client("s3")
        s3.create_bucket(Bucket=BUCKET)

        # 2. the training data's baseline (statistics.json, constraints.json) in S3
        baseline = suggest_baseline(X_train, session=session, output_uri=f"s3://{BUCKET}/monitoring/baseline")
        print(f"\nbaseline of {baseline.item_count:,} rows written to {baseline.uri}")

        # 3. the model on an endpoint that captures every request
        s3.put_object(Bucket=BUCKET, Key="fraud/model.tar.gz", Body=model_archive(logistic))
        capture = f"s3://{BUCKET}/monitoring/capture"
        endpoint = serving.deploy(session, f"s3://{BUCKET}/fraud/model.tar.gz", name="fraud-logistic",
                                  data_capture={"EnableCapture": True, "InitialSamplingPercentage": 100,
                                                "DestinationS3Uri": capture,
                                                "CaptureOptions": [{"CaptureMode": "Input"},
                                                                   {"CaptureMode": "Output"}]})
        try:
            dims = {"Endpoint": endpoint}
            alarms = create_quality_alarms(session, dimensions=dims, spec=spec)
            publish(session, evaluation, dimensions=dims)

            # 4. normal traffic: no drift
            invoke(session, endpoint, X_test)
            normal = check_drift(baseline, f"{capture}/{endpoint}", session=session)
            publish(session, normal, dimensions=dims)
            print(f"\nnormal traffic: {normal.item_count:,} captured rows, {len(normal.violations)} violation(s); "
                  f"alarms {alarm_states(session, alarms)}")

            # 5. shifted traffic (claim amounts × 3): drift, and the alarm goes off
            shifted = X_test.copy()
            shifted[CLAIM_AMOUNTS] = shifted[CLAIM_AMOUNTS] * 3
            invoke(session, endpoint, shifted)
            drift = check_drift(baseline, f"{capture}/{endpoint}", session=session)
            publish(session, drift, dimensions=dims)
            drift.save(session, f"s3://{BUCKET}/monitoring/reports/latest")
            print(f"after shifted traffic: {drift.summary()}")
            print(f"alarms {alarm_states(session, alarms)}")
        finally:
            serving.delete(session, endpoint)

        # 6. the report, on disk and in S3
        evaluation.attach_drift(drift)
        out = Path("model_evaluation")
        out.mkdir(exist_ok=True)
        evaluation.to_html(out / "report.html")
        saved = evaluation.save(session, f"s3://{BUCKET}/monitoring/evaluation")
        print(f"\nreport: {out / 'report.html'} and {saved['report.html']}")


if __name__ == "__main__":
    main()
