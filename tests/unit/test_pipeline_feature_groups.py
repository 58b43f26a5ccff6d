"""Section 4 with ``features.groups``: one feature group per source, each holding its
source's columns (the target with the source that has it), the training set their
point-in-time join; changed definitions re-create the pipeline's own groups; the file's
mistakes about groups fail before any work."""
from __future__ import annotations

import copy
import io

import pandas as pd
import pytest

from aws_ml import Session
from aws_ml.pipeline import run
from aws_ml.pipeline.spec import PipelineFileError, check_columns, load_pipeline

from .pipeline_support import prerun_template, small_pipeline, write_pipeline  # noqa: F401

GROUPS = [{"name": "{name}-claims", "source": "claims", "record_id": "policy_id",
           "stack_output": "ClaimsFeatureGroupName", "feature_types": {"injury_claim": "Fractional"}},
          {"name": "{name}-customers", "source": "customers", "stack_output": "CustomersFeatureGroupName"}]


def grouped(folder, groups=GROUPS) -> dict:
    spec = small_pipeline(folder, evaluation=None)
    spec["features"]["groups"] = copy.deepcopy(groups)
    return spec


def definitions(session, name: str) -> dict[str, str]:
    desc = session.client("sagemaker").describe_feature_group(FeatureGroupName=name)
    return {d["FeatureName"]: d["FeatureType"] for d in desc["FeatureDefinitions"]}


def test_each_source_in_its_own_group_and_the_join_is_the_table(tmp_path, session):
    """On local and moto (in-process: moto keeps the groups, the runtime is served locally)."""
    spec = grouped(tmp_path)
    path = write_pipeline(tmp_path, spec)
    claims = pd.read_csv(tmp_path / "data" / "claims.csv")
    customers = pd.read_csv(tmp_path / "data" / "customers.csv")
    result = run(path, session, progress=False, report=False)
    assert result.ok, [(s.name, s.message) for s in result.steps]
    out = result.step("features").outputs
    groups = {g["source"]: g for g in out["feature_groups"]}
    assert [g["name"] for g in out["feature_groups"]] == ["fraud-small-claims", "fraud-small-customers"]
    assert out["feature_group"] == "fraud-small-claims" and out["record_id"] == "policy_id"
    assert out["feature_group_arn"] == groups["claims"]["arn"]
    assert out["offline_store"] == groups["claims"]["offline_store"]
    assert groups["claims"]["ingested"] == groups["customers"]["ingested"] == out["ingested"] == 600
    assert all(g["stack"] is None for g in groups.values())

    # each group: its source's columns and event_time, nothing of the other source
    claims_defs = definitions(session, "fraud-small-claims")
    customers_defs = definitions(session, "fraud-small-customers")
    assert list(claims_defs) == ["policy_id", "event_time", *[c for c in claims.columns if c != "policy_id"]]
    assert list(customers_defs) == ["policy_id", "event_time",
                                    *[c for c in customers.columns if c != "policy_id"]]
    assert claims_defs["injury_claim"] == "Fractional" and claims_defs["fraud"] == "Integral"
    assert "fraud" not in customers_defs and "customer_age" not in claims_defs

    # the online stores hold the source rows
    runtime = session.client("sagemaker-featurestore-runtime")
    row = customers.iloc[7]
    record = runtime.get_record(FeatureGroupName="fraud-small-customers",
                                RecordIdentifierValueAsString=str(row["policy_id"]))["Record"]
    values = {r["FeatureName"]: r["ValueAsString"] for r in record}
    assert values["customer_education"] == row["customer_education"]
    assert int(values["customer_age"]) == row["customer_age"]

    # the training set (the point-in-time join of both offline stores) is the joined table
    s3 = session.client("s3")
    bucket, _, key = out["artifacts"]["test_raw"][5:].partition("/")
    test_raw = pd.read_parquet(io.BytesIO(s3.get_object(Bucket=bucket, Key=key)["Body"].read()))
    assert len(test_raw) == out["rows"]["test"] == 120
    expected = claims.merge(customers, on="policy_id").set_index("policy_id").loc[test_raw["policy_id"]]
    got = test_raw.set_index("policy_id")[expected.columns]
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    assert {"customer_age", "incident_severity"} <= set(out["numeric"] + out["categorical"])
    assert "policy_id" not in out["numeric"]


def test_changed_types_recreate_the_pipelines_own_group_only(tmp_path, home):
    spec = grouped(tmp_path)
    path = write_pipeline(tmp_path, spec)
    with Session(backend="local", home=home, region="us-east-1") as session:
        assert run(path, session, progress=False, report=False).ok
        sm = session.client("sagemaker")
        before = {n: sm.describe_feature_group(FeatureGroupName=n)["CreationTime"]
                  for n in ("fraud-small-claims", "fraud-small-customers")}
        spec["features"]["groups"][1]["feature_types"] = {"customer_age": "Fractional"}
        result = run(write_pipeline(tmp_path, spec), session, progress=False, report=False)
        assert result.executed == ["features"]
        assert definitions(session, "fraud-small-customers")["customer_age"] == "Fractional"
        after = {n: sm.describe_feature_group(FeatureGroupName=n)["CreationTime"] for n in before}
        assert after["fraud-small-claims"] == before["fraud-small-claims"]
        assert after["fraud-small-customers"] > before["fraud-small-customers"]
        names = sorted(g["FeatureGroupName"] for g in sm.list_feature_groups()["FeatureGroupSummaries"])
        assert names == ["fraud-small-claims", "fraud-small-customers"]


def test_a_group_deleted_by_hand_is_made_again(tmp_path, home):
    path = write_pipeline(tmp_path, grouped(tmp_path))
    with Session(backend="local", home=home, region="us-east-1") as session:
        assert run(path, session, progress=False, report=False).ok
        session.client("sagemaker").delete_feature_group(FeatureGroupName="fraud-small-customers")
        again = run(path, session, progress=False, report=False)
        assert again.executed == ["features"]
        assert definitions(session, "fraud-small-customers")["customer_age"] == "Integral"


def test_without_groups_one_group_of_the_joined_table(prerun_template):  # noqa: F811
    _, _, result = prerun_template
    out = result.step("features").outputs
    assert [(g["name"], g["source"], g["ingested"]) for g in out["feature_groups"]] == [
        ("fraud-small-features", None, 600)]
    assert out["feature_group"] == "fraud-small-features"


@pytest.mark.parametrize("change, message", [
    (lambda g: g[0].update(source="claim"), "features.groups[0].source: expected the name of a data source, "
                                            "got 'claim'; did you mean 'claims'?"),
    (lambda g: g[1].update(source="claims"), "features.groups[1].source: expected a unique source, got 'claims' "
                                             "again (as in features.groups[0])"),
    (lambda g: g[1].update(name="{name}-claims"), "features.groups[1].name: expected a unique name"),
    (lambda g: g.pop(1), "features.groups: expected a group for every source, got none for 'customers'"),
    (lambda g: g[1].update(record_id="customer_zip_code"), "features.groups[1].record_id: expected a column of "
                                                           "source 'customers', got 'customer_zip_code'"),
    (lambda g: g[1].update(feature_types={"fraud": "Integral"}),
     "features.groups[1].feature_types.fraud: expected a column of source 'customers'"),
    (lambda g: g[0].update(feature_types={"fraud": "Boolean"}),
     "features.groups[0].feature_types.fraud: expected one of 'Integral', 'Fractional', 'String', got a string "
     "'Boolean'"),
    (lambda g: g[0].update(stack_ouput="X"), "features.groups[0].stack_ouput: unknown key; did you mean "
                                             "'stack_output'?"),
])
def test_group_mistakes_fail_before_any_work(tmp_path, home, change, message):
    groups = copy.deepcopy(GROUPS)
    change(groups)
    path = write_pipeline(tmp_path, grouped(tmp_path, groups))
    with pytest.raises(PipelineFileError) as caught:
        check_columns(load_pipeline(path))
    assert str(caught.value).startswith(f"{path.resolve()}: {message}") or \
        str(caught.value).startswith(f"{path}: {message}"), str(caught.value)
    assert "\n" not in str(caught.value)
    with Session(backend="local", home=home, region="us-east-1") as session:
        with pytest.raises(PipelineFileError):
            run(path, session, progress=False, report=False)
        assert session.client("s3").list_buckets()["Buckets"] == []
        assert session.client("sagemaker").list_feature_groups()["FeatureGroupSummaries"] == []


def test_the_bundled_fraud_pipeline_has_the_stacks_two_groups():
    import yaml
    from pathlib import Path

    from aws_ml.pipeline import example_path

    spec = load_pipeline(example_path())
    assert [(g.source, g.stack_output) for g in spec.features.groups] == [
        ("claims", "ClaimsFeatureGroupName"), ("customers", "CustomersFeatureGroupName")]
    check_columns(spec)

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, tag, node: None)
    core = yaml.load((Path(__file__).resolve().parents[2] / "infra" / "core.yaml").read_text(), Loader=Loader)
    from aws_ml import datasets
    from aws_ml.features import infer_feature_definitions
    from aws_ml.pipeline.sections.feature_groups import cast_types

    for group, logical in zip(spec.features.groups, ("ClaimsFeatureGroup", "CustomersFeatureGroup")):
        frame = cast_types(datasets.load(f"fraud/{group.source}"), group.feature_types)
        frame.insert(1, "event_time", 0.0)
        inferred = [(d["FeatureName"], d["FeatureType"]) for d in infer_feature_definitions(frame)]
        template = [(d["FeatureName"], d["FeatureType"])
                    for d in core["Resources"][logical]["Properties"]["FeatureDefinitions"]]
        assert inferred == template


def test_text_classes_are_written_as_numbers_positive_class_one(tmp_path, home):
    spec = grouped(tmp_path)
    spec["problem"]["positive_class"] = "yes"
    claims_csv = tmp_path / "data" / "claims.csv"
    claims = pd.read_csv(claims_csv)
    claims["fraud"] = claims["fraud"].map({1: "yes", 0: "no"})
    claims.to_csv(claims_csv, index=False)
    path = write_pipeline(tmp_path, spec)
    with Session(backend="local", home=home, region="us-east-1") as session:
        result = run(path, session, progress=False, report=False)
        assert result.ok, [(s.name, s.message) for s in result.steps]
        out = result.step("features").outputs
        assert out["label_encoding"] == {"no": 0, "yes": 1} and out["classes"] == ["no", "yes"]
        s3 = session.client("s3")

        def read(uri: str):
            bucket, _, key = uri[5:].partition("/")
            body = io.BytesIO(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
            return pd.read_parquet(body) if uri.endswith(".parquet") else pd.read_csv(body, header=None)

        test, test_raw = read(out["artifacts"]["test"]), read(out["artifacts"]["test_raw"])
    assert set(test[0]) == {0, 1}
    assert test[0].tolist() == (test_raw["fraud"] == "yes").astype(int).tolist()
