"""Where the data to evaluate comes from: a DataFrame, an S3 object or prefix, an Athena
query, or a Glue Data Catalog table.

Everything goes through the session's boto3 clients (``session.client("s3")``,
``session.client("athena")``), so the same call works on every backend: ``local``,
``moto``, ``localstack`` and real AWS.
"""
from __future__ import annotations

import io
import re
import time
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")
JSON_SUFFIXES = (".json", ".jsonl", ".ndjson", ".json.gz", ".jsonl.gz")
COMPRESSION = {".gz": "gzip", ".bz2": "bz2", ".zst": "zstd", ".xz": "xz", ".zip": "zip"}

_SQL_START = re.compile(r"^\s*(\(|select\b|with\b|values\b|table\b|show\b|describe\b)", re.I)
_TABLE_NAME = re.compile(r"^\s*(?:\"[^\"]+\"|[A-Za-z_][\w\-]*)\.(?:\"[^\"]+\"|[A-Za-z_][\w\-]*)\s*$")

_INTEGER_TYPES = {"tinyint", "smallint", "integer", "int", "bigint"}
_FLOAT_TYPES = {"double", "float", "real", "decimal"}
_TEMPORAL_TYPES = {"date", "timestamp", "timestamp with time zone"}
_JAVA_SPECIALS = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}


class SourceError(ValueError):
    """The source cannot be read (unknown kind, empty prefix, unreadable object)."""


class AthenaQueryError(RuntimeError):
    """An Athena query ended FAILED or CANCELLED, or did not finish in time."""

    def __init__(self, query_execution_id: str, state: str, reason: str) -> None:
        super().__init__(f"Athena query {query_execution_id} {state}: {reason}")
        self.query_execution_id = query_execution_id
        self.state = state
        self.reason = reason


@dataclass
class Provenance:
    """Where a DataFrame came from (kept in the report, shown on the dashboard)."""

    kind: str                       # dataframe | s3 | athena | glue_table
    uri: str | None = None          # the s3:// URI read
    query: str | None = None        # the SQL run on Athena
    query_execution_id: str | None = None
    objects: list[str] = field(default_factory=list)   # the S3 keys read
    backend: str | None = None      # the session's backend for S3 / Athena

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v not in (None, [])}

    def describe(self) -> str:
        if self.kind == "dataframe":
            return "pandas DataFrame"
        if self.kind == "s3":
            return self.uri or "S3"
        text = " ".join((self.query or "").split())
        return f"Athena: {text[:120]}{'…' if len(text) > 120 else ''}"


def source_kind(source: Any) -> str:
    """``dataframe``, ``s3``, ``athena`` (a SQL query) or ``glue_table`` (``"db.table"``)."""
    if isinstance(source, pd.DataFrame):
        return "dataframe"
    if not isinstance(source, str):
        raise SourceError("The 'source' parameter of evaluate_data must be a pandas DataFrame, an "
                          "s3:// URI, a SQL query or a Glue table name 'database.table'. "
                          f"Got {type(source).__name__} instead.")
    if source.startswith("s3://"):
        return "s3"
    if _SQL_START.match(source):
        return "athena"
    if _TABLE_NAME.match(source):
        return "glue_table"
    raise SourceError("The 'source' parameter of evaluate_data must be a pandas DataFrame, an "
                      "s3:// URI, a SQL query (SELECT/WITH ...) or a Glue table name "
                      f"'database.table'. Got {source!r} instead.")


def load_source(source: Any, *, session=None, database: str | None = None,
                workgroup: str | None = None, output_location: str | None = None,
                catalog: str | None = None, read_options: dict | None = None,
                query_timeout: float = 600.0) -> tuple[pd.DataFrame, Provenance]:
    """Read ``source`` into a DataFrame; return it with its provenance."""
    kind = source_kind(source)
    if kind == "dataframe":
        return source, Provenance("dataframe")
    session = session if session is not None else _default_session()
    if kind == "s3":
        frame, keys = read_s3(session, source, read_options=read_options)
        return frame, Provenance("s3", uri=source, objects=keys, backend=session.backend_for("s3")
                                 if hasattr(session, "backend_for") else None)
    if kind == "glue_table":
        sql = f"SELECT * FROM {source.strip()}"
    else:
        sql = source
    frame, query_id = run_athena(session, sql, database=database, workgroup=workgroup,
                                 output_location=output_location, catalog=catalog,
                                 timeout=query_timeout)
    return frame, Provenance(kind, query=sql, query_execution_id=query_id,
                             backend=session.backend_for("athena")
                             if hasattr(session, "backend_for") else None)


def _default_session():
    from aws_ml import Session

    return Session()


# -- S3 ------------------------------------------------------------------------------------
def parse_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/key`` -> ``(bucket, key)``."""
    if not uri.startswith("s3://"):
        raise SourceError(f"An S3 URI must start with 's3://'. Got {uri!r} instead.")
    bucket, _, key = uri[5:].partition("/")
    if not bucket:
        raise SourceError(f"The S3 URI {uri!r} names no bucket.")
    return bucket, key


def _file_format(key: str, head: bytes) -> str:
    name = key.lower()
    if name.endswith(PARQUET_SUFFIXES) or head[:4] == b"PAR1":
        return "parquet"
    if name.endswith(JSON_SUFFIXES):
        return "json"
    return "csv"


def _compression(key: str) -> str | None:
    for suffix, name in COMPRESSION.items():
        if key.lower().endswith(suffix):
            return name
    return None


def read_bytes(body: bytes, key: str, read_options: dict | None = None) -> pd.DataFrame:
    """A DataFrame from the bytes of one object (CSV, Parquet or JSON Lines; by name or magic)."""
    options = dict(read_options or {})
    fmt = options.pop("format", None) or _file_format(key, body[:4])
    if fmt == "parquet":
        return pd.read_parquet(io.BytesIO(body), **options)
    options.setdefault("compression", _compression(key))
    if fmt == "json":
        options.setdefault("lines", True)
        return pd.read_json(io.BytesIO(body), **options)
    if fmt != "csv":
        raise SourceError(f"Unknown format {fmt!r}: use 'csv', 'parquet' or 'json'.")
    return pd.read_csv(io.BytesIO(body), **options)


def _data_keys(s3, bucket: str, prefix: str) -> list[str]:
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            name = obj["Key"][len(prefix):].rsplit("/", 1)[-1]
            # Hive/Spark markers and empty "folder" objects are not data.
            if obj["Size"] == 0 or name.startswith(("_", ".")) or name.endswith(".metadata"):
                continue
            keys.append(obj["Key"])
    return sorted(keys)


def read_s3(session, uri: str, *, read_options: dict | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Read an object (``s3://b/data.csv``) or every data object under a prefix
    (``s3://b/table/``, parts concatenated in key order) through ``session.client("s3")``."""
    bucket, key = parse_s3_uri(uri)
    s3 = session.client("s3")
    keys = _data_keys(s3, bucket, key) if (not key or key.endswith("/")) else [key]
    if not keys:
        raise SourceError(f"No data object under {uri!r}.")
    frames = [read_bytes(s3.get_object(Bucket=bucket, Key=k)["Body"].read(), k, read_options)
              for k in keys]
    frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    return frame, keys


# -- Athena --------------------------------------------------------------------------------
def run_athena(session, sql: str, *, database: str | None = None, workgroup: str | None = None,
               output_location: str | None = None, catalog: str | None = None,
               timeout: float = 600.0, poll: float = 0.05) -> tuple[pd.DataFrame, str]:
    """Run ``sql`` on Athena (``start_query_execution`` → poll ``get_query_execution`` →
    ``get_query_results`` paginator) and return the typed DataFrame and the query id."""
    athena = session.client("athena")
    params: dict[str, Any] = {"QueryString": sql}
    context = {k: v for k, v in (("Database", database), ("Catalog", catalog)) if v}
    if context:
        params["QueryExecutionContext"] = context
    if workgroup:
        params["WorkGroup"] = workgroup
    if output_location:
        params["ResultConfiguration"] = {"OutputLocation": output_location}
    query_id = athena.start_query_execution(**params)["QueryExecutionId"]

    deadline = time.monotonic() + timeout
    delay = poll
    while True:
        status = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Status"]
        state = status["State"]
        if state == "SUCCEEDED":
            break
        if state in ("FAILED", "CANCELLED"):
            raise AthenaQueryError(query_id, state, status.get("StateChangeReason", "no reason given"))
        if time.monotonic() > deadline:
            raise AthenaQueryError(query_id, state, f"still {state} after {timeout:g} s")
        time.sleep(delay)
        delay = min(delay * 1.5, 1.0)

    columns: list[dict] | None = None
    rows: list[list[str | None]] = []
    pages = athena.get_paginator("get_query_results").paginate(QueryExecutionId=query_id)
    for number, page in enumerate(pages):
        result = page["ResultSet"]
        if columns is None:
            columns = result["ResultSetMetadata"]["ColumnInfo"]
        page_rows = [[cell.get("VarCharValue") for cell in row.get("Data", [])]
                     for row in result.get("Rows", [])]
        if number == 0 and page_rows and page_rows[0] == [c["Name"] for c in columns]:
            page_rows = page_rows[1:]          # the header row of a SELECT's first page
        rows.extend(page_rows)
    return athena_frame(columns or [], rows), query_id


def athena_frame(columns: list[dict], rows: list[list[str | None]]) -> pd.DataFrame:
    """A DataFrame typed from Athena's ``ColumnInfo`` the way ``pandas.read_csv`` would type
    the same data: integers without NULL as int64, with NULL as float64; reals as float64;
    booleans as bool (object with None where NULL); dates and timestamps as datetime64;
    everything else as strings (NULL -> missing)."""
    names = [c["Name"] for c in columns]
    data = {}
    for i, column in enumerate(columns):
        values = [row[i] if i < len(row) else None for row in rows]
        kind = column["Type"].lower().split("(")[0].strip()
        series = pd.Series(values, dtype=object, name=column["Name"])
        if kind in _INTEGER_TYPES:
            series = pd.to_numeric(series)
            if not series.isna().any():
                series = series.astype("int64")
        elif kind in _FLOAT_TYPES:       # Athena prints Java's NaN / Infinity / -Infinity
            series = pd.to_numeric(series.replace(_JAVA_SPECIALS)).astype("float64")
        elif kind == "boolean":
            mapped = series.map({"true": True, "false": False})
            series = mapped.astype(bool) if not series.isna().any() else mapped
        elif kind in _TEMPORAL_TYPES:
            series = pd.to_datetime(series)
        else:
            series = pd.Series(values, name=column["Name"])   # pandas' own string dtype
        data[column["Name"]] = series
    return pd.DataFrame(data, columns=names)
