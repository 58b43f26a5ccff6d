"""DuckDB over the tables of the Glue catalog: one in-memory database per query.

Each query gets a fresh DuckDB connection holding one view per catalog table it reads
(``read_csv`` / ``read_json`` / ``read_parquet`` over the table's S3 objects, typed as
Glue says), then file access is locked down to exactly those files, so user SQL can
read nothing else and write nothing at all.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path, PurePosixPath

import duckdb
import pyarrow as pa

from .catalog import Catalog
from .errors import QueryError
from .storage import S3Object, Storage
from .types import TypeError_, hive_to_duckdb

THREADS = max(1, os.cpu_count() or 1)


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def table_format(table: dict) -> str:
    """``csv``, ``json`` or ``parquet`` from a Glue table's SerDe, input format and classification."""
    sd = table.get("StorageDescriptor") or {}
    serde = ((sd.get("SerdeInfo") or {}).get("SerializationLibrary") or "").lower()
    input_format = (sd.get("InputFormat") or "").lower()
    classification = ((table.get("Parameters") or {}).get("classification") or "").lower()
    if "parquet" in serde or "parquet" in input_format or classification == "parquet":
        return "parquet"
    if "json" in serde or classification == "json":
        return "json"
    if "orc" in serde or "orc" in input_format or classification == "orc":
        return "orc"
    if "avro" in serde or "avro" in input_format or classification == "avro":
        return "avro"
    return "csv"


def _csv_options(table: dict) -> dict:
    sd = table.get("StorageDescriptor") or {}
    serde_info = sd.get("SerdeInfo") or {}
    serde = (serde_info.get("SerializationLibrary") or "").lower()
    params = serde_info.get("Parameters") or {}
    skip = int((table.get("Parameters") or {}).get("skip.header.line.count") or 0)
    if "opencsv" in serde:
        return {"delim": params.get("separatorChar", ","), "quote": params.get("quoteChar", '"'),
                "escape": params.get("escapeChar", "\\"), "skip": skip}
    delim = params.get("field.delim") or params.get("serialization.format") or "\x01"
    if delim == "1":  # Hive's default serialization.format means ^A
        delim = "\x01"
    return {"delim": delim, "quote": "", "escape": params.get("escape.delim", ""), "skip": skip,
            "nullstr": params.get("serialization.null.format", "\\N")}


class QueryDatabase:
    """The DuckDB database of one query: views over catalog tables, then user SQL."""

    def __init__(self, catalog: Catalog, storage: Storage, scratch: Path) -> None:
        self.catalog = catalog
        self.storage = storage
        self.scratch = Path(scratch)
        self.scratch.mkdir(parents=True, exist_ok=True)
        self.con = duckdb.connect(":memory:", config={"threads": THREADS})
        self.con.execute("SET TimeZone = 'UTC'")
        self.con.execute("SET integer_division = true")  # Trino: 5 / 2 = 2
        self.files: list[str] = []
        self.scanned = 0
        self._n = 0

    # -- views ---------------------------------------------------------------------------
    def register(self, database: str, name: str, table: dict) -> None:
        """Create the view ``"database"."name"`` over a Glue table's data."""
        fmt = table_format(table)
        if fmt in ("orc", "avro"):
            raise QueryError("NOT_SUPPORTED", f"{fmt.upper()} tables are not supported by the "
                             f"local Athena (table {database}.{name})")
        sd = table.get("StorageDescriptor") or {}
        try:
            columns = [(c["Name"].lower(), hive_to_duckdb(c.get("Type") or "string"))
                       for c in sd.get("Columns") or []]
            keys = [(k["Name"].lower(), hive_to_duckdb(k.get("Type") or "string"))
                    for k in table.get("PartitionKeys") or []]
        except TypeError_ as err:
            raise QueryError("HIVE_INVALID_METADATA", str(err)) from None
        files = self._materialize(table, [k for k, _ in keys])
        self.con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(database)}")
        body = self._source(fmt, table, columns, keys, files)
        self.con.execute(f"CREATE OR REPLACE VIEW {quote_ident(database)}.{quote_ident(name)} AS {body}")

    def _materialize(self, table: dict, key_names: list[str]) -> list[str]:
        """Symlinks to the table's objects, laid out ``k=v/`` for partitions (DuckDB reads these)."""
        self._n += 1
        root = self.scratch / f"t{self._n}"
        location = (table.get("StorageDescriptor") or {}).get("Location") or ""
        if not location:
            return []
        groups: list[tuple[str, list[S3Object]]] = []
        try:
            if key_names:
                for part in self.catalog.partitions(table["DatabaseName"], table["Name"]):
                    values = part.get("Values") or []
                    ploc = (part.get("StorageDescriptor") or {}).get("Location") or (
                        location.rstrip("/") + "/" + "".join(f"{k}={v}/" for k, v in zip(key_names, values)))
                    rel = "/".join(f"{k}={_escape(v)}" for k, v in zip(key_names, values))
                    groups.append((rel, self.storage.list(ploc)))
            else:
                groups.append(("", self.storage.list(location)))
        except ValueError as err:
            raise QueryError("HIVE_INVALID_METADATA", str(err)) from None
        except Exception as err:  # noqa: BLE001 - reported as the query's failure reason
            code = getattr(err, "response", {}).get("Error", {}).get("Code")
            if code == "NoSuchBucket":
                raise QueryError("HIVE_UNKNOWN_ERROR", f"The specified bucket does not exist "
                                 f"({location})") from None
            raise
        files = []
        for rel, objects in groups:
            folder = root / rel if rel else root
            folder.mkdir(parents=True, exist_ok=True)
            for i, obj in enumerate(objects):
                link = folder / f"{i:06d}-{PurePosixPath(obj.key).name}"
                os.symlink(self.storage.path(obj), link)
                files.append(str(link))
                self.scanned += obj.size
        self.files.extend(files)
        return files

    def _source(self, fmt: str, table: dict, columns, keys, files: list[str]) -> str:
        all_cols = columns + keys
        if not files:
            select = ", ".join(f"CAST(NULL AS {t}) AS {quote_ident(n)}" for n, t in all_cols) or "NULL AS _"
            return f"SELECT {select} WHERE false"
        file_list = "[" + ", ".join(quote_str(f) for f in files) + "]"
        hive = "true" if keys else "false"
        key_sql = [f"TRY_CAST({quote_ident(n)} AS {t}) AS {quote_ident(n)}" if t != "VARCHAR"
                   else quote_ident(n) for n, t in keys]
        if fmt == "csv":
            o = _csv_options(table)
            spec = "{" + ", ".join(f"{quote_str(n)}: 'VARCHAR'" for n, _ in columns) + "}"
            opts = [f"delim={quote_str(o['delim'])}", f"quote={quote_str(o['quote'])}",
                    f"escape={quote_str(o['escape'])}", "header=false", f"skip={o['skip']}",
                    f"columns={spec}", "auto_detect=false", "null_padding=true",
                    "strict_mode=false", f"hive_partitioning={hive}", "hive_types_autocast=false"]
            if "nullstr" in o:
                opts.append(f"nullstr={quote_str(o['nullstr'])}")
            cols = [quote_ident(n) if t == "VARCHAR" else f"TRY_CAST({quote_ident(n)} AS {t}) AS {quote_ident(n)}"
                    for n, t in columns]
            return f"SELECT {', '.join(cols + key_sql)} FROM read_csv({file_list}, {', '.join(opts)})"
        if fmt == "json":
            spec = "{" + ", ".join(f"{quote_str(n)}: {quote_str(t)}" for n, t in columns) + "}"
            src = (f"read_json({file_list}, format='newline_delimited', columns={spec}, "
                   f"hive_partitioning={hive}, hive_types_autocast=false)")
            return f"SELECT {', '.join([quote_ident(n) for n, _ in columns] + key_sql)} FROM {src}"
        src = f"read_parquet({file_list}, union_by_name=true, hive_partitioning={hive}, hive_types_autocast=false)"
        present = {}
        for row in self.con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall():
            present.setdefault(row[0].lower(), (row[0], row[1]))
        cols = []
        for n, t in columns:
            if n not in present:
                cols.append(f"CAST(NULL AS {t}) AS {quote_ident(n)}")
            elif present[n][1].upper() == t.upper():
                cols.append(f"{quote_ident(present[n][0])} AS {quote_ident(n)}")
            else:
                cols.append(f"TRY_CAST({quote_ident(present[n][0])} AS {t}) AS {quote_ident(n)}")
        return f"SELECT {', '.join(cols + key_sql)} FROM {src}"

    # -- user SQL --------------------------------------------------------------------------
    def lock(self) -> None:
        """From here on, DuckDB may read the registered files and nothing else."""
        if self.files:
            self.con.execute("SET allowed_paths = [" + ", ".join(quote_str(f) for f in self.files) + "]")
        self.con.execute("SET enable_external_access = false")
        self.con.execute("SET lock_configuration = true")

    def run(self, sql: str) -> tuple[list[str], list[str], pa.Table]:
        """Column names, DuckDB types and rows of a query."""
        cur = self.con.execute(sql)
        table = cur.fetch_arrow_table() if hasattr(cur, "fetch_arrow_table") else cur.arrow()
        names = [d[0] for d in cur.description] if cur.description else []
        types = self._types(sql, table)
        return names, types, table

    def _types(self, sql: str, table: pa.Table) -> list[str]:
        rel = self.con.sql(f"DESCRIBE {sql}") if False else None
        del rel
        return [_duck_type_of(f.type) for f in table.schema]

    def interrupt(self) -> None:
        try:
            self.con.interrupt()
        except duckdb.Error:
            pass  # the connection is already closed: nothing to interrupt

    def close(self) -> None:
        self.con.close()
        shutil.rmtree(self.scratch, ignore_errors=True)


def _escape(value: str) -> str:
    return value.replace("%", "%25").replace("/", "%2F")


def _duck_type_of(t: pa.DataType) -> str:
    """The DuckDB type name of an Arrow result column."""
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return "VARCHAR"
    if pa.types.is_boolean(t):
        return "BOOLEAN"
    for check, name in ((pa.types.is_int8, "TINYINT"), (pa.types.is_int16, "SMALLINT"),
                        (pa.types.is_int32, "INTEGER"), (pa.types.is_int64, "BIGINT"),
                        (pa.types.is_uint8, "UTINYINT"), (pa.types.is_uint16, "USMALLINT"),
                        (pa.types.is_uint32, "UINTEGER"), (pa.types.is_uint64, "UBIGINT"),
                        (pa.types.is_float32, "FLOAT"), (pa.types.is_float64, "DOUBLE"),
                        (pa.types.is_date, "DATE"), (pa.types.is_time, "TIME"),
                        (pa.types.is_null, "NULL")):
        if check(t):
            return name
    if pa.types.is_decimal(t):
        if t.precision == 38 and t.scale == 0:
            return "HUGEINT"
        return f"DECIMAL({t.precision},{t.scale})"
    if pa.types.is_timestamp(t):
        return "TIMESTAMP WITH TIME ZONE" if t.tz else "TIMESTAMP"
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return "BLOB"
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return _duck_type_of(t.value_type) + "[]"
    if pa.types.is_map(t):
        return f"MAP({_duck_type_of(t.key_type)}, {_duck_type_of(t.item_type)})"
    if pa.types.is_struct(t):
        return "STRUCT(" + ", ".join(f'"{t.field(i).name}" {_duck_type_of(t.field(i).type)}'
                                     for i in range(t.num_fields)) + ")"
    if pa.types.is_interval(t) or pa.types.is_duration(t):
        return "INTERVAL"
    return "VARCHAR"
