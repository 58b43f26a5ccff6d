"""IAM roles on local and moto: trust policies, inline policies, tags, errors."""
from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.conftest import moto_gap

TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
READ = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::data/*"}]}


def code(exc) -> str:
    return exc.value.response["Error"]["Code"]


@pytest.fixture
def iam(session):
    return session.client("iam")


def test_create_get_list_role(iam):
    role = iam.create_role(RoleName="sm", AssumeRolePolicyDocument=json.dumps(TRUST), Path="/ml/",
                           Description="training", Tags=[{"Key": "team", "Value": "ml"}])["Role"]
    assert role["Arn"] == "arn:aws:iam::123456789012:role/ml/sm"
    assert role["RoleId"].startswith("AROA")
    got = iam.get_role(RoleName="sm")["Role"]
    assert got["AssumeRolePolicyDocument"] == TRUST  # botocore decodes IAM's URL-encoded JSON
    assert got["Description"] == "training"
    assert got["MaxSessionDuration"] == 3600
    assert got["Tags"] == [{"Key": "team", "Value": "ml"}]
    assert [r["RoleName"] for r in iam.list_roles(PathPrefix="/ml/")["Roles"]] == ["sm"]
    assert iam.list_roles(PathPrefix="/other/")["Roles"] == []


def test_duplicate_and_missing_roles(iam):
    iam.create_role(RoleName="sm", AssumeRolePolicyDocument=json.dumps(TRUST))
    with pytest.raises(ClientError) as exc:
        iam.create_role(RoleName="sm", AssumeRolePolicyDocument=json.dumps(TRUST))
    assert code(exc) == "EntityAlreadyExists"
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_role(RoleName="nope")
    with pytest.raises(ClientError) as exc:
        iam.delete_role(RoleName="nope")
    assert code(exc) == "NoSuchEntity"


def test_malformed_trust_policy_is_refused(iam, session):
    moto_gap(session, "moto does not check trust policy documents")
    with pytest.raises(ClientError) as exc:
        iam.create_role(RoleName="bad", AssumeRolePolicyDocument="{not json")
    assert code(exc) == "MalformedPolicyDocument"
    with pytest.raises(ClientError):
        iam.get_role(RoleName="bad")


def test_update_assume_role_policy(iam):
    iam.create_role(RoleName="sm", AssumeRolePolicyDocument=json.dumps(TRUST))
    other = {**TRUST, "Statement": [{**TRUST["Statement"][0], "Principal": {"Service": "glue.amazonaws.com"}}]}
    iam.update_assume_role_policy(RoleName="sm", PolicyDocument=json.dumps(other))
    assert iam.get_role(RoleName="sm")["Role"]["AssumeRolePolicyDocument"] == other


def test_inline_policies_and_delete_conflict(iam):
    iam.create_role(RoleName="sm", AssumeRolePolicyDocument=json.dumps(TRUST))
    iam.put_role_policy(RoleName="sm", PolicyName="read", PolicyDocument=json.dumps(READ))
    assert iam.list_role_policies(RoleName="sm")["PolicyNames"] == ["read"]
    got = iam.get_role_policy(RoleName="sm", PolicyName="read")
    assert got["PolicyDocument"] == READ
    with pytest.raises(ClientError) as exc:
        iam.delete_role(RoleName="sm")
    assert code(exc) == "DeleteConflict"
    iam.delete_role_policy(RoleName="sm", PolicyName="read")
    with pytest.raises(ClientError) as exc:
        iam.get_role_policy(RoleName="sm", PolicyName="read")
    assert code(exc) == "NoSuchEntity"
    iam.delete_role(RoleName="sm")
    assert iam.list_roles()["Roles"] == []


def test_role_tags(iam):
    iam.create_role(RoleName="sm", AssumeRolePolicyDocument=json.dumps(TRUST))
    iam.tag_role(RoleName="sm", Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    iam.untag_role(RoleName="sm", TagKeys=["a"])
    assert iam.list_role_tags(RoleName="sm")["Tags"] == [{"Key": "b", "Value": "2"}]


def test_list_roles_paginates(iam):
    for i in range(5):
        iam.create_role(RoleName=f"r{i}", AssumeRolePolicyDocument=json.dumps(TRUST))
    pages = list(iam.get_paginator("list_roles").paginate(PaginationConfig={"PageSize": 2}))
    assert sorted(r["RoleName"] for p in pages for r in p["Roles"]) == [f"r{i}" for i in range(5)]
    assert len(pages) == 3
