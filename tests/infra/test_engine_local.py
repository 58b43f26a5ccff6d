"""Local CloudFormation engine behaviours not covered by the contract suite (local only)."""
from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError, WaiterError

FAST = {"Delay": 0.2, "MaxAttempts": 300}


def wait(cf, name: str, waiter: str = "stack_create_complete") -> dict:
    try:
        cf.get_waiter(waiter).wait(StackName=name, WaiterConfig=FAST)
    except WaiterError:
        pass
    return cf.describe_stacks(StackName=name)["Stacks"][0]


def reasons(cf, name: str, status: str) -> list[str]:
    return [e.get("ResourceStatusReason", "") for e in cf.describe_stack_events(StackName=name)["StackEvents"]
            if e["ResourceStatus"] == status]


def group(name: str, retention: int = 7, **extra) -> str:
    return json.dumps({"Resources": {"Logs": {"Type": "AWS::Logs::LogGroup", **extra, "Properties": {
        "LogGroupName": name, "RetentionInDays": retention, "LogGroupClass": "STANDARD"}}},
        "Outputs": {"Arn": {"Value": {"Fn::GetAtt": ["Logs", "Arn"]}}}})


@pytest.fixture
def cf(local_session):
    return local_session.client("cloudformation")


def test_custom_named_resource_cannot_be_replaced(cf, local_session):
    cf.create_stack(StackName="named", TemplateBody=group("/named"))
    wait(cf, "named")
    changed = json.loads(group("/named"))
    changed["Resources"]["Logs"]["Properties"]["LogGroupClass"] = "INFREQUENT_ACCESS"  # needs replacement
    cf.update_stack(StackName="named", TemplateBody=json.dumps(changed))
    assert wait(cf, "named", "stack_update_complete")["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert any("custom-named resource requires replacing" in r for r in reasons(cf, "named", "UPDATE_FAILED"))
    groups = local_session.client("logs").describe_log_groups()["logGroups"]
    assert [(g["logGroupName"], g["logGroupClass"]) for g in groups] == [("/named", "STANDARD")]


def test_failed_update_after_a_replacement_restores_the_old_resource(cf, local_session):
    template = {"Resources": {
        "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "/a", "RetentionInDays": 7}},
        "Other": {"Type": "AWS::Logs::LogGroup", "DependsOn": "Logs",
                  "Properties": {"LogGroupName": "/other", "RetentionInDays": 7}}}}
    cf.create_stack(StackName="swap", TemplateBody=json.dumps(template))
    wait(cf, "swap")
    template["Resources"]["Logs"]["Properties"]["LogGroupName"] = "/b"      # replaced first...
    template["Resources"]["Other"]["Properties"]["RetentionInDays"] = 8     # ...then this fails
    cf.update_stack(StackName="swap", TemplateBody=json.dumps(template))
    assert wait(cf, "swap", "stack_update_complete")["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    names = sorted(g["logGroupName"] for g in local_session.client("logs").describe_log_groups()["logGroups"])
    assert names == ["/a", "/other"]
    physical = {r["LogicalResourceId"]: r["PhysicalResourceId"]
                for r in cf.describe_stack_resources(StackName="swap")["StackResources"]}
    assert physical == {"Logs": "/a", "Other": "/other"}


def test_missing_export_fails_the_resource(cf):
    template = {"Resources": {"Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {
        "LogGroupName": {"Fn::ImportValue": "nobody-exports-this"}}}}}
    cf.create_stack(StackName="imp", TemplateBody=json.dumps(template))
    assert wait(cf, "imp")["StackStatus"] == "ROLLBACK_COMPLETE"
    assert reasons(cf, "imp", "CREATE_FAILED") == ["No export named nobody-exports-this found."]


def test_unknown_getatt_attribute_fails_the_resource(cf):
    template = {"Resources": {
        "A": {"Type": "AWS::SNS::Topic"},
        "B": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": {"Fn::GetAtt": ["A", "Nope"]}}}}}
    cf.create_stack(StackName="att", TemplateBody=json.dumps(template))
    assert wait(cf, "att")["StackStatus"] == "ROLLBACK_COMPLETE"
    assert reasons(cf, "att", "CREATE_FAILED") == [
        "Template error: resource A does not support attribute type Nope in Fn::GetAtt"]


def test_on_failure_do_nothing_keeps_what_was_made(cf, local_session):
    template = json.loads(group("/kept"))
    template["Resources"]["Bad"] = {"Type": "AWS::Logs::LogGroup", "DependsOn": "Logs",
                                    "Properties": {"LogGroupName": "/bad", "RetentionInDays": 13}}
    cf.create_stack(StackName="keep", TemplateBody=json.dumps(template), OnFailure="DO_NOTHING")
    stack = wait(cf, "keep")
    assert stack["StackStatus"] == "CREATE_FAILED"
    assert stack["StackStatusReason"] == "The following resource(s) failed to create: [Bad]. "
    assert [g["logGroupName"] for g in local_session.client("logs").describe_log_groups()["logGroups"]] == ["/kept"]
    cf.delete_stack(StackName="keep")
    cf.get_waiter("stack_delete_complete").wait(StackName="keep", WaiterConfig=FAST)
    assert local_session.client("logs").describe_log_groups()["logGroups"] == []


def test_template_url_from_s3(cf, local_session):
    s3 = local_session.client("s3")
    s3.create_bucket(Bucket="templates")
    s3.put_object(Bucket="templates", Key="logs.json", Body=group("/from-url").encode())
    cf.create_stack(StackName="url", TemplateURL="https://templates.s3.amazonaws.com/logs.json")
    assert wait(cf, "url")["StackStatus"] == "CREATE_COMPLETE"
    assert cf.get_template(StackName="url")["TemplateBody"] == json.loads(group("/from-url"))


def test_operations_on_a_busy_or_missing_stack(cf):
    with pytest.raises(ClientError) as exc:
        cf.describe_stacks(StackName="ghost")
    assert exc.value.response["Error"]["Message"] == "Stack with id ghost does not exist"
    cf.delete_stack(StackName="ghost")  # succeeds, as on AWS
    with pytest.raises(ClientError) as exc:
        cf.update_stack(StackName="ghost", TemplateBody=group("/x"))
    assert exc.value.response["Error"]["Code"] == "ValidationError"


def test_state_survives_a_new_session(cf, local_session, home):
    from aws_ml import Session
    cf.create_stack(StackName="persist", TemplateBody=group("/persist"))
    wait(cf, "persist")
    with Session(backend="local", home=home, region="us-east-1") as other:
        stack = other.client("cloudformation").describe_stacks(StackName="persist")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert stack["Outputs"][0]["OutputValue"].endswith("log-group:/persist:*")


def test_update_replace_policy_retain_keeps_the_old_resource(cf, local_session):
    cf.create_stack(StackName="urp", TemplateBody=group("/old", UpdateReplacePolicy="Retain"))
    wait(cf, "urp")
    cf.update_stack(StackName="urp", TemplateBody=group("/new", UpdateReplacePolicy="Retain"))
    assert wait(cf, "urp", "stack_update_complete")["StackStatus"] == "UPDATE_COMPLETE"
    names = sorted(g["logGroupName"] for g in local_session.client("logs").describe_log_groups()["logGroups"])
    assert names == ["/new", "/old"]
    skipped = [e for e in cf.describe_stack_events(StackName="urp")["StackEvents"]
               if e["ResourceStatus"] == "DELETE_SKIPPED"]
    assert [e["PhysicalResourceId"] for e in skipped] == ["/old"]
