"""Shared helpers of the pipeline runner's tests: a small pipeline over a sample of the
bundled fraud tables (fast), and a registry that counts step executions."""
from __future__ import annotations

import copy
import shutil
from collections import Counter
from pathlib import Path

import pytest
import yaml

from aws_ml import datasets
from aws_ml.pipeline import default_registry
from aws_ml.pipeline.steps import StepRegistry

ROWS = 600


def write_sources(folder: Path, rows: int = ROWS) -> dict[str, Path]:
    """A stratified sample of claims (every fraud kept up to a third) and the matching customers."""
    claims = datasets.load("fraud/claims")
    frauds = claims[claims["fraud"] == 1].head(rows // 6)
    others = claims[claims["fraud"] == 0].head(rows - len(frauds))
    sample = claims.loc[sorted(list(frauds.index) + list(others.index))]
    customers = datasets.load("fraud/customers")
    customers = customers[customers["policy_id"].isin(sample["policy_id"])]
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"claims": folder / "claims.csv", "customers": folder / "customers.csv"}
    sample.to_csv(paths["claims"], index=False)
    customers.to_csv(paths["customers"], index=False)
    return paths


def small_pipeline(folder: Path, **sections) -> dict:
    """Sections 1 to 4 of the fraud pipeline on the sample (what every backend runs fast)."""
    write_sources(folder / "data")
    spec = {
        "name": "fraud-small",
        "problem": {"objective": "Stop paying fraudulent claims", "question": "Is this claim fraudulent?",
                    "target": "fraud", "problem_type": "binary", "positive_class": 1, "metric": "f1",
                    "threshold": 0.2, "id_columns": ["policy_id"]},
        "data": {"sources": [{"name": "claims", "path": "data/claims.csv"},
                             {"name": "customers", "path": "data/customers.csv"}], "join_on": "policy_id"},
        "evaluation": {"facets": ["customer_gender"]},
        "features": {"record_id": "policy_id", "select": "mutual_info", "k": 15,
                     "split": {"test": 0.2, "validation": 0.2, "seed": 0}},
    }
    for key, value in sections.items():
        if value is None:
            spec.pop(key, None)
        else:
            spec[key] = value
    return spec


def write_pipeline(folder: Path, spec: dict, name: str = "pipeline.yaml") -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def changed(spec: dict, dotted: str, value) -> dict:
    out = copy.deepcopy(spec)
    node = out
    *parents, last = dotted.split(".")
    for p in parents:
        node = node[p]
    node[last] = value
    return out


def counting_registry(base: StepRegistry | None = None) -> tuple[StepRegistry, Counter]:
    """The registry with every step function wrapped to count its executions."""
    counts: Counter = Counter()
    registry = base or default_registry()
    for step in list(registry):
        def wrapped(ctx, config, _fn=step.fn, _name=step.name):
            counts[_name] += 1
            return _fn(ctx, config)
        registry = registry.replace(step.name, fn=wrapped)
    return registry, counts


# -- fixtures (import them into a test module to use them) ------------------------------

@pytest.fixture(scope="session")
def prerun_template(tmp_path_factory):
    """The small pipeline run once (one per test process): its folder, spec and result."""
    from aws_ml import Session
    from aws_ml.pipeline import run

    folder = tmp_path_factory.mktemp("pipeline-template")
    spec = small_pipeline(folder)
    path = write_pipeline(folder, spec)
    with Session(backend="local", home=folder / "home", region="us-east-1") as session:
        result = run(path, session, progress=False)
    assert result.executed == ["problem", "data", "evaluation", "features"], [
        (s.name, s.status, s.message) for s in result.steps]
    return folder, spec, result


@pytest.fixture
def prerun(prerun_template, tmp_path):
    """A copy of the template's folder (pipeline file, data and state root) for one test."""
    template, spec, _ = prerun_template
    folder = tmp_path / "pipeline"
    shutil.copytree(template, folder)
    return folder, spec
