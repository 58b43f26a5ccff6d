"""The pipeline runner's overhead: the bundled fraud demo once on ``local`` in a fresh state
root, each section's wall time against the section's own work as the services record it —

* training: the training job, ``CreationTime`` → ``TrainingEndTime`` (``describe_training_job``);
* deployment: the endpoint, ``CreationTime`` → ``LastModifiedTime`` at ``InService``;
* model evaluation: the endpoint's invocations, CloudWatch's ``ModelLatency`` +
  ``OverheadLatency`` (``AWS/SageMaker``) summed over the section;
* tuning: the tuning job, ``CreationTime`` → ``HyperParameterTuningEndTime``;
* feature engineering: the ingestion into the feature group (the section's ``ingest_seconds``);
* any section: the Athena queries it submitted (``Statistics.EngineExecutionTimeInMillis``
  of ``get_query_execution``);

as ratios (wall ÷ own work: 1.0 means the section is all service work), plus the runner's
own time between sections (cache keys, state, the report) and the unchanged re-run against
the first run. Sections with no service work to set against (the problem check, the S3
upload and join, the data evaluation's pandas work) show their wall time only. One run.

    .venv/bin/python benchmarks/bench_pipeline.py [--pipeline fraud] [--json]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aws_ml import Session, serving  # noqa: E402
from aws_ml.pipeline import default_registry, example_path, load_pipeline, run  # noqa: E402


ENDPOINT_AT_DEPLOYMENT: dict[str, dict] = {}   # describe_endpoint when section 6 ended (a later
                                                # section may update the endpoint: LastModifiedTime moves)


def timed_registry():
    """The built-in steps, each wrapped to record when it ran (UTC seconds)."""
    windows: dict[str, tuple[float, float]] = {}
    registry = default_registry()
    for step in list(registry):
        def wrapped(ctx, config, _fn=step.fn, _name=step.name):
            start = time.time()
            try:
                out = _fn(ctx, config)
            finally:
                windows[_name] = (start, time.time())
            if _name == "deployment":
                ENDPOINT_AT_DEPLOYMENT[out["endpoint_name"]] = ctx.session.client("sagemaker").describe_endpoint(
                    EndpointName=out["endpoint_name"])
            return out
        registry = registry.replace(step.name, fn=wrapped)
    return registry, windows


def _seconds(a: datetime | None, b: datetime | None) -> float | None:
    return (b - a).total_seconds() if a is not None and b is not None else None


def athena_by_window(session, windows: dict[str, tuple[float, float]]) -> dict[str, tuple[int, float]]:
    """Per section: the number of Athena queries submitted during it and their engine time (s)."""
    athena = session.client("athena")
    ids = [q for page in athena.get_paginator("list_query_executions").paginate() for q in page["QueryExecutionIds"]]
    out: dict[str, tuple[int, float]] = {}
    for chunk in range(0, len(ids), 50):
        for q in athena.batch_get_query_execution(QueryExecutionIds=ids[chunk:chunk + 50])["QueryExecutions"]:
            submitted = q["Status"]["SubmissionDateTime"].timestamp()
            engine = q.get("Statistics", {}).get("EngineExecutionTimeInMillis", 0) / 1000
            for name, (start, end) in windows.items():
                if start <= submitted <= end:
                    n, total = out.get(name, (0, 0.0))
                    out[name] = (n + 1, total + engine)
    return out


def invocation_seconds(session, endpoint: str, start: float, end: float) -> float:
    """ModelLatency + OverheadLatency (µs) of ``endpoint`` summed over [start, end], in seconds."""
    cw = session.client("cloudwatch")
    total = 0.0
    for metric in ("ModelLatency", "OverheadLatency"):
        points = cw.get_metric_statistics(
            Namespace="AWS/SageMaker", MetricName=metric, Statistics=["Sum"], Period=60,
            StartTime=datetime.fromtimestamp(start, timezone.utc) - timedelta(minutes=1),
            EndTime=datetime.fromtimestamp(end, timezone.utc) + timedelta(minutes=1),
            Dimensions=[{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": "AllTraffic"}],
        )["Datapoints"]
        total += sum(p["Sum"] for p in points) / 1e6
    return total


def own_work(session, result, windows) -> dict[str, dict]:
    """Per step: what its own service work was (seconds) and how it was measured."""
    sm = session.client("sagemaker")
    work: dict[str, dict] = {}
    outputs = {s.name: s.outputs for s in result.steps}
    if "training" in outputs and outputs["training"].get("job_name"):
        d = sm.describe_training_job(TrainingJobName=outputs["training"]["job_name"])
        work["training"] = {"seconds": _seconds(d["CreationTime"], d.get("TrainingEndTime")),
                            "what": "training job CreationTime → TrainingEndTime",
                            "billable": _seconds(d.get("TrainingStartTime"), d.get("TrainingEndTime"))}
    if "deployment" in outputs and outputs["deployment"].get("endpoint_name"):
        d = ENDPOINT_AT_DEPLOYMENT[outputs["deployment"]["endpoint_name"]]
        work["deployment"] = {"seconds": _seconds(d["CreationTime"], d["LastModifiedTime"]),
                              "what": "endpoint CreationTime → InService"}
    if "monitoring" in windows and "deployment" in outputs:
        start, end = windows["monitoring"]
        work["monitoring"] = {"seconds": invocation_seconds(session, outputs["deployment"]["endpoint_name"], start, end),
                              "what": f"{outputs['monitoring'].get('n', '?')} invocations: ModelLatency + OverheadLatency"}
    if "tuning" in outputs and outputs["tuning"].get("job_name") and outputs["tuning"].get("strategy") != "automl":
        d = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=outputs["tuning"]["job_name"])
        work["tuning"] = {"seconds": _seconds(d["CreationTime"], d.get("HyperParameterTuningEndTime")),
                          "what": f"tuning job CreationTime → end ({len(outputs['tuning'].get('trials', []))} trials)"}
    if "features" in outputs and outputs["features"].get("ingest_seconds") is not None:
        work["features"] = {"seconds": float(outputs["features"]["ingest_seconds"]),
                            "what": f"ingestion of {outputs['features'].get('ingested', '?')} records"}
    for name, (n, engine) in athena_by_window(session, windows).items():
        entry = work.setdefault(name, {"seconds": 0.0, "what": ""})
        entry["seconds"] = (entry["seconds"] or 0.0) + engine
        entry["what"] = (entry["what"] + " + " if entry["what"] else "") + f"{n} Athena queries (engine time)"
    return work


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pipeline", default="fraud", help="a bundled example pipeline (default: fraud)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = parser.parse_args()

    spec = load_pipeline(example_path(args.pipeline))
    home = Path(tempfile.mkdtemp(prefix="aws_ml_bench_pipeline_"))
    load = os.getloadavg()[0]
    session = Session(backend="local", home=home, region="us-east-1")
    try:
        registry, windows = timed_registry()
        first = run(spec, session, progress=False, registry=registry)
        if not first.ok:
            failed = [f"{s.name}: {s.message}" for s in first.steps if s.status == "failed"]
            raise SystemExit(f"the pipeline failed: {failed}")
        work = own_work(session, first, windows)
        again_start = time.perf_counter()
        again = run(spec, session, progress=False)
        again_seconds = time.perf_counter() - again_start
    finally:
        for e in session.client("sagemaker").list_endpoints()["Endpoints"]:
            serving.delete(session, e["EndpointName"])
        session.close()
        from local_backends.s3.presign import stop_server
        stop_server(home)
        shutil.rmtree(home, ignore_errors=True)

    rows = []
    print(f"pipeline {spec.name} on local, fresh state root, load {load:.1f} ({os.cpu_count()} CPUs)")
    print(f"{'section':<34} {'wall s':>8} {'own work s':>11} {'wall/own':>9}  own work")
    for s in first.steps:
        wall = windows[s.name][1] - windows[s.name][0] if s.name in windows else s.seconds
        w = work.get(s.name)
        own = w["seconds"] if w else None
        ratio = wall / own if own else None
        rows.append({"section": s.section, "step": s.name, "wall": wall, "own": own, "ratio": ratio,
                     "what": w["what"] if w else ""})
        own_text = f"{own:11.2f}" if own is not None else f"{'-':>11}"
        ratio_text = f"{ratio:9.2f}" if ratio is not None else f"{'-':>9}"
        print(f"{s.section} {s.title:<32} {wall:8.2f} {own_text} {ratio_text}  {w['what'] if w else '-'}")
    steps_wall = sum(r["wall"] for r in rows)
    measured = [r for r in rows if r["own"]]
    runner = first.seconds - steps_wall
    print(f"sections with service work: wall {sum(r['wall'] for r in measured):.2f} s, own work "
          f"{sum(r['own'] for r in measured):.2f} s, ratio {sum(r['wall'] for r in measured) / sum(r['own'] for r in measured):.2f}")
    print(f"runner outside the sections (keys, cache, state, report): {runner:.2f} s of {first.seconds:.2f} s "
          f"(ratio {runner / first.seconds:.3f})")
    print(f"unchanged re-run: {again_seconds:.2f} s, {len(again.executed)} sections recomputed; "
          f"re-run / first run = {again_seconds / first.seconds:.3f}")
    if args.json:
        print(json.dumps({"pipeline": spec.name, "load": load, "first_seconds": first.seconds,
                          "rerun_seconds": again_seconds, "runner_seconds": runner, "sections": rows}, indent=2))


if __name__ == "__main__":
    main()
