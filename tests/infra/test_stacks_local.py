"""The project's templates deployed on the local backends: core then serving stacks reach
CREATE_COMPLETE, every resource is checked through its own service API, alarms reach the
SNS topic, a failing resource rolls the stack back, and deletions follow AWS's rules."""
from __future__ import annotations

import io
import json
import tarfile
import tempfile
from pathlib import Path

import pytest
from botocore.exceptions import ClientError, WaiterError

from aws_ml import Session

INFRA = Path(__file__).resolve().parents[2] / "infra"
CORE = "aws-ml-dev-core"
SERVING = "aws-ml-dev-serving"
FAST = {"Delay": 0.2, "MaxAttempts": 1500}
ACCOUNT, REGION = "123456789012", "us-east-1"


def wait(cf, name: str, waiter: str) -> dict:
    try:
        cf.get_waiter(waiter).wait(StackName=name, WaiterConfig=FAST)
    except WaiterError:
        pass
    return cf.describe_stacks(StackName=name)["Stacks"][0]


def failures(cf, name: str) -> list[tuple[str, str]]:
    return [(e["LogicalResourceId"], e.get("ResourceStatusReason", ""))
            for e in cf.describe_stack_events(StackName=name)["StackEvents"] if e["ResourceStatus"].endswith("FAILED")]


def outputs(stack: dict) -> dict:
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """A local session with the core stack created (shared by the tests of this module)."""
    with Session(backend="local", home=tmp_path_factory.mktemp("infra_home"), region=REGION) as session:
        cf = session.client("cloudformation")
        cf.create_stack(StackName=CORE, TemplateBody=(INFRA / "core.yaml").read_text(),
                        Capabilities=["CAPABILITY_NAMED_IAM"])
        stack = wait(cf, CORE, "stack_create_complete")
        assert stack["StackStatus"] == "CREATE_COMPLETE", failures(cf, CORE)
        yield session, cf, outputs(stack)


def test_core_outputs_are_exported(env):
    session, cf, out = env
    exports = {e["Name"]: e["Value"] for e in cf.list_exports()["Exports"]}
    assert exports == {f"{CORE}-{k}": v for k, v in out.items()}
    assert out["DataBucketName"] == f"aws-ml-dev-data-{ACCOUNT}-{REGION}"
    assert out["GlueDatabaseName"] == "aws_ml_dev"
    assert out["SageMakerRoleArn"] == f"arn:aws:iam::{ACCOUNT}:role/aws-ml-dev-sagemaker"


def test_buckets_have_the_template_configuration(env):
    session, cf, out = env
    s3 = session.client("s3")
    for bucket in (out["DataBucketName"], out["AthenaResultsBucketName"]):
        assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
        rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
        assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
        block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        assert block == {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
                         "RestrictPublicBuckets": True}
        rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
        assert {r["ID"] for r in rules} >= {"abort-incomplete-uploads"}
        policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
        (deny,) = policy["Statement"]
        assert deny["Effect"] == "Deny"
        assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        assert sorted(deny["Resource"]) == [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]
    tags = s3.get_bucket_tagging(Bucket=out["DataBucketName"])["TagSet"]
    assert {"Key": "environment", "Value": "dev"} in tags
    rules = {r["ID"]: r for r in s3.get_bucket_lifecycle_configuration(Bucket=out["DataBucketName"])["Rules"]}
    assert rules["expire-old-versions"]["NoncurrentVersionExpiration"]["NoncurrentDays"] == 30


def test_role_and_policy(env):
    session, cf, out = env
    iam = session.client("iam")
    role = iam.get_role(RoleName=out["SageMakerRoleName"])["Role"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    (attached,) = iam.list_attached_role_policies(RoleName=out["SageMakerRoleName"])["AttachedPolicies"]
    assert attached["PolicyName"] == "aws-ml-dev-sagemaker"
    version = iam.get_policy(PolicyArn=attached["PolicyArn"])["Policy"]["DefaultVersionId"]
    document = iam.get_policy_version(PolicyArn=attached["PolicyArn"], VersionId=version)["PolicyVersion"]["Document"]
    sids = {s["Sid"]: s for s in document["Statement"]}
    assert set(sids) == {"DataObjects", "DataBuckets", "Queries", "Catalog", "FeatureStore", "Training",
                         "PassOwnRole", "Inference", "Logs", "Metrics"}
    assert sids["PassOwnRole"]["Resource"] == out["SageMakerRoleArn"]
    assert sids["Queries"]["Resource"] == f"arn:aws:athena:{REGION}:{ACCOUNT}:workgroup/aws-ml-dev"


def test_catalog_workgroup_and_feature_groups(env):
    session, cf, out = env
    assert session.client("glue").get_database(Name="aws_ml_dev")["Database"]["Name"] == "aws_ml_dev"
    group = session.client("athena").get_work_group(WorkGroup=out["AthenaWorkGroupName"])["WorkGroup"]
    config = group["Configuration"]
    assert config["EnforceWorkGroupConfiguration"] is True
    assert config["ResultConfiguration"]["OutputLocation"] == f"s3://{out['AthenaResultsBucketName']}/results/"
    sm = session.client("sagemaker")
    for name, table in ((out["ClaimsFeatureGroupName"], "claims"), (out["CustomersFeatureGroupName"], "customers")):
        desc = sm.describe_feature_group(FeatureGroupName=name)
        assert desc["FeatureGroupStatus"] == "Created"
        assert desc["RecordIdentifierFeatureName"] == "policy_id"
        assert desc["OnlineStoreConfig"]["EnableOnlineStore"] is True
        assert desc["OfflineStoreConfig"]["DataCatalogConfig"]["Database"] == "aws_ml_dev"
        assert desc["RoleArn"] == out["SageMakerRoleArn"]
        assert session.client("glue").get_table(DatabaseName="aws_ml_dev", Name=table)["Table"]["Name"] == table


def test_logs_topic_and_alarms(env):
    session, cf, out = env
    groups = session.client("logs").describe_log_groups(logGroupNamePrefix="/aws-ml/dev/")["logGroups"]
    assert {(g["logGroupName"], g["retentionInDays"]) for g in groups} == {
        ("/aws-ml/dev/pipeline", 30), ("/aws-ml/dev/monitoring", 30)}
    attrs = session.client("sns").get_topic_attributes(TopicArn=out["AlarmTopicArn"])["Attributes"]
    assert attrs["DisplayName"] == "aws-ml dev alarms"
    alarms = session.client("cloudwatch").describe_alarms(AlarmNamePrefix="aws-ml-dev-")["MetricAlarms"]
    by_name = {a["AlarmName"]: a for a in alarms}
    auc = by_name["aws-ml-dev-model-auc-low"]
    assert (auc["Namespace"], auc["MetricName"], auc["Threshold"]) == ("aws-ml/ModelQuality", "ROCAUC", 0.75)
    assert auc["AlarmActions"] == [out["AlarmTopicArn"]]


def test_alarm_in_alarm_state_publishes_to_the_topic(env):
    session, cf, out = env
    session.client("cloudwatch").set_alarm_state(AlarmName="aws-ml-dev-feature-drift", StateValue="ALARM",
                                                 StateReason="forced by the infra test")
    messages = session.router.backend("sns", REGION).published(out["AlarmTopicArn"])
    drift = [(json.loads(m["Message"]), m["Subject"]) for m in messages
             if json.loads(m["Message"])["AlarmName"] == "aws-ml-dev-feature-drift"]
    assert [n["NewStateValue"] for n, _ in drift] == ["ALARM"]
    assert drift[0][1].startswith('ALARM: "aws-ml-dev-feature-drift"')
    assert drift[0][0]["NewStateReason"] == "forced by the infra test"


def test_no_op_update_is_refused(env):
    session, cf, out = env
    with pytest.raises(ClientError) as exc:
        cf.update_stack(StackName=CORE, TemplateBody=(INFRA / "core.yaml").read_text(),
                        Capabilities=["CAPABILITY_NAMED_IAM"])
    assert exc.value.response["Error"]["Message"] == "No updates are to be performed."


def test_named_iam_needs_its_capability(env):
    session, cf, out = env
    with pytest.raises(ClientError) as exc:
        cf.create_stack(StackName="other", TemplateBody=(INFRA / "core.yaml").read_text(),
                        Capabilities=["CAPABILITY_IAM"])
    assert exc.value.response["Error"]["Code"] == "InsufficientCapabilitiesException"


BAD_FEATURE_GROUP = """
Resources:
  Logs:
    Type: AWS::Logs::LogGroup
    Properties: {LogGroupName: /bad/logs, RetentionInDays: 7}
  Group:
    Type: AWS::SageMaker::FeatureGroup
    DependsOn: Logs
    Properties:
      FeatureGroupName: bad-group
      RecordIdentifierFeatureName: policy_id
      EventTimeFeatureName: event_time
      OnlineStoreConfig: {EnableOnlineStore: true}
      FeatureDefinitions:
        - {FeatureName: event_time, FeatureType: Fractional}
"""


def test_failing_feature_group_rolls_back_and_leaves_nothing(env):
    session, cf, out = env
    cf.create_stack(StackName="bad", TemplateBody=BAD_FEATURE_GROUP)
    stack = wait(cf, "bad", "stack_create_complete")
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    assert stack["StackStatusReason"] if "StackStatusReason" in stack else True
    (failed,) = [f for f in failures(cf, "bad") if f[0] == "Group"]
    assert "RecordIdentifierFeatureName" in failed[1]
    assert session.client("logs").describe_log_groups(logGroupNamePrefix="/bad/")["logGroups"] == []
    names = [g["FeatureGroupName"] for g in session.client("sagemaker").list_feature_groups()["FeatureGroupSummaries"]]
    assert "bad-group" not in names
    cf.delete_stack(StackName="bad")
    cf.get_waiter("stack_delete_complete").wait(StackName="bad", WaiterConfig=FAST)


def test_unsupported_resource_type_fails_clearly(env):
    session, cf, out = env
    template = {"Resources": {"Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.0.0.0/16"}}}}
    cf.create_stack(StackName="vpc", TemplateBody=json.dumps(template))
    assert wait(cf, "vpc", "stack_create_complete")["StackStatus"] == "ROLLBACK_COMPLETE"
    (failed,) = failures(cf, "vpc")
    assert failed[0] == "Vpc"
    assert "AWS::EC2::VPC is not supported by the local CloudFormation engine" in failed[1]
    cf.delete_stack(StackName="vpc")


def _model_archive() -> bytes:
    import joblib
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    x = np.array([[0.0, 1.0], [1.0, 0.0], [0.2, 0.9], [0.9, 0.1]])
    clf = LogisticRegression().fit(x, [0, 1, 0, 1])
    with tempfile.TemporaryDirectory() as d:
        joblib.dump(clf, Path(d) / "model.joblib")
        data = (Path(d) / "model.joblib").read_bytes()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("model.joblib")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@pytest.mark.slow
def test_serving_stack_then_deletions(env):
    pytest.importorskip("sklearn")
    pytest.importorskip("starlette")
    session, cf, out = env
    s3 = session.client("s3")
    s3.put_object(Bucket=out["DataBucketName"], Key="models/fraud/model.tar.gz", Body=_model_archive())
    cf.create_stack(StackName=SERVING, TemplateBody=(INFRA / "serving.yaml").read_text(), Parameters=[
        {"ParameterKey": "CoreStackName", "ParameterValue": CORE},
        {"ParameterKey": "ModelDataUrl", "ParameterValue": f"s3://{out['DataBucketName']}/models/fraud/model.tar.gz"}])
    stack = wait(cf, SERVING, "stack_create_complete")
    assert stack["StackStatus"] == "CREATE_COMPLETE", failures(cf, SERVING)
    sm = session.client("sagemaker")
    endpoint = sm.describe_endpoint(EndpointName="aws-ml-dev-fraud")
    assert endpoint["EndpointStatus"] == "InService"
    model = sm.describe_model(ModelName="aws-ml-dev-fraud")
    assert model["ExecutionRoleArn"] == out["SageMakerRoleArn"]
    config = sm.describe_endpoint_config(EndpointConfigName="aws-ml-dev-fraud")
    assert config["DataCaptureConfig"]["DestinationS3Uri"] == f"s3://{out['DataBucketName']}/data-capture"
    alarms = session.client("cloudwatch").describe_alarms(AlarmNamePrefix="aws-ml-dev-fraud-")["MetricAlarms"]
    assert {a["AlarmName"] for a in alarms} == {"aws-ml-dev-fraud-5xx-errors", "aws-ml-dev-fraud-latency-p90"}
    assert all(a["AlarmActions"] == [out["AlarmTopicArn"]] for a in alarms)
    reply = session.client("sagemaker-runtime").invoke_endpoint(
        EndpointName="aws-ml-dev-fraud", ContentType="text/csv", Body=b"0.95,0.05")
    assert reply["Body"].read().strip()
    assert sorted(cf.list_imports(ExportName=f"{CORE}-AlarmTopicArn")["Imports"]) == [SERVING]

    # the core stack cannot go while serving imports from it
    cf.delete_stack(StackName=CORE)
    core = wait(cf, CORE, "stack_delete_complete")
    assert core["StackStatus"] == "DELETE_FAILED"
    assert core["StackStatusReason"].startswith(f"Export {CORE}-")
    assert core["StackStatusReason"].endswith(f"cannot be deleted as it is in use by {SERVING}")
    assert s3.head_bucket(Bucket=out["AthenaResultsBucketName"])

    # serving, then core, delete cleanly
    cf.delete_stack(StackName=SERVING)
    cf.get_waiter("stack_delete_complete").wait(StackName=SERVING, WaiterConfig=FAST)
    assert sm.list_endpoints()["Endpoints"] == []
    assert sm.list_models()["Models"] == []
    cf.delete_stack(StackName=CORE)
    cf.get_waiter("stack_delete_complete").wait(StackName=CORE, WaiterConfig=FAST)
    assert session.client("iam").list_roles()["Roles"] == []
    assert session.client("iam").list_policies(Scope="Local")["Policies"] == []
    assert session.client("sns").list_topics()["Topics"] == []
    assert session.client("cloudwatch").describe_alarms()["MetricAlarms"] == []
    assert session.client("logs").describe_log_groups(logGroupNamePrefix="/aws-ml/")["logGroups"] == []
    assert session.client("athena").list_work_groups()["WorkGroups"][0]["Name"] == "primary"
    with pytest.raises(ClientError):
        session.client("glue").get_database(Name="aws_ml_dev")
    buckets = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert buckets == [out["DataBucketName"]]  # DeletionPolicy: Retain keeps the data
    assert cf.list_exports()["Exports"] == []
