"""The local Autopilot candidate search in-process (``automl_runner``): problem-type
inference for the three tabular problem types, candidates of several families behind a
preprocessing step, out-of-fold (cross-validated) scores, the runtime completion
criterion; and ``MaxAutoMLJobRuntimeInSeconds`` through boto3."""
from __future__ import annotations

import time

import pytest

pytest.importorskip("sklearn")
np = pytest.importorskip("numpy")
pd = pytest.importorskip("pandas")

from local_backends.sagemaker import automl_runner as runner  # noqa: E402


def _frame(n: int, target, seed: int = 0):
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    colour = rng.choice(["red", "green", "blue", None], size=n)
    frame = pd.DataFrame({"x1": x1, "x2": x2, "colour": colour})
    frame.loc[::7, "x2"] = np.nan  # missing values: imputed by the preprocessing
    frame["y"] = target(x1, x2, rng)
    return frame


@pytest.mark.parametrize("values, expected", [
    ([0, 1] * 30, "BinaryClassification"),
    (["yes", "no", "no"] * 20, "BinaryClassification"),
    (["cat", "dog", "bird"] * 20, "MulticlassClassification"),
    ([1, 2, 3, 4] * 25, "MulticlassClassification"),
    (list(np.linspace(0, 1, 60)), "Regression"),
    (list(range(60)), "Regression"),  # integers, all distinct: a quantity, not classes
])
def test_problem_type_is_inferred_from_the_target(values, expected):
    assert runner.infer_problem_type(pd.Series(values)) == expected


def test_a_constant_target_is_refused():
    with pytest.raises(runner.AutoMLError, match="at least 2"):
        runner.infer_problem_type(pd.Series([1] * 30))


@pytest.mark.parametrize("problem, target, objective", [
    ("Regression", lambda a, b, rng: 3 * a - np.nan_to_num(b) + rng.normal(0, 0.1, len(a)), "R2"),
    ("MulticlassClassification", lambda a, b, rng: np.digitize(a, [-0.5, 0.5]), "Accuracy"),
])
def test_search_scores_several_families_per_problem_type(problem, target, objective):
    data = runner.prepare(_frame(240, target), "y", None)
    assert data.problem_type == problem
    assert (data.numeric, data.categorical) == (["x1", "x2"], ["colour"])
    results, why = runner.search(data, "job", 3)
    assert why == "Completed" and [r.failure for r in results] == [None] * 3
    assert len({r.spec.family for r in results}) == 3
    for r in results:
        assert set(r.metrics) == set(runner.METRICS[problem])
        assert r.archive  # a model.tar.gz
    best = max(r.metrics[objective] for r in results)
    assert best > 0.6  # every family learns the signal, through the preprocessing


def test_candidates_are_scored_out_of_fold():
    """Noise labels: a forest fits them (in-sample accuracy near 1) but its cross-validated
    accuracy stays at chance, so the reported scores are not in-sample ones."""
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(rng.normal(size=(200, 5)), columns=[f"f{i}" for i in range(5)])
    frame["y"] = rng.integers(0, 2, size=200)
    data = runner.prepare(frame, "y", "BinaryClassification")
    spec = runner.CandidateSpec("random_forest", runner.sample_params("random_forest", data.problem_type,
                                                                      None, first=True))
    cv = runner.evaluate(spec, data)
    fitted = runner.fit_final(spec, data)
    in_sample = float((fitted.predict(data.x) == data.y).mean())
    assert in_sample > 0.85
    assert cv["Accuracy"] < 0.65


def test_the_pipeline_imputes_encodes_and_scales():
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    data = runner.prepare(_frame(100, lambda a, b, rng: (a > 0).astype(int)), "y", None)
    spec = runner.plan(data.problem_type, 1)[0]
    model = runner.fit_final(spec, data)
    pre = model.named_steps["preprocess"]
    steps = {name: [type(s) for _, s in pipe.steps] for name, pipe, _ in pre.transformers_ if name != "remainder"}
    assert steps == {"numeric": [SimpleImputer, StandardScaler], "categorical": [SimpleImputer, OneHotEncoder]}
    assert model.predict(data.x.head(5)).shape == (5,)


def test_the_runtime_criterion_ends_the_search():
    data = runner.prepare(_frame(60, lambda a, b, rng: (a > 0).astype(int)), "y", None)
    assert runner.search(data, "job", 5, deadline=time.time() - 1) == ([], "MaxAutoMLJobRuntimeReached")
    assert runner.runtime_deadline({"MaxAutoMLJobRuntimeInSeconds": 30}, 100.0) == 130.0
    assert runner.runtime_deadline({"MaxCandidates": 3}, 100.0) is None


@pytest.mark.slow
def test_max_automl_job_runtime_completes_the_job_early(local_session):
    from tests.contract.test_sagemaker.test_sagemaker_automl import request, wait_automl
    from tests.contract.test_sagemaker.test_sagemaker_training_support import BUCKET, FRAUD, _bucket

    s3, sm = local_session.client("s3"), local_session.client("sagemaker")
    _bucket(s3)
    with open(FRAUD) as f:
        head = "".join(f.readline() for _ in range(301))
    s3.put_object(Bucket=BUCKET, Key="automl/in/claims.csv", Body=head.encode())
    req = request("automl-runtime", candidates=500)
    req["AutoMLProblemTypeConfig"]["TabularJobConfig"]["CompletionCriteria"]["MaxAutoMLJobRuntimeInSeconds"] = 8
    sm.create_auto_ml_job_v2(**req)
    job = wait_automl(sm, "automl-runtime", timeout=120)
    assert (job["AutoMLJobStatus"], job["AutoMLJobSecondaryStatus"]) == \
        ("Completed", "MaxAutoMLJobRuntimeReached"), job.get("FailureReason")
    assert job["ResolvedAttributes"]["CompletionCriteria"]["MaxAutoMLJobRuntimeInSeconds"] == 8
    candidates = sm.list_candidates_for_auto_ml_job(AutoMLJobName="automl-runtime", MaxResults=100)["Candidates"]
    assert 1 <= len(candidates) < 500
    assert "BestCandidate" in job
