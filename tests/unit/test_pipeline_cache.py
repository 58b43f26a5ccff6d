"""Caching: an unchanged pipeline recomputes nothing; one changed setting re-runs only that
step and what depends on it; a step's record is written only when it completes."""
from __future__ import annotations

import json

import pytest

from aws_ml import Session
from aws_ml.pipeline import StepRegistry, run
from aws_ml.pipeline.cache import LocalStateStore
from aws_ml.pipeline.steps import Step

from .pipeline_support import changed, counting_registry, prerun, prerun_template, write_pipeline  # noqa: F401


def test_rerun_unchanged_recomputes_nothing(prerun, prerun_template):
    folder, spec = prerun
    registry, counts = counting_registry()
    with Session(backend="local", home=folder / "home") as session:
        result = run(folder / "pipeline.yaml", session, progress=False, registry=registry)
    assert sum(counts.values()) == 0 and result.executed == []
    assert [s.status for s in result.steps] == ["cached"] * 4 + ["skipped"] * 4
    first = prerun_template[2]
    assert [s.outputs for s in result.steps[:4]] == [s.outputs for s in first.steps[:4]]
    assert result.previous_run_id == first.run_id


@pytest.mark.parametrize("setting, value, reruns", [
    ("evaluation.facets", ["policy_state"], ["evaluation"]),
    ("problem.objective", "Pay honest claims fast, stop the others", ["problem"]),
])
def test_one_changed_setting_reruns_only_that_step(prerun, setting, value, reruns):
    folder, spec = prerun
    path = write_pipeline(folder, changed(spec, setting, value))
    registry, counts = counting_registry()
    with Session(backend="local", home=folder / "home") as session:
        result = run(path, session, progress=False, registry=registry)
    assert result.executed == reruns and dict(counts) == {name: 1 for name in reruns}
    assert all(s.status == "cached" for s in result.steps[:4] if s.name not in reruns)


def _light_registry(calls: list, fail: set) -> StepRegistry:
    """Four light steps in a chain a -> b -> c, and d after a only (no facade needed)."""
    def make(name):
        def fn(ctx, config):
            calls.append(name)
            if name in fail:
                raise RuntimeError(f"{name} broke")
            return {"value": config, "inputs": sorted(ctx.inputs)}
        return fn
    reg = StepRegistry()
    reg.add(Step("problem", 1, "Problem formulation", make("problem"), lambda spec, ctx: {"t": spec.problem.target}))
    reg.add(Step("data", 2, "Data", make("data"), lambda spec, ctx: {"d": spec.description}, needs=("problem",)))
    reg.add(Step("evaluation", 3, "Evaluation", make("evaluation"),
                 lambda spec, ctx: spec.evaluation and {"f": spec.evaluation.facets}, needs=("data",)))
    reg.add(Step("features", 4, "Features", make("features"),
                 lambda spec, ctx: spec.features and {"k": spec.features.k}, needs=("problem",)))
    return reg


def test_a_change_reruns_what_follows_and_a_failure_resumes(tmp_path, home):
    from .pipeline_support import small_pipeline

    spec = small_pipeline(tmp_path)
    path = write_pipeline(tmp_path, spec)
    calls: list[str] = []
    with Session(backend="local", home=home) as session:
        r1 = run(path, session, progress=False, registry=_light_registry(calls, fail={"evaluation"}))
        assert [s.status for s in r1.steps] == ["done", "done", "failed", "not run"]
        assert r1.step("evaluation").message == "RuntimeError: evaluation broke" and not r1.ok
        calls.clear()
        r2 = run(path, session, progress=False, registry=_light_registry(calls, fail=set()))
        assert calls == ["evaluation", "features"]          # resumed where it stopped
        assert r2.ok and r2.step("evaluation").outputs["inputs"] == ["data"]
        calls.clear()
        r3 = run(write_pipeline(tmp_path, changed(spec, "description", "v2")), session, progress=False,
                 registry=_light_registry(calls, fail=set()))
        assert calls == ["data", "evaluation"]              # data and what depends on it
        assert [s.status for s in r3.steps] == ["cached", "done", "done", "cached"]


def test_unavailable_facade_is_reported_never_faked(tmp_path, home):
    from .pipeline_support import small_pipeline

    calls: list[str] = []
    registry = _light_registry(calls, fail=set()).replace("data", requires=("aws_ml.not_in_this_version",))
    with Session(backend="local", home=home) as session:
        result = run(write_pipeline(tmp_path, small_pipeline(tmp_path)), session, progress=False,
                     registry=registry)
    assert calls == ["problem", "features"]
    data, evaluation = result.step("data"), result.step("evaluation")
    assert data.status == "unavailable" and data.message.startswith("not available in this version")
    assert "aws_ml.not_in_this_version" in data.message
    assert evaluation.status == "blocked" and "needs section 2" in evaluation.message and result.ok
    report = json.loads((home / "pipelines" / "fraud-small" / "runs" / result.run_id / "report.json").read_text())
    answers = report["sections"][1]["answers"]
    assert len(answers) == 4 and all(a["answer"].startswith("Not answered: not available in this version")
                                     for a in answers)


def test_records_are_written_atomically(tmp_path):
    store = LocalStateStore(tmp_path)
    store.save_step("data", "k1", {"outputs": {"a": 1}})
    assert store.step_record("data", "k1")["outputs"] == {"a": 1}
    assert [p.name for p in (tmp_path / "steps" / "data").iterdir()] == ["k1.json"]   # no temporary left
    assert store.step_record("data", "k2") is None
    with store.lock():
        with pytest.raises(RuntimeError, match="another run of this pipeline is in progress"):
            with LocalStateStore(tmp_path).lock():
                pass


def test_state_in_s3_beside_the_artefacts_on_moto(tmp_path, home):
    """On every backend but local the records live under the artefact prefix in S3."""
    from .pipeline_support import small_pipeline

    path = write_pipeline(tmp_path, small_pipeline(tmp_path, features=None))
    with Session(backend="moto", home=home, region="us-east-1") as session:
        first = run(path, session, progress=False)
        registry, counts = counting_registry()
        again = run(path, session, progress=False, registry=registry)
        s3 = session.client("s3")
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=first.bucket, Prefix=f"{first.prefix}/_state/")["Contents"]]
        report = json.loads(s3.get_object(Bucket=first.bucket, Key=again.report_json.split("/", 3)[3])["Body"].read())
    assert first.executed == ["problem", "data", "evaluation"] and again.executed == [] and not counts
    assert first.state == again.state == f"s3://{first.bucket}/{first.prefix}/_state/"
    assert sum(k.startswith(f"{first.prefix}/_state/steps/") for k in keys) == 3
    assert report["previous_run_id"] == first.run_id and not (home / "pipelines").exists()
