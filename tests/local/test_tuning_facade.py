"""The section 5 and 8 facade (``aws_ml.training``) gives the same results on ``local`` (the
jobs run as local processes) and on ``moto`` (moto records the jobs, the facade runs them
here and writes the artifacts to moto's S3): built-in XGBoost training, a Random tuning job
of script-mode trials (a numpy logistic regression, given as ``entry_point``), and AutoML."""
from __future__ import annotations

import pytest

from aws_ml import Session, training
from tests.contract.test_sagemaker.test_sagemaker_training_support import NUMERIC
from tests.contract.test_sagemaker.test_sagemaker_tuning_support import FRAUD_LR_SCRIPT, VALIDATION_AUC

pytest.importorskip("xgboost")
pytest.importorskip("optuna")


def _fraud(rows: int):
    from tests.contract.test_sagemaker.test_sagemaker_training_support import FRAUD

    import pandas as pd

    return pd.read_csv(FRAUD, nrows=rows)


def _run(backend: str, home, script) -> dict:
    data = _fraud(1000)
    numeric = data.select_dtypes("number").drop(columns="policy_id")
    with Session(backend=backend, home=home, region="us-east-1") as session:
        trained = training.train(session, data=numeric, target="fraud", progress=False,
                                 hyperparameters={"num_round": 5, "max_depth": 3})
        s3 = session.client("s3")
        bucket, key = trained.model_data[5:].split("/", 1)
        assert s3.head_object(Bucket=bucket, Key=key)["ContentLength"] > 0
        versus = training.compare_with_baseline(trained, data=numeric, target="fraud",
                                                metric="validation:logloss")
        columns = NUMERIC + ["fraud"]  # the script reads the label in the last column
        tuned = training.tune(session, data=numeric[columns], target="fraud", strategy="Random",
                              entry_point=script, metric_definitions=VALIDATION_AUC,
                              ranges={"lr": (0.01, 1.0, "Logarithmic"), "epochs": (5, 40)},
                              max_jobs=2, max_parallel=2, progress=False)
        auto = training.automl(session, data.head(400), "fraud", max_candidates=2, progress=False)
        predicted = auto.load_model(session).predict(data.head(20))
    return {"trained": trained, "versus": versus, "tuned": tuned, "auto": auto, "predicted": predicted}


@pytest.mark.slow
def test_the_facade_answers_the_same_on_local_and_moto(tmp_path):
    script = tmp_path / "claims.py"
    # the script reads <train channel>/claims.csv: the facade's channel holds data.csv
    script.write_text(FRAUD_LR_SCRIPT.replace('"claims.csv"', '"data.csv"'))
    local = _run("local", tmp_path / "local", script)
    moto = _run("moto", tmp_path / "moto", script)
    for r in (local, moto):
        assert r["trained"].status == "Completed"
        assert {"validation:auc", "validation:logloss"} <= set(r["trained"].metrics)
        assert r["versus"].higher_is_better is False and r["versus"].baseline > 0
        tuned = r["tuned"]
        assert tuned.status == "Completed" and len(tuned.trials) == 2
        assert tuned.best_value == max(t["ObjectiveValue"] for t in tuned.trials)
        assert tuned.best_training_job.startswith(tuned.job_name + "-00")
        assert 0.4 < tuned.best_value < 1
        assert tuned.model_data.endswith(f"/{tuned.best_training_job}/output/model.tar.gz")
        auto = r["auto"]
        assert auto.status == "Completed" and auto.problem_type == "BinaryClassification"
        assert auto.objective == "F1" and len(auto.leaderboard) == 2
        assert auto.metrics["F1"] == auto.leaderboard[0]["metrics"]["F1"]
        assert set(r["predicted"]) <= {0, 1}
    assert local["trained"].metrics == moto["trained"].metrics
    assert local["versus"] == moto["versus"]
    assert local["tuned"].best_value == moto["tuned"].best_value
    assert local["tuned"].best_hyperparameters == moto["tuned"].best_hyperparameters
    assert local["auto"].metrics == moto["auto"].metrics
    assert list(local["predicted"]) == list(moto["predicted"])


def test_parameter_ranges_from_a_friendly_mapping():
    ranges = training.parameter_ranges({"eta": (0.01, 0.3, "Logarithmic"), "max_depth": (2, 8),
                                        "booster": ["gbtree", "dart"]})
    assert ranges == {
        "IntegerParameterRanges": [{"Name": "max_depth", "MinValue": "2", "MaxValue": "8",
                                    "ScalingType": "Auto"}],
        "ContinuousParameterRanges": [{"Name": "eta", "MinValue": "0.01", "MaxValue": "0.3",
                                       "ScalingType": "Logarithmic"}],
        "CategoricalParameterRanges": [{"Name": "booster", "Values": ["gbtree", "dart"]}]}
    assert training.parameter_ranges(ranges) == ranges


def test_baselines():
    y = [0] * 9 + [1]
    assert training.baseline_value("validation:auc", y) == 0.5
    assert training.baseline_value("accuracy", y) == pytest.approx(0.9)
    assert training.baseline_value("validation:error", y) == pytest.approx(0.1)
    assert training.baseline_value("f1", y) == 0.0
    assert training.baseline_value("rmse", [1.0, 3.0]) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="'metric' parameter"):
        training.baseline_value("bleu", y)
