"""The local CloudFormation engine over moto's services: the core template's resources are
created, through the session's clients, in moto (S3, Logs, CloudWatch, Glue, SageMaker)."""
from __future__ import annotations

from pathlib import Path

import pytest
from botocore.exceptions import WaiterError

from aws_ml import Session

INFRA = Path(__file__).resolve().parents[2] / "infra"


@pytest.mark.slow
def test_core_stack_on_moto_services(home):
    services = {"cloudformation": "local", "iam": "local", "sns": "local"}
    with Session(backend="moto", services=services, home=home, region="us-east-1") as session:
        cf = session.client("cloudformation")
        cf.create_stack(StackName="core", TemplateBody=(INFRA / "core.yaml").read_text(),
                        Capabilities=["CAPABILITY_NAMED_IAM"])
        try:
            cf.get_waiter("stack_create_complete").wait(StackName="core", WaiterConfig={"Delay": 0.2})
        except WaiterError:
            pass
        stack = cf.describe_stacks(StackName="core")["Stacks"][0]
        failed = [e.get("ResourceStatusReason") for e in cf.describe_stack_events(StackName="core")["StackEvents"]
                  if e["ResourceStatus"].endswith("FAILED")]
        assert stack["StackStatus"] == "CREATE_COMPLETE", failed
        out = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
        s3 = session.client("s3")  # moto's
        assert s3.get_bucket_versioning(Bucket=out["DataBucketName"])["Status"] == "Enabled"
        groups = session.client("logs").describe_log_groups(logGroupNamePrefix="/aws-ml/")["logGroups"]
        assert {g["retentionInDays"] for g in groups} == {30}
        assert session.client("glue").get_database(Name=out["GlueDatabaseName"])["Database"]["Name"] == "aws_ml_dev"
        cf.delete_stack(StackName="core")
        try:
            cf.get_waiter("stack_delete_complete").wait(StackName="core", WaiterConfig={"Delay": 0.2})
        except WaiterError:
            pass
        assert session.client("logs").describe_log_groups(logGroupNamePrefix="/aws-ml/")["logGroups"] == []
        # moto has no DeleteFeatureGroup: those two fail, loudly, and keep the stack DELETE_FAILED
        stack = cf.describe_stacks(StackName=stack["StackId"])["Stacks"][0]
        assert stack["StackStatus"] == "DELETE_FAILED"
        assert stack["StackStatusReason"] == ("The following resource(s) failed to delete: "
                                              "[CustomersFeatureGroup, ClaimsFeatureGroup]. ")
