"""Core stack (``infra/core.yaml``) create and delete time: local CloudFormation vs a moto
server (moto's own CloudFormation) vs LocalStack (free edition, host process), one run each,
plus each emulator's start time and idle memory (RSS of its process tree).

    python benchmarks/bench_infra.py                # all three (LocalStack if installed)
    python benchmarks/bench_infra.py --skip localstack

LocalStack comes from ``.venv-localstack/`` (``bash tests/infra/setup_localstack.sh``).
Every figure is measured in this run; ratios are to ``local``.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from botocore.exceptions import ClientError  # noqa: E402

from aws_ml import Session  # noqa: E402
from aws_ml.emulators import MotoServer  # noqa: E402
from tests.infra import localstack_proc  # noqa: E402

TEMPLATE = (ROOT / "infra" / "core.yaml").read_text()
STACK = "aws-ml-dev-core"


def wait_terminal(cf, stack_id: str, timeout: float = 300) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = cf.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"]
        if status.endswith(("_COMPLETE", "_FAILED")):
            return status
        time.sleep(0.05)
    raise TimeoutError(f"{stack_id} not done in {timeout} s")


def create_delete(session: Session) -> dict:
    cf = session.client("cloudformation")
    t = time.perf_counter()
    stack_id = cf.create_stack(StackName=STACK, TemplateBody=TEMPLATE, Capabilities=["CAPABILITY_NAMED_IAM"])["StackId"]
    created = wait_terminal(cf, stack_id)
    create_s = time.perf_counter() - t
    t = time.perf_counter()
    try:
        cf.delete_stack(StackName=stack_id)
        deleted = wait_terminal(cf, stack_id)
    except ClientError as exc:
        deleted = f"DeleteStack failed: {exc.response['Error']['Code']}"
    delete_s = time.perf_counter() - t
    return {"create_s": create_s, "created": created, "delete_s": delete_s, "deleted": deleted}


def run_local() -> dict:
    with tempfile.TemporaryDirectory() as home:
        t = time.perf_counter()
        session = Session(backend="local", home=home)
        start = time.perf_counter() - t
        with session:
            return {"start_s": start, "rss_mib": None, **create_delete(session)}


def run_moto() -> dict:
    t = time.perf_counter()
    server = MotoServer().start()
    start = time.perf_counter() - t
    try:
        time.sleep(1)
        rss = localstack_proc.rss_mib(server.proc.pid)
        with Session(backend="moto", endpoint_url=server.endpoint_url,
                     services={"athena": "moto", "cloudformation": "moto"}) as session:
            return {"start_s": start, "rss_mib": rss, **create_delete(session)}
    finally:
        server.stop()


def run_localstack() -> dict:
    server = localstack_proc.LocalStack().start()
    try:
        time.sleep(2)
        rss = server.rss_mib()
        with Session(backend="localstack", endpoint_url=server.endpoint_url) as session:
            return {"start_s": server.start_seconds, "rss_mib": rss, **create_delete(session)}
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip", action="append", default=[], choices=["moto", "localstack"])
    args = parser.parse_args()
    runs = {"local": run_local}
    if "moto" not in args.skip:
        runs["moto server"] = run_moto
    if "localstack" not in args.skip:
        if localstack_proc.installed():
            runs["LocalStack"] = run_localstack
        else:
            print("LocalStack: not installed (bash tests/infra/setup_localstack.sh); skipped")
    results = {name: fn() for name, fn in runs.items()}
    base = results["local"]
    print(f"{'target':<12} {'start s':>8} {'RSS MiB':>8} {'create s':>9} {'x local':>8} "
          f"{'delete s':>9} {'x local':>8}  outcome")
    for name, r in results.items():
        rss = f"{r['rss_mib']:.0f}" if r["rss_mib"] is not None else "-"
        print(f"{name:<12} {r['start_s']:>8.2f} {rss:>8} {r['create_s']:>9.2f} "
              f"{r['create_s'] / base['create_s']:>8.1f} {r['delete_s']:>9.2f} "
              f"{r['delete_s'] / base['delete_s']:>8.1f}  {r['created']} / {r['deleted']}")
    if localstack_proc.installed() and (localstack_proc.VENV / "INSTALL_SECONDS").exists():
        print(f"LocalStack install (setup_localstack.sh, last run): "
              f"{(localstack_proc.VENV / 'INSTALL_SECONDS').read_text().strip()} s")


if __name__ == "__main__":
    main()
