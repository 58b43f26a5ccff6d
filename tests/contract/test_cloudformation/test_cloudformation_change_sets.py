"""Change sets on local and moto: create, describe, execute, delete, and their waiters."""
from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.conftest import moto_gap

from .conftest import FAST, wait
from .templates import TOPIC_AND_LOGS


def test_create_type_change_set(cf, session):
    out = cf.create_change_set(StackName="cs", ChangeSetName="first", TemplateBody=TOPIC_AND_LOGS,
                               ChangeSetType="CREATE")
    cf.get_waiter("change_set_create_complete").wait(ChangeSetName=out["Id"], WaiterConfig=FAST)
    desc = cf.describe_change_set(ChangeSetName="first", StackName="cs")
    assert desc["Status"] == "CREATE_COMPLETE"
    assert desc["ExecutionStatus"] == "AVAILABLE"
    changes = {c["ResourceChange"]["LogicalResourceId"]: c["ResourceChange"]["Action"] for c in desc["Changes"]}
    assert changes == {"Topic": "Add", "Logs": "Add"}
    assert cf.describe_stacks(StackName="cs")["Stacks"][0]["StackStatus"] == "REVIEW_IN_PROGRESS"
    assert [s["ChangeSetName"] for s in cf.list_change_sets(StackName="cs")["Summaries"]] == ["first"]
    cf.execute_change_set(ChangeSetName="first", StackName="cs")
    assert wait(cf, "cs")["StackStatus"] == "CREATE_COMPLETE"
    assert session.client("logs").describe_log_groups(logGroupNamePrefix="/cfn/app")["logGroups"]


def test_update_change_set_lists_modifications(cf, session):
    cf.create_stack(StackName="cs", TemplateBody=TOPIC_AND_LOGS)
    wait(cf, "cs")
    cf.create_change_set(StackName="cs", ChangeSetName="retention", TemplateBody=TOPIC_AND_LOGS,
                         Parameters=[{"ParameterKey": "Retention", "ParameterValue": "60"}])
    cf.get_waiter("change_set_create_complete").wait(ChangeSetName="retention", StackName="cs",
                                                      WaiterConfig=FAST)
    desc = cf.describe_change_set(ChangeSetName="retention", StackName="cs")
    moto_gap(session, "moto lists every resource as modified and does not evaluate Replacement")
    changes = [c["ResourceChange"] for c in desc["Changes"]]
    assert [(c["LogicalResourceId"], c["Action"], c["Replacement"]) for c in changes] == [("Logs", "Modify", "False")]
    assert changes[0]["PhysicalResourceId"] == "/cfn/app"
    cf.execute_change_set(ChangeSetName="retention", StackName="cs")
    assert wait(cf, "cs", "stack_update_complete")["StackStatus"] == "UPDATE_COMPLETE"
    group = session.client("logs").describe_log_groups(logGroupNamePrefix="/cfn/app")["logGroups"][0]
    assert group["retentionInDays"] == 60


def test_change_set_without_changes_fails(cf, session):
    cf.create_stack(StackName="cs", TemplateBody=TOPIC_AND_LOGS)
    wait(cf, "cs")
    cf.create_change_set(StackName="cs", ChangeSetName="same", TemplateBody=TOPIC_AND_LOGS)
    moto_gap(session, "moto does not fail change sets without changes")
    desc = cf.describe_change_set(ChangeSetName="same", StackName="cs")
    assert desc["Status"] == "FAILED"
    assert desc["StatusReason"].startswith("The submitted information didn't contain changes.")
    with pytest.raises(ClientError) as exc:
        cf.execute_change_set(ChangeSetName="same", StackName="cs")
    assert exc.value.response["Error"]["Code"] == "InvalidChangeSetStatus"


def test_delete_change_set(cf, session):
    cf.create_stack(StackName="cs", TemplateBody=TOPIC_AND_LOGS)
    wait(cf, "cs")
    cf.create_change_set(StackName="cs", ChangeSetName="drop", TemplateBody=TOPIC_AND_LOGS,
                         Parameters=[{"ParameterKey": "Retention", "ParameterValue": "60"}])
    cf.delete_change_set(ChangeSetName="drop", StackName="cs")
    assert cf.list_change_sets(StackName="cs")["Summaries"] == []
    moto_gap(session, "moto answers ValidationError for a missing change set, AWS ChangeSetNotFound")
    with pytest.raises(ClientError) as exc:
        cf.describe_change_set(ChangeSetName="drop", StackName="cs")
    assert exc.value.response["Error"]["Code"] == "ChangeSetNotFound"
