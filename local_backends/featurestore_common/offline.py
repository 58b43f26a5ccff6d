"""The offline store: buffered rows written to S3 as Parquet, catalogued in Glue.

AWS appends every ingested record to Parquet files under the group's
``ResolvedOutputS3Uri``, in folders ``year=YYYY/month=MM/day=DD/hour=HH/`` of the record's
event time, with three more columns: ``write_time`` and ``api_invocation_time``
(timestamps) and ``is_deleted`` (boolean). It does so within about fifteen minutes.

Here ``PutRecord`` appends the row to a durable buffer (a SQLite table, in the same
transaction as the online write, so a record is never in one store and lost for the
other); :meth:`OfflineWriter.flush` moves the buffered rows of a group to S3, many rows
per file. The runtime flushes on size and on age, and the facade
(``aws_ml.features.flush``) and tests flush explicitly.
"""
from __future__ import annotations

import io
import json
import uuid
from collections import defaultdict
from datetime import datetime, timezone

from botocore.exceptions import ClientError

from .groups import FeatureGroupInfo

GLUE_TYPES = {"Integral": "bigint", "Fractional": "double", "String": "string"}
EXTRA_COLUMNS = [("write_time", "timestamp"), ("api_invocation_time", "timestamp"),
                 ("is_deleted", "boolean")]
PARQUET_INPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
PARQUET_OUTPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
DEFAULT_DATABASE = "sagemaker_featurestore"


def glue_table_input(info: FeatureGroupInfo) -> dict:
    """The Glue table AWS registers for an offline store: Parquet at the resolved URI,
    one column per feature plus the three offline-store columns (read recursively; the
    ``year=/month=/day=/hour=`` folders are not registered as partitions)."""
    columns = [{"Name": name, "Type": GLUE_TYPES[info.types[name]]} for name in info.order]
    columns += [{"Name": n, "Type": t} for n, t in EXTRA_COLUMNS]
    return {
        "Name": info.table,
        "Description": f"Offline store of the SageMaker feature group {info.name}",
        "TableType": "EXTERNAL_TABLE",
        "Parameters": {"EXTERNAL": "TRUE", "classification": "parquet"},
        "StorageDescriptor": {
            "Columns": columns,
            "Location": info.resolved_uri,
            "InputFormat": PARQUET_INPUT,
            "OutputFormat": PARQUET_OUTPUT,
            "SerdeInfo": {"SerializationLibrary": PARQUET_SERDE,
                          "Parameters": {"serialization.format": "1"}},
            "Compressed": False,
        },
        "PartitionKeys": [],
    }


def _code(err: ClientError) -> str:
    return err.response.get("Error", {}).get("Code", "")


def ensure_glue_table(glue, info: FeatureGroupInfo) -> bool:
    """Create the group's Glue database and table if they do not exist (``glue`` is a boto3
    Glue client); True if the table was created. Other Glue errors propagate."""
    if not (info.offline and info.create_glue_table and info.database and info.table):
        return False
    try:
        glue.get_table(DatabaseName=info.database, Name=info.table)
        return False
    except ClientError as err:
        if _code(err) != "EntityNotFoundException":
            raise
    try:
        glue.create_database(DatabaseInput={"Name": info.database})
    except ClientError as err:
        if _code(err) != "AlreadyExistsException":
            raise
    try:
        glue.create_table(DatabaseName=info.database, TableInput=glue_table_input(info))
    except ClientError as err:
        if _code(err) != "AlreadyExistsException":  # created meanwhile by another process
            raise
        return False
    return True


def _split_s3(uri: str) -> tuple[str, str]:
    rest = uri.split("://", 1)[1]
    bucket, _, prefix = rest.partition("/")
    return bucket, prefix.rstrip("/")


def _arrow_schema(info: FeatureGroupInfo):
    import pyarrow as pa
    kinds = {"Integral": pa.int64(), "Fractional": pa.float64(), "String": pa.string()}
    fields = [pa.field(n, kinds[info.types[n]]) for n in info.order]
    fields += [pa.field("write_time", pa.timestamp("ms")),
               pa.field("api_invocation_time", pa.timestamp("ms")),
               pa.field("is_deleted", pa.bool_())]
    return pa.schema(fields)


def parquet_bytes(info: FeatureGroupInfo, rows: list[dict]) -> bytes:
    """One Parquet file of offline-store rows (``rows``: feature values already typed,
    ``write_time``/``api_invocation_time`` as epoch seconds)."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ImportError("the local offline store writes Parquet with pyarrow "
                          "(pip install 'aws-ml[data]')") from exc
    schema = _arrow_schema(info)
    cols = {}
    for f in schema:
        if f.name in ("write_time", "api_invocation_time"):
            cols[f.name] = pa.array([int(r[f.name] * 1000) for r in rows], pa.int64()).cast(f.type)
        else:
            cols[f.name] = pa.array([r.get(f.name) for r in rows], f.type)
    table = pa.table(cols, schema=schema)
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="snappy")
    return sink.getvalue()


def partition_of(event_seconds: float) -> str:
    dt = datetime.fromtimestamp(event_seconds, tz=timezone.utc)
    return f"year={dt.year:04d}/month={dt.month:02d}/day={dt.day:02d}/hour={dt.hour:02d}"


class OfflineWriter:
    """Moves the buffered offline rows of a group to S3 (one Parquet file per event-time
    hour per flush)."""

    MAX_ROWS_PER_FLUSH = 500_000

    def __init__(self, store) -> None:
        self.store = store

    def pending(self, generation: str) -> int:
        row = self.store.query_one("SELECT COUNT(*) FROM offline_buffer WHERE generation = ?",
                                   (generation,))
        return row[0]

    def flush(self, info: FeatureGroupInfo, s3) -> int:
        """Write every buffered row of ``info`` to S3 through the boto3 client ``s3``;
        returns the number of rows written. Rows leave the buffer only once their files
        are written (a failure leaves them buffered and removes the files written)."""
        total = 0
        while True:
            written = self._flush_batch(info, s3)
            total += written
            if written < self.MAX_ROWS_PER_FLUSH:
                return total

    def _flush_batch(self, info: FeatureGroupInfo, s3) -> int:
        bucket, prefix = _split_s3(info.resolved_uri)
        with self.store.transaction() as db:  # holds the write lock: one flusher at a time
            rows = db.execute(
                "SELECT seq, row FROM offline_buffer WHERE generation = ? ORDER BY seq LIMIT ?",
                (info.generation, self.MAX_ROWS_PER_FLUSH)).fetchall()
            if not rows:
                return 0
            parts: dict[str, list[dict]] = defaultdict(list)
            for r in rows:
                row = json.loads(r["row"])
                parts[partition_of(row.pop("_event_seconds"))].append(row)
            stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
            written: list[str] = []
            try:
                for part, part_rows in sorted(parts.items()):
                    key = f"{prefix}/{part}/{stamp}_{uuid.uuid4().hex[:16]}.parquet"
                    s3.put_object(Bucket=bucket, Key=key, Body=parquet_bytes(info, part_rows))
                    written.append(key)
            except BaseException:
                for key in written:  # keep the offline store free of rows still buffered
                    s3.delete_object(Bucket=bucket, Key=key)
                raise
            db.execute("DELETE FROM offline_buffer WHERE generation = ? AND seq <= ?",
                       (info.generation, rows[-1]["seq"]))
            return len(rows)
