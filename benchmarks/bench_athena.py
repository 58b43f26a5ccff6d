"""Athena speed: the local Athena (boto3 calls end to end) vs raw DuckDB vs pandas, in one run.

    python benchmarks/bench_athena.py                 # 10 million claims rows
    python benchmarks/bench_athena.py --rows 1000000  # smaller

A claims table drawn from the fraud dataset's distributions (numpy, written as Parquet
with pyarrow) and a customers table are uploaded to the local S3 and registered in Glue.
Each query runs through ``start_query_execution`` ... ``get_query_results`` (every page),
then the same SQL runs in a bare DuckDB on the same files, and the same computation in
pandas. The target for the aggregate is an Athena/DuckDB ratio of at most 1.3. Last,
``get_query_results`` pages through a 1-million-row result (rows per second).
"""
from __future__ import annotations

import argparse
import shutil
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

from aws_ml import Session  # noqa: E402

FRAUD = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "fraud"
if not FRAUD.exists():
    FRAUD = Path("/work/shared/datasets/fraud")
BUCKET = "bench-lake"
POLL = 0.005  # seconds between get_query_execution calls (--poll)
PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"

AGGREGATE = """
SELECT incident_type, incident_severity, count(*) AS n, avg(total_claim_amount) AS mean_claim,
       approx_percentile(total_claim_amount, 0.9) AS p90_claim,
       sum(fraud) AS frauds, max(vehicle_claim) AS top_vehicle
FROM claims GROUP BY incident_type, incident_severity ORDER BY incident_type, incident_severity"""
# the same query as the local Athena hands it to DuckDB: approx_percentile becomes the exact
# quantile_disc (within any error bound; faster in DuckDB than its t-digest approx_quantile)
DUCKDB_AGGREGATE = AGGREGATE.replace("approx_percentile(", "quantile_disc(")
JOIN = """
SELECT u.policy_state, count(*) AS n, avg(c.total_claim_amount) AS mean_claim, sum(c.fraud) AS frauds
FROM claims c JOIN customers u ON c.policy_id = u.policy_id
GROUP BY u.policy_state ORDER BY u.policy_state"""


def make_tables(rows: int, seed: int = 0) -> tuple[pa.Table, pa.Table]:
    """Claims drawn from the fraud dataset's columns, and one customer per 10 claims."""
    rng = np.random.default_rng(seed)
    claims = pd.read_csv(FRAUD / "claims.csv", keep_default_na=False, na_values=[])
    customers = pd.read_csv(FRAUD / "customers.csv", keep_default_na=False, na_values=[])
    n_customers = max(1, rows // 10)

    def categorical(series: pd.Series, n: int) -> pa.Array:
        freq = series.value_counts(normalize=True)
        codes = rng.choice(len(freq), size=n, p=freq.to_numpy())
        return pa.DictionaryArray.from_arrays(pa.array(codes, pa.int32()), pa.array(freq.index.astype(str))) \
            .cast(pa.string())

    def numeric(series: pd.Series, n: int) -> np.ndarray:
        return rng.choice(series.to_numpy(dtype=float), size=n) * rng.normal(1.0, 0.05, size=n)

    claims_table = pa.table({
        "policy_id": pa.array(rng.integers(1, n_customers + 1, size=rows), pa.int64()),
        "incident_type": categorical(claims.incident_type, rows),
        "incident_severity": categorical(claims.incident_severity, rows),
        "authorities_contacted": categorical(claims.authorities_contacted, rows),
        "num_injuries": pa.array(rng.choice(claims.num_injuries.to_numpy(), size=rows), pa.int64()),
        "vehicle_claim": numeric(claims.vehicle_claim, rows),
        "total_claim_amount": numeric(claims.total_claim_amount, rows),
        "fraud": pa.array((rng.random(rows) < claims.fraud.mean()).astype(np.int64)),
    })
    customers_table = pa.table({
        "policy_id": pa.array(np.arange(1, n_customers + 1), pa.int64()),
        "customer_age": pa.array(rng.choice(customers.customer_age.to_numpy(), size=n_customers), pa.int64()),
        "policy_state": categorical(customers.policy_state, n_customers),
    })
    return claims_table, customers_table


def glue_type(t: pa.DataType) -> str:
    return "bigint" if pa.types.is_integer(t) else "double" if pa.types.is_floating(t) else "string"


def upload(session: Session, name: str, table: pa.Table, workdir: Path, parts: int) -> list[Path]:
    """The table as ``parts`` Parquet objects in S3 and a Glue table; the local files written."""
    s3, glue = session.client("s3"), session.client("glue")
    size = -(-table.num_rows // parts)
    files = []
    for i in range(parts):
        path = workdir / f"{name}-{i}.parquet"
        pq.write_table(table.slice(i * size, size), path)
        s3.upload_file(str(path), BUCKET, f"{name}/part-{i}.parquet")
        files.append(path)
    glue.create_table(DatabaseName="bench", TableInput={
        "Name": name, "TableType": "EXTERNAL_TABLE", "Parameters": {"classification": "parquet"},
        "StorageDescriptor": {
            "Columns": [{"Name": f.name, "Type": glue_type(f.type)} for f in table.schema],
            "Location": f"s3://{BUCKET}/{name}/",
            "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
            "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
            "SerdeInfo": {"SerializationLibrary": PARQUET_SERDE}}})
    return files


def athena_query(athena, sql: str, page_size: int = 1000, poll: float = POLL) -> tuple[float, int, float]:
    """(seconds to SUCCEEDED, rows fetched, seconds end to end with every result page)."""
    t0 = time.perf_counter()
    query_id = athena.start_query_execution(
        QueryString=sql, QueryExecutionContext={"Database": "bench"},
        ResultConfiguration={"OutputLocation": f"s3://{BUCKET}/results/"})["QueryExecutionId"]
    while True:
        state = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Status"]
        if state["State"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            break
        time.sleep(poll)
    if state["State"] != "SUCCEEDED":
        raise RuntimeError(f"{sql}: {state}")
    t1 = time.perf_counter()
    rows = 0
    for page in athena.get_paginator("get_query_results").paginate(
            QueryExecutionId=query_id, PaginationConfig={"PageSize": page_size}):
        rows += len(page["ResultSet"]["Rows"])
    return t1 - t0, rows - 1, time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000, help="claims rows (default 10 million)")
    parser.add_argument("--parts", type=int, default=8, help="Parquet objects per table")
    parser.add_argument("--page-rows", type=int, default=1_000_000, help="rows of the paging test")
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement (best is kept)")
    parser.add_argument("--poll", type=float, default=POLL,
                        help="seconds between get_query_execution polls (each poll takes CPU from the query)")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-athena-"))
    try:
        t = time.perf_counter()
        claims, customers = make_tables(args.rows)
        print(f"generated {claims.num_rows:,} claims and {customers.num_rows:,} customers "
              f"in {time.perf_counter() - t:.1f} s")
        with Session(backend="local", home=workdir / "home", region="us-east-1") as session:
            session.client("s3").create_bucket(Bucket=BUCKET)
            session.client("glue").create_database(DatabaseInput={"Name": "bench"})
            claims_files = upload(session, "claims", claims, workdir, args.parts)
            customer_files = upload(session, "customers", customers, workdir, max(1, args.parts // 4))
            athena = session.client("athena")
            athena_query(athena, "SELECT count(*) FROM claims")  # warm up: imports, first connection

            con = duckdb.connect()
            con.execute("CREATE VIEW claims AS SELECT * FROM read_parquet(["
                        + ", ".join(f"'{p}'" for p in claims_files) + "])")
            con.execute("CREATE VIEW customers AS SELECT * FROM read_parquet(["
                        + ", ".join(f"'{p}'" for p in customer_files) + "])")

            def duck(sql):
                t = time.perf_counter()
                con.sql(sql).fetchall()
                return time.perf_counter() - t

            def pandas_aggregate():
                t = time.perf_counter()
                df = pd.concat([pd.read_parquet(p) for p in claims_files])
                df.groupby(["incident_type", "incident_severity"]).agg(
                    n=("policy_id", "size"), mean_claim=("total_claim_amount", "mean"),
                    p90_claim=("total_claim_amount", lambda s: s.quantile(0.9)),
                    frauds=("fraud", "sum"), top_vehicle=("vehicle_claim", "max"))
                return time.perf_counter() - t

            def pandas_join():
                t = time.perf_counter()
                df = pd.concat([pd.read_parquet(p) for p in claims_files])
                cu = pd.concat([pd.read_parquet(p) for p in customer_files])
                df.merge(cu, on="policy_id").groupby("policy_state").agg(
                    n=("policy_id", "size"), mean_claim=("total_claim_amount", "mean"), frauds=("fraud", "sum"))
                return time.perf_counter() - t

            print(f"\n{'query':<10} {'athena':>9} {'athena+results':>15} {'duckdb':>9} {'pandas':>9} "
                  f"{'athena/duckdb':>14} {'pandas/athena':>14}")
            for label, sql, duck_sql, pandas_fn in (("aggregate", AGGREGATE, DUCKDB_AGGREGATE, pandas_aggregate),
                                                    ("join", JOIN, JOIN, pandas_join)):
                athena_runs, duck_runs = [], []
                for _ in range(args.repeat):   # interleaved, so that load drifts hit both alike
                    athena_runs.append(athena_query(athena, sql, poll=args.poll))
                    duck_runs.append(duck(duck_sql))
                a_done, _, a_total = min(athena_runs, key=lambda r: r[2])
                d = min(duck_runs)
                p = min(pandas_fn() for _ in range(max(1, args.repeat - 2)))
                print(f"{label:<10} {a_done:>8.3f}s {a_total:>14.3f}s {d:>8.3f}s {p:>8.3f}s "
                      f"{a_total / d:>13.2f}x {p / a_total:>13.2f}x")

            n = min(args.page_rows, claims.num_rows)
            t = time.perf_counter()
            done, rows, total = athena_query(
                athena, f"SELECT policy_id, incident_type, total_claim_amount FROM claims LIMIT {n}", poll=args.poll)
            paging = total - done
            print(f"\nget_query_results paging: {rows:,} rows in {paging:.2f} s = {rows / paging:,.0f} rows/s "
                  f"(query itself {done:.2f} s, 1,000 rows a page)")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
