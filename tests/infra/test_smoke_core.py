"""Smoke test of ``infra/core.yaml`` on every target of ``stack_session``: the stack is
created, each resource is looked up through its own service API, then the stack is deleted.

What an emulator's CloudFormation does not really create is asserted as a gap: the resource
is checked missing (so the test fails the day the emulator catches up and the gap goes stale).
"""
from __future__ import annotations

from pathlib import Path

import pytest
from botocore.exceptions import ClientError, WaiterError

INFRA = Path(__file__).resolve().parents[2] / "infra"
STACK = "aws-ml-dev-core"
FAST = {"Delay": 0.2, "MaxAttempts": 600}

MOTO_CFN = "moto's CloudFormation"
MOTO_GAPS = {
    "bucket_versioning": f"{MOTO_CFN} ignores AWS::S3::Bucket VersioningConfiguration",
    "bucket_public_access_block": f"{MOTO_CFN} ignores AWS::S3::Bucket PublicAccessBlockConfiguration",
    "bucket_lifecycle": f"{MOTO_CFN} ignores AWS::S3::Bucket LifecycleConfiguration",
    "bucket_policy": f"{MOTO_CFN} skips AWS::S3::BucketPolicy (stack still CREATE_COMPLETE)",
    "feature_groups": f"{MOTO_CFN} skips AWS::SageMaker::FeatureGroup (stack still CREATE_COMPLETE); "
                      "the moto server answers the feature-group APIs with HTTP 500",
    "glue_database": f"{MOTO_CFN} skips AWS::Glue::Database (stack still CREATE_COMPLETE)",
    "athena_workgroup": f"{MOTO_CFN} skips AWS::Athena::WorkGroup (stack still CREATE_COMPLETE)",
    "skipped_resources": f"{MOTO_CFN} lists each skipped resource as CREATE_COMPLETE with empty ids, "
                         "and drops the outputs that Ref them",
    "delete_stack": f"{MOTO_CFN} deletes the role before detaching its managed policy: "
                    "DeleteStack fails with DeleteConflict",
    "alarms": f"{MOTO_CFN} skips AWS::CloudWatch::Alarm (stack still CREATE_COMPLETE)",
}
LS_FALLBACK = "LocalStack free: CFN_IGNORE_UNSUPPORTED_RESOURCE_TYPES fakes {} (PhysicalResourceId 'unknown')"
LOCALSTACK_FAKED = {"GlueDatabase": "AWS::Glue::Database", "AthenaWorkGroup": "AWS::Athena::WorkGroup",
                    "ClaimsFeatureGroup": "AWS::SageMaker::FeatureGroup",
                    "CustomersFeatureGroup": "AWS::SageMaker::FeatureGroup"}
LOCALSTACK_GAPS = {
    "glue_database": LS_FALLBACK.format("AWS::Glue::Database"),
    "athena_workgroup": LS_FALLBACK.format("AWS::Athena::WorkGroup"),
    "feature_groups": LS_FALLBACK.format("AWS::SageMaker::FeatureGroup"),
    "bucket_lifecycle": "LocalStack's CloudFormation ignores AWS::S3::Bucket LifecycleConfiguration",
    "log_retention": "LocalStack's CloudFormation ignores AWS::Logs::LogGroup RetentionInDays",
}
GAPS = {"local": {}, "moto": MOTO_GAPS, "aws-endpoint": MOTO_GAPS, "localstack": LOCALSTACK_GAPS}


def gap(target, check: str) -> str | None:
    """The named gap of ``target`` for ``check``, or None when the target must do it."""
    return GAPS[target.name].get(check)


def wait(cf, waiter: str, name: str = STACK) -> dict:
    try:
        cf.get_waiter(waiter).wait(StackName=name, WaiterConfig=FAST)
    except WaiterError:
        pass
    return cf.describe_stacks(StackName=name)["Stacks"][0]


def error_code(call) -> str | None:
    try:
        call()
    except ClientError as exc:
        return exc.response["Error"]["Code"]
    return None


def assert_not_served(target, service: str) -> None:
    """LocalStack free answers every call of ``service`` with 501 InternalFailure: the resources
    its CloudFormation reported created exist nowhere."""
    client = target.session.client(service)
    calls = {"glue": lambda: client.get_databases(), "athena": lambda: client.list_work_groups(),
             "sagemaker": lambda: client.list_feature_groups()}
    with pytest.raises(ClientError) as info:
        calls[service]()
    assert info.value.response["Error"]["Code"] == "InternalFailure"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert f"The API for service {service} is either not included" in info.value.response["Error"]["Message"]


@pytest.fixture(scope="module")
def core(stack_session):
    """The core stack created on the target; deleted when the module is done."""
    target = stack_session
    cf = target.cf
    cf.create_stack(StackName=STACK, TemplateBody=(INFRA / "core.yaml").read_text(),
                    Capabilities=["CAPABILITY_NAMED_IAM"])
    stack = wait(cf, "stack_create_complete")
    failed = [(e["LogicalResourceId"], e.get("ResourceStatusReason"))
              for e in cf.describe_stack_events(StackName=STACK)["StackEvents"]
              if e["ResourceStatus"].endswith("FAILED")]
    assert stack["StackStatus"] == "CREATE_COMPLETE", failed
    out = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    yield target, stack, out
    code = error_code(lambda: cf.delete_stack(StackName=STACK))
    if gap(target, "delete_stack"):
        assert code == "DeleteConflict", gap(target, "delete_stack")
        return  # the moto_server fixture resets moto before the next target
    assert code is None
    assert wait(cf, "stack_delete_complete", stack["StackId"])["StackStatus"] == "DELETE_COMPLETE"


CREATED_BY_MOTO = {"DataBucket", "AthenaResultsBucket", "PipelineLogGroup", "MonitoringLogGroup",
                   "AlarmTopic", "SageMakerExecutionRole", "SageMakerExecutionPolicy"}
SKIPPED_BY_MOTO = {"DataBucketPolicy", "AthenaResultsBucketPolicy", "GlueDatabase", "AthenaWorkGroup",
                   "ModelAucAlarm", "FeatureDriftAlarm", "ClaimsFeatureGroup", "CustomersFeatureGroup"}
OUTPUTS_OF_SKIPPED = {"GlueDatabaseName", "AthenaWorkGroupName", "ClaimsFeatureGroupName",
                      "CustomersFeatureGroupName"}


def test_stack_is_complete_with_its_resources_and_outputs(core):
    target, stack, out = core
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    if target.name == "aws-endpoint":  # the aws backend, unchanged: boto3's AWS_ENDPOINT_URL does it
        assert target.session.backend == "aws" and not target.session.routes
        assert target.cf.meta.endpoint_url == target.session.client("s3").meta.endpoint_url
        assert target.cf.meta.endpoint_url.startswith("http://127.0.0.1:")
    resources = target.cf.describe_stack_resources(StackName=STACK)["StackResources"]
    assert len(resources) == len(CREATED_BY_MOTO | SKIPPED_BY_MOTO)
    assert {r["ResourceStatus"] for r in resources} == {"CREATE_COMPLETE"}
    logical = {r.get("LogicalResourceId", "") for r in resources}
    expected_outputs = {"DataBucketName", "AthenaResultsBucketName", "SageMakerRoleArn", "AlarmTopicArn",
                        "PipelineLogGroupName", "MonitoringLogGroupName"} | OUTPUTS_OF_SKIPPED
    if gap(target, "skipped_resources"):
        assert logical == CREATED_BY_MOTO | {""}, gap(target, "skipped_resources")
        assert set(out) & OUTPUTS_OF_SKIPPED == set(), gap(target, "skipped_resources")
        assert expected_outputs - OUTPUTS_OF_SKIPPED <= set(out)
    else:
        assert logical == CREATED_BY_MOTO | SKIPPED_BY_MOTO
        assert expected_outputs <= set(out)


def test_fallback_resources_are_reported_not_created(core):
    target, _, out = core
    physical = {r.get("LogicalResourceId"): r.get("PhysicalResourceId")
                for r in target.cf.describe_stack_resources(StackName=STACK)["StackResources"]}
    faked = {k for k, v in physical.items() if v == "unknown"}
    if target.name == "localstack":
        assert faked == set(LOCALSTACK_FAKED), LOCALSTACK_FAKED
        assert {k: out[k] for k in OUTPUTS_OF_SKIPPED} == dict.fromkeys(OUTPUTS_OF_SKIPPED, "unknown")
    else:
        assert faked == set()


def test_buckets_exist_with_their_configuration(core):
    target, _, out = core
    s3 = target.session.client("s3")
    for bucket in (out["DataBucketName"], out["AthenaResultsBucketName"]):
        s3.head_bucket(Bucket=bucket)
        rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
        assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
        versioning = s3.get_bucket_versioning(Bucket=bucket).get("Status")
        if gap(target, "bucket_versioning"):
            assert versioning is None, gap(target, "bucket_versioning")
        else:
            assert versioning == "Enabled"
        block = error_code(lambda: s3.get_public_access_block(Bucket=bucket))
        if gap(target, "bucket_public_access_block"):
            assert block == "NoSuchPublicAccessBlockConfiguration", gap(target, "bucket_public_access_block")
        else:
            assert block is None
        lifecycle = error_code(lambda: s3.get_bucket_lifecycle_configuration(Bucket=bucket))
        if gap(target, "bucket_lifecycle"):
            assert lifecycle == "NoSuchLifecycleConfiguration", gap(target, "bucket_lifecycle")
        else:
            assert lifecycle is None
        policy = error_code(lambda: s3.get_bucket_policy(Bucket=bucket))
        if gap(target, "bucket_policy"):
            assert policy == "NoSuchBucketPolicy", gap(target, "bucket_policy")
        else:
            assert policy is None


def test_role_and_its_policy(core):
    target, _, out = core
    iam = target.session.client("iam")
    role = iam.get_role(RoleName=out["SageMakerRoleName"])["Role"]
    assert role["Arn"] == out["SageMakerRoleArn"]
    attached = [p["PolicyName"] for p in iam.list_attached_role_policies(RoleName=role["RoleName"])["AttachedPolicies"]]
    assert attached == ["aws-ml-dev-sagemaker"]  # the ManagedPolicy's Roles: moto attaches them too


def test_log_groups_and_topic(core):
    target, _, out = core
    groups = target.session.client("logs").describe_log_groups(logGroupNamePrefix="/aws-ml/dev/")["logGroups"]
    retention = None if gap(target, "log_retention") else 30
    assert {g["logGroupName"]: g.get("retentionInDays") for g in groups} == {
        out["PipelineLogGroupName"]: retention, out["MonitoringLogGroupName"]: retention}, gap(target, "log_retention")
    attrs = target.session.client("sns").get_topic_attributes(TopicArn=out["AlarmTopicArn"])["Attributes"]
    assert attrs["TopicArn"] == out["AlarmTopicArn"]


def test_glue_database(core):
    target, _, out = core
    if target.name == "localstack":
        return assert_not_served(target, "glue")
    code = error_code(lambda: target.session.client("glue").get_database(Name="aws_ml_dev"))
    if gap(target, "glue_database"):
        assert code == "EntityNotFoundException", gap(target, "glue_database")
    else:
        assert code is None and out["GlueDatabaseName"] == "aws_ml_dev"


def test_athena_workgroup(core):
    target, _, _ = core
    if target.name == "localstack":
        return assert_not_served(target, "athena")
    names = [w["Name"] for w in target.session.client("athena").list_work_groups()["WorkGroups"]]
    if gap(target, "athena_workgroup"):
        assert "aws-ml-dev" not in names, gap(target, "athena_workgroup")
    else:
        assert "aws-ml-dev" in names


def test_feature_groups(core):
    target, _, _ = core
    if target.name == "localstack":
        return assert_not_served(target, "sagemaker")
    sagemaker = target.session.client("sagemaker")
    if gap(target, "feature_groups"):
        code = error_code(lambda: sagemaker.describe_feature_group(FeatureGroupName="aws-ml-dev-claims"))
        assert code == "500", gap(target, "feature_groups")
    else:
        groups = sagemaker.list_feature_groups()["FeatureGroupSummaries"]
        assert sorted(g["FeatureGroupName"] for g in groups) == ["aws-ml-dev-claims", "aws-ml-dev-customers"]


def test_alarms_reach_the_topic(core):
    target, _, out = core
    alarms = target.session.client("cloudwatch").describe_alarms(AlarmNamePrefix="aws-ml-dev-")["MetricAlarms"]
    if gap(target, "alarms"):
        assert alarms == [], gap(target, "alarms")
    else:
        assert sorted(a["AlarmName"] for a in alarms) == ["aws-ml-dev-feature-drift", "aws-ml-dev-model-auc-low"]
        assert {tuple(a["AlarmActions"]) for a in alarms} == {(out["AlarmTopicArn"],)}
