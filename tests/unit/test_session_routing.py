"""Session, routing and the local dispatch: what every backend relies on."""
from __future__ import annotations

import logging

import boto3
import pytest
from botocore.client import BaseClient
from botocore.exceptions import ParamValidationError

import local_backends
from aws_ml import Session
from aws_ml.routing import LOCALSTACK_MISSING
from local_backends.core.base import service_model
from botocore import xform_name


def test_default_backend_is_local_and_env_overrides(monkeypatch, home):
    monkeypatch.delenv("AWS_ML_BACKEND", raising=False)
    assert Session(home=home).backend == "local"
    monkeypatch.setenv("AWS_ML_BACKEND", "aws")
    assert Session(home=home).backend == "aws"
    assert Session(backend="local", home=home).backend == "local"


def test_unknown_backend_is_refused(home):
    with pytest.raises(ValueError, match="backend"):
        Session(backend="mars", home=home)
    with pytest.raises(ValueError, match="athena"):
        Session(backend="local", home=home, services={"athena": "mars"})


def test_home_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_ML_HOME", str(tmp_path / "state"))
    assert Session().home == tmp_path / "state"


def test_real_boto3_objects(local_session):
    assert isinstance(local_session.boto3_session, boto3.Session)
    assert isinstance(local_session.client("s3"), BaseClient)
    # A client made by a library from the boto3 session is served locally too.
    s3 = local_session.boto3_session.client("s3")
    s3.create_bucket(Bucket="from-library")
    assert local_session.client("s3").head_bucket(Bucket="from-library")


def test_unimplemented_operation_names_service_operation_backend(local_session):
    with pytest.raises(local_backends.NotImplementedByBackend) as exc:
        local_session.client("ec2").describe_instances()
    msg = str(exc.value)
    assert "ec2.DescribeInstances" in msg and "'local'" in msg
    with pytest.raises(local_backends.NotImplementedByBackend, match="s3.PutBucketAnalyticsConfiguration"):
        local_session.client("s3").put_bucket_analytics_configuration(
            Bucket="b-b-b", Id="x", AnalyticsConfiguration={"Id": "x", "StorageClassAnalysis": {}})


def test_param_validation_still_happens(local_session):
    with pytest.raises(ParamValidationError):
        local_session.client("s3").list_objects_v2(Bucket="some-bucket", MaxKeys="ten")


def test_per_service_override_on_moto(home):
    with Session(backend="moto", home=home, services={"s3": "local"}) as s:
        assert s.backend_for("s3") == "local" and s.backend_for("iam") == "moto"
        s.client("s3").create_bucket(Bucket="local-bucket")
        assert (home / "s3" / "meta.db").exists()  # served by the local backend, not by moto
        s.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")
        assert s.client("iam").get_role(RoleName="r")["Role"]["RoleName"] == "r"


def test_moto_gaps_route_to_local_with_one_notice(home, caplog):
    with caplog.at_level(logging.WARNING, logger="aws_ml"), Session(backend="moto", home=home) as s:
        assert s.backend_for("sagemaker-runtime") == "local"
        assert s.backend_for("sagemaker-runtime") == "local"
    notices = [r for r in caplog.records if "sagemaker-runtime" in r.getMessage()]
    assert len(notices) == 1


def test_localstack_routing(monkeypatch, home, caplog):
    monkeypatch.setenv("LOCALSTACK_HOST", "127.0.0.1:4599")
    with caplog.at_level(logging.WARNING, logger="aws_ml"):
        s = Session(backend="localstack", home=home)
        assert s.backend_for("s3") == "localstack"
        for service in LOCALSTACK_MISSING:
            assert s.backend_for(service) == "local"
    assert any("athena is not served by localstack" in r.getMessage() for r in caplog.records)
    assert s.client("s3").meta.endpoint_url == "http://127.0.0.1:4599"
    # A client a library makes from the boto3 session gets the same endpoint.
    assert s.boto3_session.client("iam").meta.endpoint_url == "http://127.0.0.1:4599"


def test_aws_backend_is_plain_boto3(home):
    s = Session(backend="aws", home=home, region="eu-west-3")
    assert s.client("s3").meta.endpoint_url.startswith("https://")
    assert s.boto3_session.region_name == "eu-west-3"


def test_every_marked_operation_exists_in_botocore():
    """Each local backend's operations are real operations, named as botocore names them."""
    for service in local_backends.registry:
        try:
            cls = local_backends.backend_class(service)
        except (ImportError, AttributeError):
            continue  # a backend whose optional dependencies are not installed here
        model = service_model(cls.service)
        for op in cls.implemented_operations():
            assert op in model.operation_names
            assert hasattr(cls, xform_name(op))


def test_activate_serves_sessions_made_elsewhere(home):
    import botocore.handlers

    before = len(botocore.handlers.BUILTIN_HANDLERS)
    with Session(backend="local", home=home) as s:
        s.client("s3").create_bucket(Bucket="made-here")
        s.activate()
        # A library's own session, with no credentials of its own, is answered locally.
        other = boto3.Session(region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
        assert [b["Name"] for b in other.client("s3").list_buckets()["Buckets"]] == ["made-here"]
        s.deactivate()
        assert len(botocore.handlers.BUILTIN_HANDLERS) == before
        s.activate()
    assert len(botocore.handlers.BUILTIN_HANDLERS) == before  # close() deactivates


def test_job_processes_learn_the_session_of_their_creator(tmp_path, monkeypatch):
    """A detached job process reaches S3 the way the session that started it does: nothing
    to pass on for local (nor for in-process moto, which no other process can reach); the
    emulator's URL and routes for LocalStack, rebuilt by ``Session.for_job_process``."""
    import json

    from aws_ml.session import JOB_SESSION_ENV

    with Session(backend="local", home=tmp_path) as s:
        assert s.child_env() == {}
    with Session(backend="moto", home=tmp_path) as s:
        assert s.child_env() == {}
    with Session(backend="localstack", endpoint_url="http://127.0.0.1:4599", home=tmp_path,
                 services={"athena": "local"}) as s:
        env = s.child_env()
        assert json.loads(env[JOB_SESSION_ENV]) == {"backend": "localstack", "services": {"athena": "local"},
                                                    "endpoint_url": "http://127.0.0.1:4599", "profile": None}
        assert s.router.backend("sagemaker", s.region).peers.child_env == env
    monkeypatch.setenv(JOB_SESSION_ENV, env[JOB_SESSION_ENV])
    with Session.for_job_process(tmp_path, "eu-west-1") as child:
        assert (child.backend, child.region, child.endpoint_url) == ("localstack", "eu-west-1", "http://127.0.0.1:4599")
        assert child.backend_for("s3") == "localstack" and child.backend_for("sagemaker") == "local"
        assert child.client("s3").meta.endpoint_url == "http://127.0.0.1:4599"
    monkeypatch.delenv(JOB_SESSION_ENV)
    with Session.for_job_process(tmp_path, "us-east-1") as child:
        assert child.backend == "local"
