"""Fixtures of the Athena contract tests: the fraud tables in S3 (CSV and Parquet) and Glue.

On ``local`` every service is local; on ``moto`` S3 and Glue are moto's and Athena is
the local engine reading them (moto records Athena queries but does not run them).
"""
from __future__ import annotations

import functools
import io
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

FRAUD = Path(__file__).resolve().parents[3] / ".." / "shared" / "datasets" / "fraud"
if not FRAUD.exists():
    FRAUD = Path("/work/shared/datasets/fraud")

BUCKET = "lake"
OUTPUT = f"s3://{BUCKET}/athena-results/"
LAZY_SIMPLE = "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"
PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"


@functools.lru_cache(maxsize=None)
def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(FRAUD / f"{name}.csv", keep_default_na=False, na_values=[])


def read_fraud(name: str) -> pd.DataFrame:
    """A fraud table as pandas reads it (strings kept as written: 'None' is a value)."""
    return _read(name).copy()


@functools.lru_cache(maxsize=None)
def _parts(name: str, fmt: str, parts: int) -> tuple[bytes, ...]:
    df = _read(name)
    size = -(-len(df) // parts)
    out = []
    for i in range(parts):
        chunk = df.iloc[i * size:(i + 1) * size]
        if fmt == "csv":
            out.append(chunk.to_csv(index=False).encode())
        else:
            buf = io.BytesIO()
            pq.write_table(pa.Table.from_pandas(chunk, preserve_index=False), buf)
            out.append(buf.getvalue())
    return tuple(out)


def glue_type(dtype) -> str:
    if pd.api.types.is_integer_dtype(dtype):
        return "bigint"
    if pd.api.types.is_float_dtype(dtype):
        return "double"
    return "string"


def columns_of(df: pd.DataFrame) -> list[dict]:
    return [{"Name": c, "Type": glue_type(df[c].dtype)} for c in df.columns]


class Lake:
    """The clients of a session plus helpers to load tables and run queries."""

    def __init__(self, session) -> None:
        self.session = session
        self.s3 = session.client("s3")
        self.glue = session.client("glue")
        self.athena = session.client("athena")
        self.s3.create_bucket(Bucket=BUCKET)
        self.glue.create_database(DatabaseInput={"Name": "fraud"})

    def put_csv(self, name: str, parts: int = 2) -> None:
        """A fraud table as ``parts`` CSV objects with a header each, and a Glue table over them."""
        df = _read(name)
        for i, body in enumerate(_parts(name, "csv", parts)):
            self.s3.put_object(Bucket=BUCKET, Key=f"csv/{name}/part-{i}.csv", Body=body)
        self.glue.create_table(DatabaseName="fraud", TableInput={
            "Name": f"{name}_csv", "TableType": "EXTERNAL_TABLE",
            "Parameters": {"classification": "csv", "skip.header.line.count": "1"},
            "StorageDescriptor": {
                "Columns": columns_of(df), "Location": f"s3://{BUCKET}/csv/{name}/",
                "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
                "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
                "SerdeInfo": {"SerializationLibrary": LAZY_SIMPLE, "Parameters": {"field.delim": ","}}}})

    def put_parquet(self, name: str, parts: int = 2) -> None:
        """A fraud table as ``parts`` Parquet objects (written by pyarrow) and a Glue table."""
        df = _read(name)
        for i, body in enumerate(_parts(name, "parquet", parts)):
            self.s3.put_object(Bucket=BUCKET, Key=f"parquet/{name}/part-{i}.parquet", Body=body)
        self.glue.create_table(DatabaseName="fraud", TableInput={
            "Name": f"{name}_parquet", "TableType": "EXTERNAL_TABLE",
            "Parameters": {"classification": "parquet"},
            "StorageDescriptor": {
                "Columns": columns_of(df), "Location": f"s3://{BUCKET}/parquet/{name}/",
                "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
                "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
                "SerdeInfo": {"SerializationLibrary": PARQUET_SERDE}}})

    def start(self, sql: str, **kwargs) -> str:
        kwargs.setdefault("QueryExecutionContext", {"Database": "fraud"})
        if "WorkGroup" not in kwargs:
            kwargs.setdefault("ResultConfiguration", {"OutputLocation": OUTPUT})
        return self.athena.start_query_execution(QueryString=sql, **kwargs)["QueryExecutionId"]

    def wait(self, query_id: str, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            execution = self.athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
            if execution["Status"]["State"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
                return execution
            if time.monotonic() > deadline:
                raise TimeoutError(f"query {query_id} still {execution['Status']['State']}")
            time.sleep(0.02)

    def run(self, sql: str, **kwargs) -> dict:
        """The final QueryExecution of ``sql``."""
        return self.wait(self.start(sql, **kwargs))

    def rows(self, sql: str) -> tuple[list[str], list[list[str | None]], dict]:
        """Header, data rows (strings, None for NULL) and ColumnInfo of a successful query."""
        execution = self.run(sql)
        assert execution["Status"]["State"] == "SUCCEEDED", execution["Status"].get("StateChangeReason")
        pages = self.athena.get_paginator("get_query_results").paginate(
            QueryExecutionId=execution["QueryExecutionId"])
        rows, info = [], None
        for page in pages:
            info = page["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]
            rows.extend([d.get("VarCharValue") for d in r["Data"]] for r in page["ResultSet"]["Rows"])
        return rows[0], rows[1:], info

    def frame(self, sql: str) -> pd.DataFrame:
        """A query's result as a DataFrame typed from ColumnInfo."""
        header, data, info = self.rows(sql)
        df = pd.DataFrame(data, columns=header)
        for col in info:
            if col["Type"] in ("bigint", "integer", "smallint", "tinyint"):
                df[col["Name"]] = df[col["Name"]].astype("Int64")
            elif col["Type"] in ("double", "float", "decimal"):
                df[col["Name"]] = df[col["Name"]].astype(float)
        return df


@pytest.fixture
def lake(session):
    return Lake(session)


@pytest.fixture
def fraud_lake(lake):
    """Claims and customers in S3 as CSV and as Parquet, with a Glue table for each file."""
    for name in ("claims", "customers"):
        lake.put_csv(name)
        lake.put_parquet(name)
    return lake
