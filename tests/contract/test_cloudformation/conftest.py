"""Helpers of the CloudFormation contract tests: waiters that poll quickly."""
from __future__ import annotations

import pytest
from botocore.exceptions import WaiterError

FAST = {"Delay": 0.2, "MaxAttempts": 600}


def wait(cf, name: str, waiter: str = "stack_create_complete") -> dict:
    """Wait with the boto3 waiter, then return the stack (whatever its final status)."""
    try:
        cf.get_waiter(waiter).wait(StackName=name, WaiterConfig=FAST)
    except WaiterError:
        pass
    stacks = cf.describe_stacks(StackName=name)["Stacks"]
    return stacks[0]


@pytest.fixture
def cf(session):
    return session.client("cloudformation")
