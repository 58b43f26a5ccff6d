"""The real AWS CLI (the ``awscli`` package) on any backend: ``aws-ml aws s3 ls``.

The AWS CLI v1 is botocore: its driver's botocore session gets the same event handlers as an
aws_ml ``Session``, so every command is answered by the local backends (or the emulator the
session routes to) as boto3 calls are. It runs in a process of its own: importing ``awscli``
makes later ``import botocore`` statements load the copy of botocore that the AWS CLI ships,
which must not mix with the botocore an application already uses.
"""
from __future__ import annotations

import os
import subprocess
import sys

from .session import Session

_BOOT = ("import sys, awscli.clidriver; from aws_ml.awscli import main; "
         "sys.exit(main(sys.argv[1:]))")


def run_aws_cli(args: list[str], session: Session) -> int:
    """Run ``aws <args>`` on ``session``'s backend and state; returns the exit code."""
    env = dict(os.environ, AWS_ML_BACKEND=session.backend, AWS_DEFAULT_REGION=session.region,
               AWS_ML_HOME=str(session.home))
    if session.endpoint_url:
        env["AWS_ML_ENDPOINT_URL"] = session.endpoint_url
    return subprocess.run([sys.executable, "-c", _BOOT, *args], env=env).returncode


def main(args: list[str]) -> int:
    """In the AWS CLI's process: route its botocore session as ``Session()`` would."""
    try:
        from awscli.clidriver import create_clidriver
    except ImportError:
        print("aws-ml: error: the AWS CLI needs the awscli package: pip install 'aws-ml[cli]'", file=sys.stderr)
        return 255
    session = Session(endpoint_url=os.environ.get("AWS_ML_ENDPOINT_URL"))
    driver = create_clidriver()
    if session.backend != "aws":
        from .hooks import LocalRouter
        from .session import DUMMY_CREDENTIALS, LOCAL_ACCOUNT_ID

        core = driver.session
        core.set_credentials(DUMMY_CREDENTIALS["aws_access_key_id"], DUMMY_CREDENTIALS["aws_secret_access_key"])
        core.set_config_variable("region", session.region)
        # The CLI prints timestamps as they come on the wire: answer with wire-format values.
        LocalRouter(session.home, session.routes, LOCAL_ACCOUNT_ID, session.boto3_session,
                    wire_timestamps=True).install(core)
        if session.endpoint_url:
            os.environ["AWS_ENDPOINT_URL"] = session.endpoint_url
    try:
        return driver.main(args)
    finally:
        session.close()
