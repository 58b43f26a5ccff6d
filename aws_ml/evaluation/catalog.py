"""A table of S3 objects in the Glue Data Catalog, so that Athena can query it.

>>> from aws_ml.evaluation.catalog import register_parquet          # doctest: +SKIP
>>> register_parquet(session, "fraud_db", "claims", "s3://bucket/curated/claims/", frame)
'fraud_db.claims'
"""
from __future__ import annotations

import re

HIVE_TYPES = (("bool", "boolean"), ("int", "bigint"), ("float", "double"), ("datetime64", "timestamp"))
PARQUET_SERDE = {"SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
                 "Parameters": {"serialization.format": "1"}}


def glue_name(text: str) -> str:
    """A Glue database or table name from any text: lower case, ``[a-z0-9_]``."""
    return re.sub(r"[^a-z0-9_]+", "_", text.lower()).strip("_")[:255] or "aws_ml"


def hive_type(dtype) -> str:
    """The Hive (Athena DDL) type of a pandas dtype."""
    name = str(dtype)
    for prefix, hive in HIVE_TYPES:
        if name.startswith(prefix) or name.lower().startswith(prefix):
            return hive
    return "string"


def register_parquet(session, database: str, table: str, location: str, frame, *,
                     description: str = "") -> str:
    """Create (or update) the Glue table ``database.table`` over the Parquet objects under
    ``location`` (an ``s3://`` prefix), with ``frame``'s columns; the database is created
    when missing. Returns ``"database.table"``."""
    glue = session.client("glue")
    try:
        glue.get_database(Name=database)
    except glue.exceptions.EntityNotFoundException:
        try:
            glue.create_database(DatabaseInput={"Name": database, "Description": "aws_ml pipeline tables"})
        except glue.exceptions.AlreadyExistsException:
            pass                                   # another process created it meanwhile
    table_input = {
        "Name": table, "Description": description, "TableType": "EXTERNAL_TABLE",
        "Parameters": {"classification": "parquet", "EXTERNAL": "TRUE"},
        "StorageDescriptor": {
            "Columns": [{"Name": str(c), "Type": hive_type(t)} for c, t in frame.dtypes.items()],
            "Location": location if location.endswith("/") else location + "/",
            "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
            "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
            "SerdeInfo": PARQUET_SERDE}}
    try:
        glue.create_table(DatabaseName=database, TableInput=table_input)
    except glue.exceptions.AlreadyExistsException:
        glue.update_table(DatabaseName=database, TableInput=table_input)
    return f"{database}.{table}"
