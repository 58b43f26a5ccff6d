"""S3 versioning and bucket configuration on local and moto."""
import json

import pytest
from botocore.exceptions import ClientError

from tests.conftest import moto_gap


@pytest.fixture
def s3(session):
    client = session.client("s3")
    client.create_bucket(Bucket="versioned")
    return client


def test_versioning_keeps_every_version(s3):
    assert "Status" not in s3.get_bucket_versioning(Bucket="versioned")
    s3.put_object(Bucket="versioned", Key="k", Body=b"before versioning")
    s3.put_bucket_versioning(Bucket="versioned", VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket="versioned")["Status"] == "Enabled"
    v1 = s3.put_object(Bucket="versioned", Key="k", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket="versioned", Key="k", Body=b"two")["VersionId"]
    assert v1 != v2
    got = s3.get_object(Bucket="versioned", Key="k")
    assert got["Body"].read() == b"two" and got["VersionId"] == v2
    assert s3.get_object(Bucket="versioned", Key="k", VersionId=v1)["Body"].read() == b"one"
    assert s3.get_object(Bucket="versioned", Key="k", VersionId="null")["Body"].read() == b"before versioning"
    listing = s3.list_object_versions(Bucket="versioned")
    assert [v["VersionId"] for v in listing["Versions"]] == [v2, v1, "null"]
    assert [v["IsLatest"] for v in listing["Versions"]] == [True, False, False]


def test_delete_marker_and_restore(s3):
    s3.put_bucket_versioning(Bucket="versioned", VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket="versioned", Key="doc", Body=b"kept")["VersionId"]
    deleted = s3.delete_object(Bucket="versioned", Key="doc")
    assert deleted["DeleteMarker"] is True
    marker = deleted["VersionId"]
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.get_object(Bucket="versioned", Key="doc")
    assert "Contents" not in s3.list_objects_v2(Bucket="versioned")
    listing = s3.list_object_versions(Bucket="versioned", Prefix="doc")
    assert [m["VersionId"] for m in listing["DeleteMarkers"]] == [marker]
    assert listing["DeleteMarkers"][0]["IsLatest"] is True
    assert s3.get_object(Bucket="versioned", Key="doc", VersionId=v1)["Body"].read() == b"kept"
    # Removing the marker brings the object back.
    s3.delete_object(Bucket="versioned", Key="doc", VersionId=marker)
    assert s3.get_object(Bucket="versioned", Key="doc")["Body"].read() == b"kept"


def test_delete_current_version_promotes_previous(s3):
    s3.put_bucket_versioning(Bucket="versioned", VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket="versioned", Key="k", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket="versioned", Key="k", Body=b"two")["VersionId"]
    s3.delete_object(Bucket="versioned", Key="k", VersionId=v2)
    got = s3.get_object(Bucket="versioned", Key="k")
    assert got["Body"].read() == b"one" and got["VersionId"] == v1
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket="versioned", Key="k", VersionId=v2)
    assert exc.value.response["Error"]["Code"] in ("NoSuchVersion", "InvalidArgument")


def test_versioned_bucket_cannot_be_deleted_until_versions_are_gone(s3):
    s3.put_bucket_versioning(Bucket="versioned", VersioningConfiguration={"Status": "Enabled"})
    vid = s3.put_object(Bucket="versioned", Key="k", Body=b"x")["VersionId"]
    marker = s3.delete_object(Bucket="versioned", Key="k")["VersionId"]
    with pytest.raises(ClientError) as exc:
        s3.delete_bucket(Bucket="versioned")
    assert exc.value.response["Error"]["Code"] == "BucketNotEmpty"
    s3.delete_objects(Bucket="versioned", Delete={"Objects": [{"Key": "k", "VersionId": vid},
                                                              {"Key": "k", "VersionId": marker}]})
    s3.delete_bucket(Bucket="versioned")


def test_copy_a_specific_version(s3):
    s3.put_bucket_versioning(Bucket="versioned", VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket="versioned", Key="src", Body=b"first")["VersionId"]
    s3.put_object(Bucket="versioned", Key="src", Body=b"second")
    res = s3.copy_object(Bucket="versioned", Key="dst", CopySource={"Bucket": "versioned", "Key": "src", "VersionId": v1})
    assert res["CopySourceVersionId"] == v1 and res["VersionId"]
    assert s3.get_object(Bucket="versioned", Key="dst")["Body"].read() == b"first"


def test_bucket_policy(s3, session):
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_policy(Bucket="versioned")
    assert exc.value.response["Error"]["Code"] == "NoSuchBucketPolicy"
    policy = {"Version": "2012-10-17", "Statement": [{
        "Sid": "TLSOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": ["arn:aws:s3:::versioned", "arn:aws:s3:::versioned/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}
    s3.put_bucket_policy(Bucket="versioned", Policy=json.dumps(policy))
    assert json.loads(s3.get_bucket_policy(Bucket="versioned")["Policy"]) == policy
    if session.backend != "moto":  # moto gap: it stores a policy that is not JSON (AWS: MalformedPolicy)
        with pytest.raises(ClientError) as exc:
            s3.put_bucket_policy(Bucket="versioned", Policy="not json")
        assert exc.value.response["Error"]["Code"] == "MalformedPolicy"
        assert json.loads(s3.get_bucket_policy(Bucket="versioned")["Policy"]) == policy  # nothing lost
    s3.delete_bucket_policy(Bucket="versioned")
    with pytest.raises(ClientError):
        s3.get_bucket_policy(Bucket="versioned")


def test_encryption_public_access_lifecycle_tags(s3, session):
    s3.put_bucket_encryption(Bucket="versioned", ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "alias/x"}}]})
    rule = s3.get_bucket_encryption(Bucket="versioned")["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    block = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
             "RestrictPublicBuckets": False}
    s3.put_public_access_block(Bucket="versioned", PublicAccessBlockConfiguration=block)
    assert s3.get_public_access_block(Bucket="versioned")["PublicAccessBlockConfiguration"] == block
    rules = [{"ID": "expire-tmp", "Status": "Enabled", "Filter": {"Prefix": "tmp/"},
              "Expiration": {"Days": 7}}]
    s3.put_bucket_lifecycle_configuration(Bucket="versioned", LifecycleConfiguration={"Rules": rules})
    got = s3.get_bucket_lifecycle_configuration(Bucket="versioned")["Rules"]
    assert got[0]["ID"] == "expire-tmp" and got[0]["Expiration"] == {"Days": 7}
    s3.put_bucket_tagging(Bucket="versioned", Tagging={"TagSet": [{"Key": "team", "Value": "ml"}]})
    assert s3.get_bucket_tagging(Bucket="versioned")["TagSet"] == [{"Key": "team", "Value": "ml"}]
    s3.delete_bucket_tagging(Bucket="versioned")
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_tagging(Bucket="versioned")
    assert exc.value.response["Error"]["Code"] == "NoSuchTagSet"


def test_new_bucket_defaults(s3, session):
    """Since 2023 new buckets are encrypted with SSE-S3 and block public access by default."""
    moto_gap(session, "new buckets have no default encryption nor public access block "
                      "(AWS applies SSE-S3 and blocks public access on every new bucket)")
    rule = s3.get_bucket_encryption(Bucket="versioned")["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert all(s3.get_public_access_block(Bucket="versioned")["PublicAccessBlockConfiguration"].values())
