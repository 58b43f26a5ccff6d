"""DuckDB over the tables of the Glue catalog: one in-memory database per query.

Each query gets a fresh DuckDB connection holding one view per catalog table it reads
(``read_csv`` / ``read_json`` / ``read_parquet`` over the table's S3 objects, typed as
Glue says), then file access is locked down to exactly those files, so user SQL can
read nothing else and write nothing at all.
"""
from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path, PurePosixPath
from typing import Callable

import duckdb
import pyarrow as pa

from local_backends.glue.partitions import partition_prefix

from .catalog import Catalog
from .errors import QueryError
from .storage import S3Object, Storage
from .types import TypeError_, hive_to_duckdb

THREADS = max(1, os.cpu_count() or 1)

TRINO_MACROS = (
    # Trino functions DuckDB lacks under these names (sqlglot passes them through)
    "CREATE MACRO map_agg(k, v) AS map(list(k), list(v))",
    # url_extract_*: NULL for what is not an absolute URL (Trino's), '' for an empty path
    "CREATE MACRO url_extract_host(u) AS nullif(regexp_extract(u, '^[a-zA-Z][a-zA-Z0-9+.-]*://([^/:?#]+)', 1), '')",
    "CREATE MACRO url_extract_path(u) AS CASE WHEN regexp_matches(u, '^[a-zA-Z][a-zA-Z0-9+.-]*://') "
    "THEN regexp_extract(u, '^[a-zA-Z][a-zA-Z0-9+.-]*://[^/?#]*([^?#]*)', 1) END",
    "CREATE MACRO url_extract_protocol(u) AS nullif(regexp_extract(u, '^([a-zA-Z][a-zA-Z0-9+.-]*)://', 1), '')",
    "CREATE MACRO url_extract_query(u) AS CASE WHEN regexp_matches(u, '^[a-zA-Z][a-zA-Z0-9+.-]*://[^?#]*[?]') "
    "THEN regexp_extract(u, '[?]([^#]*)', 1) END",
    # regexp_position(s, p): 1-based index of the first match, -1 when there is none
    "CREATE MACRO regexp_position(s, p) AS CASE WHEN s IS NULL OR p IS NULL THEN NULL "
    "WHEN regexp_matches(s, p) THEN CAST(strpos(s, regexp_extract(s, p)) AS INTEGER) ELSE -1 END",
)


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
        # one round trip: session time zone UTC (as Athena), Trino's integer division, macros
        self.con.execute(";\n".join(("SET TimeZone = 'UTC'", "SET integer_division = true", *TRINO_MACROS)))
        self.files: list[str] = []
        self.column_types: dict[str, set[str]] = {}
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
        for col, duck in columns + keys:
            self.column_types.setdefault(col, set()).add(duck.upper())
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
                        location.rstrip("/") + "/" + partition_prefix([{"Name": k} for k in key_names], values))
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

    def run(self, sql: str, cancelled: Callable[[], bool] = lambda: False
            ) -> tuple[list[str], list[str], pa.Table]:
        """Column names, DuckDB types and rows of a query, interrupted once ``cancelled()``."""
        done = threading.Event()

        def watch() -> None:
            while not done.wait(0.05):
                if cancelled():
                    self.interrupt()
        watcher = threading.Thread(target=watch, name="athena-query-watch", daemon=True)
        watcher.start()
        try:
            rel = self.con.sql(sql)
            if rel is None:
                raise QueryError("NOT_SUPPORTED", "the statement returned no result")
            to_arrow = getattr(rel, "to_arrow_table", None) or rel.arrow  # DuckDB < 1.4: .arrow()
            return list(rel.columns), [str(t) for t in rel.types], to_arrow()
        finally:
            done.set()
            watcher.join()

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
