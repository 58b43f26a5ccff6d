"""CloudFormation stacks on local and moto: create, describe, update, delete, rollback."""
from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, WaiterError

from tests.conftest import moto_gap

from .conftest import FAST, wait
from .templates import BAD_RETENTION, TOPIC_AND_LOGS, importer


def code(exc) -> str:
    return exc.value.response["Error"]["Code"]


def outputs(stack: dict) -> dict:
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def test_validate_template(cf, session):
    out = cf.validate_template(TemplateBody=TOPIC_AND_LOGS)
    moto_gap(session, "moto's ValidateTemplate returns no parameters")
    assert out["Description"] == "topic and log group"
    params = {p["ParameterKey"]: p for p in out["Parameters"]}
    assert params["Retention"]["DefaultValue"] == "14"
    assert params["GroupName"]["NoEcho"] is False


def test_validate_template_refuses_broken_yaml(cf):
    with pytest.raises(ClientError) as exc:
        cf.validate_template(TemplateBody="Resources: [unclosed")
    assert code(exc) == "ValidationError"


def test_create_stack_creates_real_resources(cf, session):
    stack_id = cf.create_stack(StackName="app", TemplateBody=TOPIC_AND_LOGS)["StackId"]
    assert stack_id.startswith("arn:aws:cloudformation:us-east-1:123456789012:stack/app/")
    stack = wait(cf, "app")
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    out = outputs(stack)
    topic = out["TopicArn"]
    assert topic.startswith("arn:aws:sns:us-east-1:123456789012:app-Topic-")
    assert session.client("sns").get_topic_attributes(TopicArn=topic)["Attributes"]["DisplayName"] == "alarms"
    groups = session.client("logs").describe_log_groups(logGroupNamePrefix="/cfn/app")["logGroups"]
    assert [(g["logGroupName"], g["retentionInDays"]) for g in groups] == [("/cfn/app", 14)]
    resources = {r["LogicalResourceId"]: r for r in cf.describe_stack_resources(StackName="app")["StackResources"]}
    assert resources["Topic"]["PhysicalResourceId"] == topic
    assert resources["Logs"]["PhysicalResourceId"] == "/cfn/app"
    assert {r["ResourceStatus"] for r in resources.values()} == {"CREATE_COMPLETE"}
    detail = cf.describe_stack_resource(StackName="app", LogicalResourceId="Logs")["StackResourceDetail"]
    assert detail["ResourceType"] == "AWS::Logs::LogGroup"
    summaries = cf.list_stack_resources(StackName="app")["StackResourceSummaries"]
    assert sorted(s["LogicalResourceId"] for s in summaries) == ["Logs", "Topic"]
    exports = {e["Name"]: e["Value"] for e in cf.list_exports()["Exports"]}
    assert exports == {"app-TopicArn": topic}
    moto_gap(session, "moto's LogGroup Arn attribute lacks the ':*' AWS documents")
    assert out["LogGroupArn"] == "arn:aws:logs:us-east-1:123456789012:log-group:/cfn/app:*"


def test_events_and_template(cf, session):
    cf.create_stack(StackName="app", TemplateBody=TOPIC_AND_LOGS)
    wait(cf, "app")
    events = cf.describe_stack_events(StackName="app")["StackEvents"]
    moto_gap(session, "moto records no resource events")
    assert events[0]["ResourceStatus"] == "CREATE_COMPLETE"
    assert events[0]["LogicalResourceId"] == "app"
    assert events[-1]["ResourceStatus"] == "CREATE_IN_PROGRESS"
    statuses = [(e["LogicalResourceId"], e["ResourceStatus"]) for e in events]
    assert ("Logs", "CREATE_COMPLETE") in statuses
    body = cf.get_template(StackName="app")["TemplateBody"]
    assert "AWS::Logs::LogGroup" in body  # YAML stays text (botocore decodes JSON bodies only)


def test_parameters_are_checked(cf, session):
    moto_gap(session, "moto accepts parameters the template does not declare")
    with pytest.raises(ClientError) as exc:
        cf.create_stack(StackName="app", TemplateBody=TOPIC_AND_LOGS,
                        Parameters=[{"ParameterKey": "Nope", "ParameterValue": "1"}])
    assert code(exc) == "ValidationError"
    assert "Nope" in exc.value.response["Error"]["Message"]


def test_stack_names_are_unique(cf):
    cf.create_stack(StackName="app", TemplateBody=TOPIC_AND_LOGS)
    with pytest.raises(ClientError) as exc:
        cf.create_stack(StackName="app", TemplateBody=TOPIC_AND_LOGS)
    assert code(exc) == "AlreadyExistsException"


def test_failed_create_rolls_back(cf, session):
    cf.create_stack(StackName="bad", TemplateBody=BAD_RETENTION)
    stack = wait(cf, "bad")
    moto_gap(session, "moto does not check RetentionInDays in CloudFormation nor roll back")
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    events = cf.describe_stack_events(StackName="bad")["StackEvents"]
    failed = [e for e in events if e["ResourceStatus"] == "CREATE_FAILED"]
    assert [e["LogicalResourceId"] for e in failed] == ["Logs"]
    assert "retention" in failed[0]["ResourceStatusReason"].lower()
    assert session.client("sns").list_topics()["Topics"] == []  # what was created is deleted
    assert session.client("logs").describe_log_groups()["logGroups"] == []


def test_no_op_update_is_refused(cf, session):
    cf.create_stack(StackName="app", TemplateBody=TOPIC_AND_LOGS)
    wait(cf, "app")
    moto_gap(session, "moto performs no-op updates")
    with pytest.raises(ClientError) as exc:
        cf.update_stack(StackName="app", TemplateBody=TOPIC_AND_LOGS)
    assert code(exc) == "ValidationError"
    assert exc.value.response["Error"]["Message"] == "No updates are to be performed."


def test_update_in_place_and_by_replacement(cf, session):
    cf.create_stack(StackName="app", TemplateBody=TOPIC_AND_LOGS)
    topic = outputs(wait(cf, "app"))["TopicArn"]
    logs = session.client("logs")
    moto_gap(session, "moto fails this update (GetAtt of an unchanged resource is undefined)")
    cf.update_stack(StackName="app", TemplateBody=TOPIC_AND_LOGS,
                    Parameters=[{"ParameterKey": "Retention", "ParameterValue": "30"}])
    stack = wait(cf, "app", "stack_update_complete")
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    assert outputs(stack)["TopicArn"] == topic  # unchanged resource kept
    assert logs.describe_log_groups(logGroupNamePrefix="/cfn/app")["logGroups"][0]["retentionInDays"] == 30
    cf.update_stack(StackName="app", TemplateBody=TOPIC_AND_LOGS,
                    Parameters=[{"ParameterKey": "Retention", "UsePreviousValue": True},
                                {"ParameterKey": "GroupName", "ParameterValue": "/cfn/other"}])
    stack = wait(cf, "app", "stack_update_complete")
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    names = [g["logGroupName"] for g in logs.describe_log_groups(logGroupNamePrefix="/cfn/")["logGroups"]]
    assert names == ["/cfn/other"]  # replaced: the new group made, the old one deleted
    group = logs.describe_log_groups(logGroupNamePrefix="/cfn/other")["logGroups"][0]
    assert group["retentionInDays"] == 30


def test_failed_update_rolls_back(cf, session):
    cf.create_stack(StackName="app", TemplateBody=TOPIC_AND_LOGS)
    wait(cf, "app")
    moto_gap(session, "moto fails updates of this template and does not check RetentionInDays")
    cf.update_stack(StackName="app", TemplateBody=TOPIC_AND_LOGS,
                    Parameters=[{"ParameterKey": "Retention", "ParameterValue": "13"}])
    stack = wait(cf, "app", "stack_update_complete")
    moto_gap(session, "moto does not check RetentionInDays in CloudFormation nor roll back")
    assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    params = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
    assert params["Retention"] == "14"
    group = session.client("logs").describe_log_groups(logGroupNamePrefix="/cfn/app")["logGroups"][0]
    assert group["retentionInDays"] == 14
    reasons = [e.get("ResourceStatusReason", "") for e in cf.describe_stack_events(StackName="app")["StackEvents"]
               if e["ResourceStatus"] == "UPDATE_FAILED"]
    assert reasons and "retention" in reasons[0].lower()


def test_delete_stack(cf, session):
    cf.create_stack(StackName="app", TemplateBody=TOPIC_AND_LOGS)
    stack_id = wait(cf, "app")["StackId"]
    cf.delete_stack(StackName="app")
    cf.get_waiter("stack_delete_complete").wait(StackName="app", WaiterConfig=FAST)
    assert session.client("sns").list_topics()["Topics"] == []
    assert session.client("logs").describe_log_groups()["logGroups"] == []
    with pytest.raises(ClientError) as exc:
        cf.describe_stacks(StackName="app")
    assert code(exc) == "ValidationError"
    assert cf.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"] == "DELETE_COMPLETE"
    deleted = cf.list_stacks(StackStatusFilter=["DELETE_COMPLETE"])["StackSummaries"]
    assert [s["StackId"] for s in deleted] == [stack_id]
    assert cf.list_exports()["Exports"] == []


def test_delete_honours_retain(cf, session):
    template = TOPIC_AND_LOGS.replace("  Logs:\n    Type: AWS::Logs::LogGroup\n",
                                      "  Logs:\n    Type: AWS::Logs::LogGroup\n    DeletionPolicy: Retain\n")
    cf.create_stack(StackName="app", TemplateBody=template)
    wait(cf, "app")
    cf.delete_stack(StackName="app")
    cf.get_waiter("stack_delete_complete").wait(StackName="app", WaiterConfig=FAST)
    assert [g["logGroupName"] for g in session.client("logs").describe_log_groups()["logGroups"]] == ["/cfn/app"]
    assert session.client("sns").list_topics()["Topics"] == []


def test_imported_export_blocks_deletion(cf, session):
    cf.create_stack(StackName="base", TemplateBody=TOPIC_AND_LOGS)
    wait(cf, "base")
    cf.create_stack(StackName="user", TemplateBody=importer("base-TopicArn"))
    assert wait(cf, "user")["StackStatus"] == "CREATE_COMPLETE"
    moto_gap(session, "moto has no ListImports and deletes a stack whose exports are imported")
    assert cf.list_imports(ExportName="base-TopicArn")["Imports"] == ["user"]
    cf.delete_stack(StackName="base")
    with pytest.raises(WaiterError):
        cf.get_waiter("stack_delete_complete").wait(StackName="base", WaiterConfig=FAST)
    stack = cf.describe_stacks(StackName="base")["Stacks"][0]
    assert stack["StackStatus"] == "DELETE_FAILED"
    assert stack["StackStatusReason"] == "Export base-TopicArn cannot be deleted as it is in use by user"
    assert session.client("logs").describe_log_groups(logGroupNamePrefix="/cfn/app")["logGroups"]
    cf.delete_stack(StackName="user")
    cf.get_waiter("stack_delete_complete").wait(StackName="user", WaiterConfig=FAST)
    cf.delete_stack(StackName="base")
    cf.get_waiter("stack_delete_complete").wait(StackName="base", WaiterConfig=FAST)


def test_describe_stacks_paginates(cf):
    for i in range(3):
        cf.create_stack(StackName=f"s{i}", TemplateBody=TOPIC_AND_LOGS.replace("/cfn/app", f"/cfn/{i}")
                        .replace("${AWS::StackName}-TopicArn", f"x{i}"))
    names = [s["StackName"] for page in cf.get_paginator("describe_stacks").paginate() for s in page["Stacks"]]
    assert sorted(names) == ["s0", "s1", "s2"]
    for name in names:
        assert wait(cf, name)["StackStatus"] == "CREATE_COMPLETE"
