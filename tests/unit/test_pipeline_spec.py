"""The pipeline file: the bundled example loads, the Python form is the same schema, and a
bad file fails before any work with one line naming the file, the key path and what is
expected."""
from __future__ import annotations

import pytest
import yaml

from aws_ml import Session
from aws_ml.pipeline import PipelineFileError, PipelineSpec, example_path, load_pipeline, run
from aws_ml.pipeline.spec import Features, Problem, check_columns

from .pipeline_support import changed, small_pipeline, write_pipeline


def test_bundled_example_loads_and_checks_its_columns():
    spec = load_pipeline(example_path())
    assert spec.name == "fraud-detection" and spec.problem.target == "fraud"
    assert [s.path for s in spec.data.sources] == ["bundled:fraud/claims", "bundled:fraud/customers"]
    assert spec.training.hyperparameters["max_depth"] == 4 and spec.features.split.test == 0.2
    headers = check_columns(spec)
    assert "fraud" in headers["claims"] and "customer_gender" in headers["customers"]


def test_python_form_is_the_same_schema(tmp_path):
    data = small_pipeline(tmp_path)
    from_dict = PipelineSpec.from_dict(data)
    assert PipelineSpec.from_dict(from_dict.to_dict()) == from_dict
    built = PipelineSpec(name="fraud-small", problem=Problem(**data["problem"]), data=from_dict.data,
                         features=Features(record_id="policy_id", k=0))
    with pytest.raises(PipelineFileError, match=r"^<python>: features\.k: expected a number of features ≥ 1, got an integer 0"):
        built.validate()


BAD = [
    # (change to the small pipeline, the one line expected after "<file>: ")
    (("features.selct", "model"), "features.selct: unknown key; did you mean 'select'?"),
    (("evaluation.facet", ["x"]), "evaluation.facet: unknown key; did you mean 'facets'?"),
    (("features.k", "ten"), "features.k: expected an integer, got a string 'ten'"),
    (("features.split.test", "0.2"), "features.split.test: expected a number, got a string '0.2'"),
    (("evaluation.facets", "customer_gender"),
     "evaluation.facets: expected a list of strings, got a string 'customer_gender'"),
    (("data.sources", [{"name": "claims"}]),
     "data.sources[0].path: missing; expected a string (bundled:<name>, a file path or an s3:// URI)"),
    (("problem.metric", "acuracy"), "problem.metric: expected one of 'accuracy', "),
    (("problem.threshold", True), "problem.threshold: expected a number (or null), got a boolean True"),
    (("training", {"hyperparameters": {"max_depth": [4]}}),
     "training.hyperparameters.max_depth: expected an integer or a number or a string or true or false, got a list"),
    (("features.ratios", [["injury_claim"]]), "features.ratios: expected pairs [numerator, denominator]"),
]


@pytest.mark.parametrize("change, message", BAD, ids=[b[0][0] for b in BAD])
def test_bad_file_is_one_line_naming_file_key_and_expectation(tmp_path, change, message):
    path = write_pipeline(tmp_path, changed(small_pipeline(tmp_path), *change))
    with pytest.raises(PipelineFileError) as info:
        load_pipeline(path)
    text = str(info.value)
    assert "\n" not in text
    assert text.startswith(f"{path}: {message}"), text


def test_missing_key_and_broken_yaml(tmp_path):
    spec = small_pipeline(tmp_path)
    del spec["problem"]["target"]
    path = write_pipeline(tmp_path, spec)
    with pytest.raises(PipelineFileError, match=r": problem\.target: missing; expected a string \(the column"):
        load_pipeline(path)
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: x\nproblem: [\n")
    with pytest.raises(PipelineFileError, match=r"broken\.yaml: line 3, column 1: not valid YAML"):
        load_pipeline(broken)
    top = tmp_path / "list.yaml"
    top.write_text(yaml.safe_dump(["a"]))
    with pytest.raises(PipelineFileError, match=r"list\.yaml: the file: expected a mapping \(name, problem"):
        load_pipeline(top)


@pytest.mark.parametrize("change, message", [
    (("problem.target", "frod"), "problem.target: expected a column of the data, got 'frod'; did you mean 'fraud'?"),
    (("data.join_on", "policy"), "data.join_on: expected a column of every source, got 'policy'"),
    (("evaluation.facets", ["gender"]), "evaluation.facets[0]: expected a column of the data, got 'gender'"),
    (("features.numeric", ["fraud"]), "features.numeric[0]: expected a feature, got the target 'fraud'"),
    (("data.sources", [{"name": "claims", "path": "data/nope.csv"}]), "data.sources[0].path: expected an existing file"),
    (("data.sources", [{"name": "c", "path": "bundled:fraud/nope"}]), "data.sources[0].path: expected one of bundled:"),
], ids=["target", "join_on", "facet", "target-as-feature", "no-file", "no-bundle"])
def test_unknown_columns_fail_before_any_work(tmp_path, home, change, message):
    path = write_pipeline(tmp_path, changed(small_pipeline(tmp_path), *change))
    with Session(backend="local", home=home) as session:
        with pytest.raises(PipelineFileError) as info:
            run(path, session, progress=False)
        assert str(info.value).startswith(f"{path.resolve()}: {message}"), str(info.value)
        assert session.client("s3").list_buckets()["Buckets"] == []      # nothing created
    assert not (home / "pipelines").exists()                             # no state written


def test_job_names_are_valid_sagemaker_names_for_any_pipeline_name():
    """A pipeline may be named with '_'; SageMaker job names take letters, digits and '-'."""
    import re

    from aws_ml.pipeline.sections.common import job_name

    name = job_name("fraud_detection_v2", "train", {"a": 1}, width=40)
    assert name.startswith("fraud-detection-v2-train-") and re.fullmatch(r"[a-zA-Z0-9](-*[a-zA-Z0-9])*", name)
    assert name == job_name("fraud_detection_v2", "train", {"a": 1}, width=40)     # stable: found again on a re-run
    assert name != job_name("fraud_detection_v2", "train", {"a": 2}, width=40)
    assert len(job_name("x" * 80, "rand", {}, width=14, digits=8)) <= 32            # a tuning job's limit
