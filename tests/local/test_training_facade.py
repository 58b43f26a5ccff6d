"""Section 5 of the facade beyond ``train``: k-fold cross-validation (one training job per
fold, the fold as the ``validation`` channel) with the rich progress shown, the same on
``local`` (local job processes) and ``moto`` (moto records the jobs, the work runs here)."""
from __future__ import annotations

import pytest

from aws_ml import Session, training

pytest.importorskip("xgboost")
pytestmark = pytest.mark.slow


def _claims(rows: int):
    from tests.contract.test_sagemaker.test_sagemaker_training_support import fraud_frame

    return fraud_frame(rows)


def _cross_validate(backend: str, home, capsys) -> tuple:
    data = _claims(300)
    with Session(backend=backend, home=home, region="us-east-1") as session:
        result = training.cross_validate(session, data=data, target="fraud", folds=3,
                                         hyperparameters={"num_round": 3, "max_depth": 2}, progress=True)
        s3 = session.client("s3")
        sizes = []
        for name in result.job_names:
            stem, fold = name.rsplit("-", 1)
            body = s3.get_object(Bucket="sagemaker-us-east-1-123456789012",
                                 Key=f"aws-ml/{stem}/{fold}/validation/data.csv")["Body"].read()
            sizes.append(len(body.decode().splitlines()))
        statuses = [session.client("sagemaker").describe_training_job(TrainingJobName=n)["TrainingJobStatus"]
                    for n in result.job_names]
    return result, sizes, statuses, capsys.readouterr().err


def test_cross_validation_runs_one_job_per_fold_alike_on_local_and_moto(tmp_path, capsys):
    results = {}
    for backend in ("local", "moto"):
        result, sizes, statuses, progress = _cross_validate(backend, tmp_path / backend, capsys)
        assert len(result.job_names) == 3
        assert all(n.endswith(f"-fold{i + 1}") for i, n in enumerate(result.job_names))
        assert statuses == ["Completed"] * 3
        assert sizes == [100, 100, 100]  # each row is in exactly one validation fold
        assert all({"validation:auc", "validation:logloss", "train:auc"} <= set(m) for m in result.fold_metrics)
        mean = result.mean["validation:auc"]
        assert mean == pytest.approx(sum(m["validation:auc"] for m in result.fold_metrics) / 3)
        assert 0.0 <= result.std["validation:auc"] < 0.5
        assert "cross-validation" in progress and "done" in progress  # the rich status line's end
        results[backend] = result
    assert results["local"].fold_metrics == results["moto"].fold_metrics


def test_cross_validation_needs_two_folds(tmp_path):
    with Session(backend="local", home=tmp_path, region="us-east-1") as session:
        with pytest.raises(ValueError, match="'folds' parameter"):
            training.cross_validate(session, data=_claims(20), target="fraud", folds=1)
