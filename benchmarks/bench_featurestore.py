"""Feature Store speed: the local runtime through boto3, bulk ingestion, and point-in-time
training sets against Feast, in one run.

    python benchmarks/bench_featurestore.py                       # 1,000,000 entity rows
    python benchmarks/bench_featurestore.py --entity-rows 100000  # smaller
    python benchmarks/bench_featurestore.py --feast-python /tmp/feast-venv/bin/python

1. ``put_record`` and ``get_record`` through boto3 on the local backend: p50/p99 latency
   and records per second (target: get_record p50 < 0.3 ms).
2. Bulk ingestion (``aws_ml.features.ingest``): rows per second, threads and processes.
3. A point-in-time training set: ``--entity-rows`` entity rows (entity, timestamp) joined
   to a feature group of ``--entities`` x ``--versions`` feature rows, by
   ``aws_ml.features.point_in_time_join`` (DuckDB ASOF over the offline Parquet), by
   Feast (local provider, SQLite online store, file offline store, same data), and, for
   reference, by pandas ``merge_asof`` and a bare DuckDB ASOF join. Every result is checked
   against pandas. Target: at least 10x faster than Feast. Feast's online store is then
   materialized from the same rows and read one entity per ``get_online_features`` call
   (p50/p99, records/s; ``--feast-online-calls``), the peer of part 1's ``get_record``.

Feast pins pandas < 3 (this project's venv has pandas 3), so it runs in its own
interpreter: ``--feast-python`` (or ``AWS_ML_FEAST_PYTHON``) names a Python where
``pip install feast`` was done; without one, Feast is skipped and said so. The feature
rows are written to the offline store's S3 folder as the runtime's Parquet files (the
same schema and ``year=/month=/day=/hour=`` layout) rather than put one by one, so that
the set-up does not dominate the run; ingestion speed is measured in part 2.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import duckdb  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

from aws_ml import Session, features  # noqa: E402

BUCKET = "bench-featurestore"
T0 = pd.Timestamp("2024-01-01", tz="UTC").timestamp()
YEAR = 365 * 86400.0

FEAST_SCRIPT = r'''
import json, sys, time, tempfile, os
from datetime import timedelta
import pandas as pd
from feast import Entity, FeatureStore, FeatureView, Field, FileSource, ValueType
from feast.types import Float64, Int64, String
from feast.repo_config import RepoConfig
from feast.infra.online_stores.sqlite import SqliteOnlineStoreConfig
from feast.infra.offline_stores.dask import DaskOfflineStoreConfig

features_path, entity_path, out_path = sys.argv[1:4]
online_calls = int(sys.argv[4]) if len(sys.argv) > 4 else 0
repo = tempfile.mkdtemp()
config = RepoConfig(project="bench", registry=os.path.join(repo, "registry.db"), provider="local",
                    online_store=SqliteOnlineStoreConfig(path=os.path.join(repo, "online.db")),
                    offline_store=DaskOfflineStoreConfig(type="file"), entity_key_serialization_version=3)
store = FeatureStore(config=config)
customer = Entity(name="customer", join_keys=["customer_id"], value_type=ValueType.INT64)
source = FileSource(path=features_path, timestamp_field="event_timestamp")
view = FeatureView(name="customers", entities=[customer], ttl=timedelta(days=3650),
                   schema=[Field(name="f_float", dtype=Float64), Field(name="f_int", dtype=Int64),
                           Field(name="f_ratio", dtype=Float64), Field(name="f_cat", dtype=String)],
                   source=source)
store.apply([customer, view])
entity_df = pd.read_parquet(entity_path)
started = time.perf_counter()
df = store.get_historical_features(entity_df=entity_df, features=[
    "customers:f_float", "customers:f_int", "customers:f_ratio", "customers:f_cat"]).to_df()
seconds = time.perf_counter() - started
df.sort_values("row")[["row", "f_float", "f_int"]].to_parquet(out_path)
result = {"seconds": seconds, "rows": len(df)}
if online_calls:
    # the online store (SQLite) on the same feature rows: materialize, then one entity per call
    feat = pd.read_parquet(features_path)
    started = time.perf_counter()
    store.materialize(start_date=(feat["event_timestamp"].min() - timedelta(seconds=1)).to_pydatetime(),
                      end_date=(feat["event_timestamp"].max() + timedelta(seconds=1)).to_pydatetime())
    result["materialize_s"] = time.perf_counter() - started
    ids = sorted(feat["customer_id"].unique().tolist())
    names = ["customers:f_float", "customers:f_int", "customers:f_ratio", "customers:f_cat"]
    latencies, answers = [], {}
    for i in range(online_calls):
        cid = int(ids[i % len(ids)])
        t = time.perf_counter()
        got = store.get_online_features(features=names, entity_rows=[{"customer_id": cid}]).to_dict()
        latencies.append(time.perf_counter() - t)
        answers[cid] = got["f_float"][0]
    latest = feat.sort_values("event_timestamp").groupby("customer_id")["f_float"].last()
    result["online_ms"] = [x * 1e3 for x in latencies]
    result["online_matches_latest"] = all(abs(v - latest[k]) < 1e-9 for k, v in answers.items())
print(json.dumps(result))
'''


def percentile(values, q):
    return float(np.percentile(np.asarray(values) * 1e3, q))


def bench_runtime(session, n: int) -> dict:
    sm = session.client("sagemaker")
    sm.create_feature_group(
        FeatureGroupName="latency", RecordIdentifierFeatureName="id", EventTimeFeatureName="t",
        FeatureDefinitions=[{"FeatureName": "id", "FeatureType": "String"},
                            {"FeatureName": "t", "FeatureType": "Fractional"},
                            *({"FeatureName": f"f{i}", "FeatureType": "Fractional"} for i in range(8))],
        OnlineStoreConfig={"EnableOnlineStore": True},
        OfflineStoreConfig={"S3StorageConfig": {"S3Uri": f"s3://{BUCKET}/latency"}},
        RoleArn=features.groups.DEFAULT_ROLE_ARN)
    rt = session.client("sagemaker-featurestore-runtime")
    puts, gets = [], []
    for i in range(n):
        rec = [{"FeatureName": "id", "ValueAsString": f"id-{i % 1000}"},
               {"FeatureName": "t", "ValueAsString": str(T0 + i)}]
        rec += [{"FeatureName": f"f{k}", "ValueAsString": str(i * 0.5 + k)} for k in range(8)]
        t = time.perf_counter()
        rt.put_record(FeatureGroupName="latency", Record=rec)
        puts.append(time.perf_counter() - t)
    for i in range(n):
        t = time.perf_counter()
        rt.get_record(FeatureGroupName="latency", RecordIdentifierValueAsString=f"id-{i % 1000}")
        gets.append(time.perf_counter() - t)
    return {"put_p50_ms": percentile(puts, 50), "put_p99_ms": percentile(puts, 99),
            "put_per_s": n / sum(puts), "get_p50_ms": percentile(gets, 50),
            "get_p99_ms": percentile(gets, 99), "get_per_s": n / sum(gets)}


def bench_ingest(session, rows: int) -> dict:
    rng = np.random.default_rng(1)
    # event times within one hour, as in a batch ingested "now" (times spread over a year
    # would make one offline-store file per event-time hour, as on AWS)
    df = pd.DataFrame({"id": np.arange(rows), "t": T0 + rng.uniform(0, 3600, rows),
                       "a": rng.normal(size=rows), "b": rng.integers(0, 100, rows),
                       "c": rng.choice(["x", "y", "z"], rows)})
    out = {}
    for label, kwargs in (("threads", {"max_workers": 4}), ("processes", {"max_processes": 2})):
        name = f"bulk-{label}"
        features.create_feature_group(session, name, df, "id", "t", bucket=BUCKET)
        report = features.ingest(session, name, df, progress=False, **kwargs)
        assert report.ok and report.succeeded == rows, report.failed[:3]
        out[f"ingest_{label}_rows_per_s"] = report.rows_per_second
    return out


def feature_rows(entities: int, versions: int) -> pd.DataFrame:
    rng = np.random.default_rng(2)
    n = entities * versions
    return pd.DataFrame({
        "customer_id": np.repeat(np.arange(entities), versions),
        "t": T0 + rng.uniform(0, YEAR, n),
        "f_float": rng.normal(size=n), "f_int": rng.integers(0, 1000, n),
        "f_ratio": rng.uniform(size=n), "f_cat": rng.choice(["a", "b", "c", "d"], n)})


def load_offline(session, rows: pd.DataFrame) -> None:
    """Create the group and write its offline store as the runtime would (Parquet, one file
    per event-time hour folder is not needed: one file per month here)."""
    desc = features.create_feature_group(session, "pit", rows.head(1), "customer_id", "t", bucket=BUCKET)
    uri = desc["OfflineStoreConfig"]["S3StorageConfig"]["ResolvedOutputS3Uri"]
    bucket, prefix = uri[5:].split("/", 1)
    s3 = session.client("s3")
    months = pd.to_datetime(rows["t"], unit="s", utc=True).dt.month
    now = pd.Timestamp.now(tz="UTC").tz_localize(None)
    for month, part in rows.groupby(months):
        table = pa.table({**{c: part[c].to_numpy() for c in rows.columns},
                          "write_time": pa.array([now] * len(part), pa.timestamp("ms")),
                          "api_invocation_time": pa.array([now] * len(part), pa.timestamp("ms")),
                          "is_deleted": pa.array([False] * len(part))})
        sink = io.BytesIO()
        pq.write_table(table, sink)
        key = f"{prefix}/year=2024/month={month:02d}/day=01/hour=00/bench.parquet"
        s3.put_object(Bucket=bucket, Key=key, Body=sink.getvalue())


def reference(rows: pd.DataFrame, entity: pd.DataFrame) -> tuple[pd.DataFrame, float]:
    """pandas ``merge_asof`` (inputs sorted by time, output back in entity order: the same
    work the other engines do)."""
    started = time.perf_counter()
    out = pd.merge_asof(entity.sort_values("ts"), rows.sort_values("t"), left_on="ts", right_on="t",
                        by="customer_id", direction="backward", allow_exact_matches=True)
    out = out.sort_values("row").reset_index(drop=True)
    return out, time.perf_counter() - started


def bench_pit(session, entity_rows: int, entities: int, versions: int, feast_python: str | None,
              work: Path, feast_online_calls: int = 0) -> dict:
    rows = feature_rows(entities, versions)
    load_offline(session, rows)
    rng = np.random.default_rng(3)
    entity = pd.DataFrame({"customer_id": rng.integers(0, entities, entity_rows),
                           "ts": T0 + rng.uniform(0, YEAR, entity_rows), "row": np.arange(entity_rows)})
    expected, pandas_s = reference(rows, entity)
    out = {"entity_rows": entity_rows, "feature_rows": len(rows), "pandas_merge_asof_s": pandas_s}

    con = duckdb.connect()
    con.register("e", entity)
    con.register("f", rows)
    started = time.perf_counter()
    raw = con.execute("SELECT e.*, f.f_float, f.f_int FROM e ASOF LEFT JOIN f "
                      "ON e.customer_id = f.customer_id AND e.ts >= f.t ORDER BY e.row").df()
    out["duckdb_asof_s"] = time.perf_counter() - started
    assert np.allclose(raw["f_float"].fillna(-1e9), expected["f_float"].fillna(-1e9))

    started = time.perf_counter()
    got = features.point_in_time_join(session, entity, [("pit", ["f_float", "f_int", "f_ratio", "f_cat"])],
                                      event_time_col="ts")
    out["aws_ml_s"] = time.perf_counter() - started
    assert len(got) == entity_rows
    assert np.allclose(got["f_float"].fillna(-1e9).to_numpy(), expected["f_float"].fillna(-1e9).to_numpy())

    if feast_python:
        feat = rows.assign(event_timestamp=pd.to_datetime(rows["t"], unit="s", utc=True)).drop(columns="t")
        ent = entity.assign(event_timestamp=pd.to_datetime(entity["ts"], unit="s", utc=True)).drop(columns="ts")
        fpath, epath, opath = work / "feast_features.parquet", work / "feast_entity.parquet", work / "feast_out.parquet"
        feat.to_parquet(fpath)
        ent.to_parquet(epath)
        script = work / "feast_run.py"
        script.write_text(FEAST_SCRIPT)
        proc = subprocess.run([feast_python, str(script), str(fpath), str(epath), str(opath),
                               str(feast_online_calls)],
                              capture_output=True, text=True, cwd=work)
        if proc.returncode != 0:
            out["feast_error"] = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed"
        else:
            res = json.loads(proc.stdout.strip().splitlines()[-1])
            out["feast_s"] = res["seconds"]
            fdf = pd.read_parquet(opath)
            out["feast_rows"] = len(fdf)
            both = fdf.merge(expected[["row", "f_float"]], on="row", suffixes=("", "_pandas"))
            # the values Feast returns, compared row by row with pandas
            out["feast_matches_pandas"] = bool(np.allclose(
                both["f_float"].fillna(-1e9).to_numpy(), both["f_float_pandas"].fillna(-1e9).to_numpy()))
            out["speedup_vs_feast"] = out["feast_s"] / out["aws_ml_s"]
            if "online_ms" in res:
                out["feast_get_p50_ms"] = float(np.percentile(res["online_ms"], 50))
                out["feast_get_p99_ms"] = float(np.percentile(res["online_ms"], 99))
                out["feast_get_per_s"] = len(res["online_ms"]) / (sum(res["online_ms"]) / 1e3)
                out["feast_materialize_s"] = res["materialize_s"]
                out["feast_online_matches_latest"] = res["online_matches_latest"]
    else:
        out["feast_error"] = "no Feast interpreter (--feast-python / AWS_ML_FEAST_PYTHON)"
    out["speedup_vs_pandas"] = pandas_s / out["aws_ml_s"]
    return out


def find_feast(arg: str | None) -> str | None:
    if arg:
        return arg
    if os.environ.get("AWS_ML_FEAST_PYTHON"):
        return os.environ["AWS_ML_FEAST_PYTHON"]
    try:
        import feast  # noqa: F401
        return sys.executable
    except ImportError:
        return "/tmp/feast-venv/bin/python" if Path("/tmp/feast-venv/bin/python").exists() else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--entity-rows", type=int, default=1_000_000)
    ap.add_argument("--entities", type=int, default=10_000)
    ap.add_argument("--versions", type=int, default=10)
    ap.add_argument("--calls", type=int, default=3000, help="put/get calls for latency")
    ap.add_argument("--ingest-rows", type=int, default=50_000)
    ap.add_argument("--feast-python", default=None)
    ap.add_argument("--feast-online-calls", type=int, default=3000,
                    help="Feast get_online_features calls (SQLite online store, same data; 0: skip)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-featurestore-"))
    try:
        with Session(backend="local", home=work / "home") as session:
            session.client("s3").create_bucket(Bucket=BUCKET)
            results = {}
            results.update(bench_runtime(session, args.calls))
            results.update(bench_ingest(session, args.ingest_rows))
            results.update(bench_pit(session, args.entity_rows, args.entities, args.versions,
                                     find_feast(args.feast_python), work, args.feast_online_calls))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"put_record  p50 {results['put_p50_ms']:.3f} ms  p99 {results['put_p99_ms']:.3f} ms  "
          f"{results['put_per_s']:,.0f} records/s")
    print(f"get_record  p50 {results['get_p50_ms']:.3f} ms  p99 {results['get_p99_ms']:.3f} ms  "
          f"{results['get_per_s']:,.0f} records/s  (target p50 < 0.3 ms: "
          f"{'met' if results['get_p50_ms'] < 0.3 else 'MISSED'})")
    print(f"ingest      {results['ingest_threads_rows_per_s']:,.0f} rows/s (4 threads), "
          f"{results['ingest_processes_rows_per_s']:,.0f} rows/s (2 processes)")
    print(f"point-in-time set: {results['entity_rows']:,} entity rows x {results['feature_rows']:,} feature rows")
    print(f"  aws_ml point_in_time_join  {results['aws_ml_s']:.2f} s")
    print(f"  bare DuckDB ASOF           {results['duckdb_asof_s']:.2f} s")
    print(f"  pandas merge_asof          {results['pandas_merge_asof_s']:.2f} s  "
          f"(aws_ml {results['speedup_vs_pandas']:.1f}x)")
    if "feast_s" in results:
        print(f"  Feast (local, file store)  {results['feast_s']:.2f} s  (aws_ml "
              f"{results['speedup_vs_feast']:.1f}x faster; target 10x: "
              f"{'met' if results['speedup_vs_feast'] >= 10 else 'MISSED'}; "
              f"Feast values match pandas: {results['feast_matches_pandas']})")
        if "feast_get_p50_ms" in results:
            print(f"  Feast get_online_features (SQLite online store, same data): p50 "
                  f"{results['feast_get_p50_ms']:.3f} ms  p99 {results['feast_get_p99_ms']:.3f} ms  "
                  f"{results['feast_get_per_s']:,.0f} records/s  (materialize "
                  f"{results['feast_materialize_s']:.1f} s; values match the latest rows: "
                  f"{results['feast_online_matches_latest']})")
        if results["feast_rows"] != results["entity_rows"]:
            print(f"  note: Feast returned {results['feast_rows']:,} of {results['entity_rows']:,} entity "
                  f"rows (it drops rows with no earlier feature value; aws_ml keeps them with NULLs)")
    else:
        print(f"  Feast: not run ({results['feast_error']})")


if __name__ == "__main__":
    main()
