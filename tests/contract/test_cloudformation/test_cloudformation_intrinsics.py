"""Intrinsic functions, conditions, pseudo-parameters and NoEcho on local and moto."""
from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.conftest import moto_gap

from .conftest import wait
from .templates import INTRINSICS


def outputs(stack: dict) -> dict:
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def test_intrinsics_in_dev(cf, session):
    cf.create_stack(StackName="fn", TemplateBody=INTRINSICS)
    stack = wait(cf, "fn")
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    out = outputs(stack)
    moto_gap(session, "moto evaluates Fn::Select over a CommaDelimitedList, Fn::If over "
                      "Fn::Or/Fn::And conditions and AWS::NoValue differently")
    assert out["Sub"] == "us-east-1/123456789012/aws/amazonaws.com/fn-dev"
    assert out["SubMap"] == "dev-b-${Literal}"
    assert out["Join"] == "x+y+z"
    assert out["Map"] == "1"
    assert out["Azs"] == "us-east-1a"
    assert out["B64"] == "aGVsbG8="
    assert out["StackName"] == "fn"
    assert "ProdTopic" not in out
    assert out["If"] == "small"
    assert out["NoValue"] == "one"


def test_conditions_in_prod(cf, session):
    cf.create_stack(StackName="fn", TemplateBody=INTRINSICS,
                    Parameters=[{"ParameterKey": "Env", "ParameterValue": "prod"}])
    stack = wait(cf, "fn")
    out = outputs(stack)
    assert out["Map"] == "3"
    assert out["If"] == "big"
    assert out["ProdTopic"].startswith("arn:aws:sns:us-east-1:123456789012:fn-ProdOnly-")
    topics = [t["TopicArn"] for t in session.client("sns").list_topics()["Topics"]]
    assert out["ProdTopic"] in topics and len(topics) == 2


def test_no_echo_parameter_is_masked(cf, session):
    cf.create_stack(StackName="fn", TemplateBody=INTRINSICS,
                    Parameters=[{"ParameterKey": "Secret", "ParameterValue": "s3cr3t"}])
    stack = wait(cf, "fn")
    params = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
    moto_gap(session, "moto shows NoEcho parameter values")
    assert params["Secret"] == "****"
    assert params["Env"] == "dev"


def test_allowed_values(cf, session):
    moto_gap(session, "moto does not check AllowedValues")
    with pytest.raises(ClientError) as exc:
        cf.create_stack(StackName="fn", TemplateBody=INTRINSICS,
                        Parameters=[{"ParameterKey": "Env", "ParameterValue": "qa"}])
    assert exc.value.response["Error"]["Code"] == "ValidationError"
    assert "AllowedValues" in exc.value.response["Error"]["Message"]


def test_circular_dependency_is_refused(cf, session):
    template = """
Resources:
  A:
    Type: AWS::SNS::Topic
    Properties: {DisplayName: !GetAtt B.TopicName}
  B:
    Type: AWS::SNS::Topic
    Properties: {DisplayName: !GetAtt A.TopicName}
"""
    moto_gap(session, "moto does not detect circular dependencies")
    with pytest.raises(ClientError) as exc:
        cf.create_stack(StackName="loop", TemplateBody=template)
    assert "Circular dependency between resources: [A, B]" in exc.value.response["Error"]["Message"]


def test_depends_on_orders_creation(cf, session):
    template = """
Resources:
  Second:
    Type: AWS::SNS::Topic
    DependsOn: First
  First:
    Type: AWS::Logs::LogGroup
    Properties: {LogGroupName: /order/first}
"""
    cf.create_stack(StackName="order", TemplateBody=template)
    wait(cf, "order")
    moto_gap(session, "moto records no resource events")
    events = cf.describe_stack_events(StackName="order")["StackEvents"][::-1]
    done = [e["LogicalResourceId"] for e in events if e["ResourceStatus"] == "CREATE_COMPLETE"]
    assert done.index("First") < done.index("Second")
