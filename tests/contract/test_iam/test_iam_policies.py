"""IAM managed policies on local and moto: versions, attachments, deletion rules."""
from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.conftest import moto_gap

from .test_iam_roles import READ, TRUST, code

WRITE = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Action": ["s3:PutObject"], "Resource": "arn:aws:s3:::data/*"}]}


@pytest.fixture
def iam(session):
    client = session.client("iam")
    client.create_role(RoleName="sm", AssumeRolePolicyDocument=json.dumps(TRUST))
    return client


def test_create_get_policy_and_version(iam):
    policy = iam.create_policy(PolicyName="read", PolicyDocument=json.dumps(READ), Description="d")["Policy"]
    assert policy["Arn"] == "arn:aws:iam::123456789012:policy/read"
    assert policy["DefaultVersionId"] == "v1"
    assert policy["AttachmentCount"] == 0
    got = iam.get_policy(PolicyArn=policy["Arn"])["Policy"]
    assert got["PolicyName"] == "read"
    version = iam.get_policy_version(PolicyArn=policy["Arn"], VersionId="v1")["PolicyVersion"]
    assert version["Document"] == READ
    assert version["IsDefaultVersion"] is True
    assert "read" in [p["PolicyName"] for p in iam.list_policies(Scope="Local")["Policies"]]


def test_policy_versions(iam):
    arn = iam.create_policy(PolicyName="p", PolicyDocument=json.dumps(READ))["Policy"]["Arn"]
    v2 = iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(WRITE), SetAsDefault=True)
    assert v2["PolicyVersion"]["VersionId"] == "v2"
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v2"
    assert iam.get_policy_version(PolicyArn=arn, VersionId="v2")["PolicyVersion"]["Document"] == WRITE
    with pytest.raises(ClientError) as exc:
        iam.delete_policy_version(PolicyArn=arn, VersionId="v2")
    assert code(exc) == "DeleteConflict"


def test_attached_policy_cannot_be_deleted(iam, session):
    arn = iam.create_policy(PolicyName="p", PolicyDocument=json.dumps(READ))["Policy"]["Arn"]
    iam.attach_role_policy(RoleName="sm", PolicyArn=arn)
    moto_gap(session, "moto deletes a managed policy that is still attached")
    with pytest.raises(ClientError) as exc:
        iam.delete_policy(PolicyArn=arn)
    assert code(exc) == "DeleteConflict"
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 1


def test_attach_detach(iam):
    arn = iam.create_policy(PolicyName="p", PolicyDocument=json.dumps(READ))["Policy"]["Arn"]
    iam.attach_role_policy(RoleName="sm", PolicyArn=arn)
    attached = iam.list_attached_role_policies(RoleName="sm")["AttachedPolicies"]
    assert attached == [{"PolicyName": "p", "PolicyArn": arn}]
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 1
    with pytest.raises(ClientError) as exc:
        iam.delete_role(RoleName="sm")
    assert code(exc) == "DeleteConflict"
    iam.detach_role_policy(RoleName="sm", PolicyArn=arn)
    assert iam.list_attached_role_policies(RoleName="sm")["AttachedPolicies"] == []
    iam.delete_policy(PolicyArn=arn)
    with pytest.raises(ClientError) as exc:
        iam.get_policy(PolicyArn=arn)
    assert code(exc) == "NoSuchEntity"


def test_missing_policy_and_duplicates(iam):
    missing = "arn:aws:iam::123456789012:policy/none"
    with pytest.raises(ClientError) as exc:
        iam.attach_role_policy(RoleName="sm", PolicyArn=missing)
    assert code(exc) == "NoSuchEntity"
    iam.create_policy(PolicyName="p", PolicyDocument=json.dumps(READ))
    with pytest.raises(ClientError) as exc:
        iam.create_policy(PolicyName="p", PolicyDocument=json.dumps(READ))
    assert code(exc) == "EntityAlreadyExists"


def test_malformed_policy_document(iam):
    with pytest.raises(ClientError) as exc:
        iam.create_policy(PolicyName="bad", PolicyDocument="[1, 2")
    assert code(exc) == "MalformedPolicyDocument"
    no_effect = {"Version": "2012-10-17", "Statement": [{"Action": "s3:GetObject", "Resource": "*"}]}
    with pytest.raises(ClientError) as exc:
        iam.put_role_policy(RoleName="sm", PolicyName="x", PolicyDocument=json.dumps(no_effect))
    assert code(exc) == "MalformedPolicyDocument"
    assert iam.list_role_policies(RoleName="sm")["PolicyNames"] == []
