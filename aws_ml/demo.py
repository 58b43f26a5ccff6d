"""The bundled fraud-detection demo: the pipeline's sections on whatever backend the session uses.

Each step uses only boto3 clients from the session, so the same code runs on ``local``,
``moto``, ``localstack`` and ``aws``. Sections are added here as the project serves them.
"""
from __future__ import annotations

import csv
import io
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from . import datasets
from .session import Session

DEMO_BUCKET = "aws-ml-demo-{account}-{region}"


@dataclass
class StepResult:
    section: str
    title: str
    seconds: float
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass
class DemoResult:
    backend: str
    bucket: str
    steps: list[StepResult] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"backend": self.backend, "bucket": self.bucket,
                "steps": [s.__dict__ for s in self.steps]}


def run_fraud_demo(session: Session, on_step: Callable[[StepResult], None] | None = None) -> DemoResult:
    """Run the fraud demo's sections; ``on_step`` is called after each one."""
    s3 = session.client("s3")
    bucket = DEMO_BUCKET.format(account="123456789012", region=session.region)
    result = DemoResult(session.backend, bucket)

    def step(section: str, title: str, fn: Callable[[], dict]) -> dict:
        t = time.perf_counter()
        facts = fn()
        r = StepResult(section, title, time.perf_counter() - t, facts)
        result.steps.append(r)
        if on_step:
            on_step(r)
        return facts

    def collect() -> dict:
        try:
            s3.head_bucket(Bucket=bucket)
        except s3.exceptions.ClientError:
            kwargs = {} if session.region == "us-east-1" else {
                "CreateBucketConfiguration": {"LocationConstraint": session.region}}
            s3.create_bucket(Bucket=bucket, **kwargs)
        uploaded = {}
        for table in ("claims", "customers"):
            key = f"raw/fraud/{table}/{table}.csv"
            s3.upload_file(str(datasets.path(f"fraud/{table}")), bucket, key)
            uploaded[table] = f"s3://{bucket}/{key}"
        objects = [o for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="raw/")
                   for o in page.get("Contents", [])]
        return {"uploaded": uploaded, "objects": len(objects),
                "bytes": sum(o["Size"] for o in objects)}

    def evaluate() -> dict:
        body = s3.get_object(Bucket=bucket, Key="raw/fraud/claims/claims.csv")["Body"].read()
        rows = list(csv.DictReader(io.StringIO(body.decode())))
        frauds = sum(1 for r in rows if r["fraud"] == "1")
        missing = {col: sum(1 for r in rows if r[col] in ("", None)) for col in rows[0]}
        return {"rows": len(rows), "frauds": frauds, "fraud_rate": round(frauds / len(rows), 4),
                "imbalanced": frauds / len(rows) < 0.1,
                "missing": {k: v for k, v in missing.items() if v}}

    step("2", "Data collection: the raw tables in S3", collect)
    step("3", "Data evaluation: class balance and missing values", evaluate)
    return result
