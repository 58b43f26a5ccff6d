"""Static checks of ``infra/*.yaml``: the security properties no emulator checks, the
constructs known to break emulators, and cfn-lint."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

INFRA = Path(__file__).resolve().parents[2] / "infra"
TEMPLATES = sorted(INFRA.glob("*.yaml"))


class Tagged:
    """A ``!Tag value`` node kept as it is written (to see which form the author used)."""

    def __init__(self, tag: str, value) -> None:
        self.tag, self.value = tag, value

    def __repr__(self) -> str:
        return f"{self.tag} {self.value!r}"


class TagKeepingLoader(yaml.SafeLoader):
    """A YAML loader that knows CloudFormation's ``!`` tags and keeps them as :class:`Tagged`."""


def _tagged(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return Tagged("!" + suffix, value)


TagKeepingLoader.add_multi_constructor("!", _tagged)


def load(path: Path) -> dict:
    return yaml.load(path.read_text(), Loader=TagKeepingLoader)  # noqa: S506 - safe loader subclass


def resources(template: dict, rtype: str) -> dict:
    return {n: r for n, r in template["Resources"].items() if r["Type"] == rtype}


def walk(value):
    yield value
    if isinstance(value, Tagged):
        yield from walk(value.value)
    elif isinstance(value, dict):
        for v in value.values():
            yield from walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from walk(v)


@pytest.fixture(scope="module")
def core() -> dict:
    return load(INFRA / "core.yaml")


def test_templates_exist():
    assert [p.name for p in TEMPLATES] == ["core.yaml", "serving.yaml"]


def test_buckets_are_encrypted_private_versioned_and_expire(core):
    buckets = resources(core, "AWS::S3::Bucket")
    assert set(buckets) == {"DataBucket", "AthenaResultsBucket"}
    for name, bucket in buckets.items():
        props = bucket["Properties"]
        rules = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert rules and all(r["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
                             for r in rules), name
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True, "BlockPublicPolicy": True,
            "IgnorePublicAcls": True, "RestrictPublicBuckets": True}, name
        assert props["VersioningConfiguration"] == {"Status": "Enabled"}, name
        lifecycle = props["LifecycleConfiguration"]["Rules"]
        assert any("AbortIncompleteMultipartUpload" in r for r in lifecycle), name
        assert any("NoncurrentVersionExpiration" in r for r in lifecycle), name


def test_every_bucket_has_a_tls_only_policy(core):
    buckets = set(resources(core, "AWS::S3::Bucket"))
    covered = set()
    for name, policy in resources(core, "AWS::S3::BucketPolicy").items():
        target = policy["Properties"]["Bucket"]
        assert isinstance(target, Tagged) and target.tag == "!Ref", name
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        deny = [s for s in statements if s["Effect"] == "Deny" and s["Principal"] == "*"
                and s["Action"] in ("s3:*", ["s3:*"])
                and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") in ("false", False)]
        assert deny, f"{name} does not deny requests without TLS"
        covered_resources = [r.value for r in deny[0]["Resource"]]
        assert any(str(r).endswith("/*") for r in covered_resources), name  # objects too
        covered.add(target.value)
    assert covered == buckets


def test_log_groups_have_retention(core):
    groups = resources(core, "AWS::Logs::LogGroup")
    assert groups
    for name, group in groups.items():
        assert "RetentionInDays" in group["Properties"], name


def test_role_policy_is_least_privilege(core):
    documents = [p["Properties"]["PolicyDocument"] for p in resources(core, "AWS::IAM::ManagedPolicy").values()]
    for role in resources(core, "AWS::IAM::Role").values():
        documents += [p["PolicyDocument"] for p in role["Properties"].get("Policies", [])]
        assert "ManagedPolicyArns" not in role["Properties"]  # no broad AWS managed policies
    assert documents
    for document in documents:
        for statement in document["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            targets = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            assert statement["Effect"] == "Allow"
            assert not any(a == "*" or str(a).endswith(":*") for a in actions), statement
            if "*" in targets:  # only for actions without resource-level permissions, with a condition
                assert actions == ["cloudwatch:PutMetricData"] and "Condition" in statement, statement


def test_athena_workgroup_enforces_its_output_location(core):
    (group,) = resources(core, "AWS::Athena::WorkGroup").values()
    config = group["Properties"]["WorkGroupConfiguration"]
    assert config["EnforceWorkGroupConfiguration"] is True
    assert config["ResultConfiguration"]["OutputLocation"].tag == "!Sub"
    assert "EncryptionConfiguration" in config["ResultConfiguration"]


def test_feature_groups(core):
    groups = resources(core, "AWS::SageMaker::FeatureGroup")
    assert len(groups) == 2
    for group in groups.values():
        props = group["Properties"]
        assert props["RecordIdentifierFeatureName"] == "policy_id"
        assert props["OnlineStoreConfig"]["EnableOnlineStore"] is True
        assert props["OfflineStoreConfig"]["DisableGlueTableCreation"] is False
        assert props["OfflineStoreConfig"]["DataCatalogConfig"]["Database"].tag == "!Ref"


def test_outputs_are_exported(core):
    for name, output in core["Outputs"].items():
        assert "Export" in output, name


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_no_construct_known_to_break_emulators(path):
    template = load(path)
    conditional_getatt = []
    for node in walk(template):
        if isinstance(node, Tagged) and node.tag == "!Sub":
            inner = [n for n in walk(node.value) if isinstance(n, Tagged) and n.tag == "!ImportValue"]
            assert not inner, f"short-form !ImportValue inside !Sub in {path.name}"
        if isinstance(node, Tagged) and node.tag == "!If":
            conditional_getatt += [n for n in walk(node.value) if isinstance(n, Tagged) and n.tag == "!GetAtt"]
    assert not conditional_getatt, f"conditional GetAtt chains in {path.name}: {conditional_getatt}"
    for name, resource in template["Resources"].items():
        assert "Condition" not in resource or resource["Type"] != "AWS::SageMaker::Endpoint", name


@pytest.mark.slow
def test_cfn_lint_passes():
    pytest.importorskip("cfnlint")
    exe = shutil.which("cfn-lint") or str(Path(sys.executable).with_name("cfn-lint"))
    result = subprocess.run([exe, *map(str, TEMPLATES)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
