"""Runs one Athena statement: a query on DuckDB, a CTAS, or DDL on the Glue catalog."""
from __future__ import annotations

import re
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from sqlglot import exp

from .catalog import Catalog
from .ddl import PARQUET_INPUT, PARQUET_OUTPUT, PARQUET_SERDE, Ddl
from .dialect import Statement, start_col, table_refs, translate_select
from .engine import QueryDatabase
from .errors import QueryError
from .results import format_table
from .storage import Storage, split_uri
from .types import duckdb_to_hive


@dataclass
class Outcome:
    """What a statement produced: result columns and rows (already Athena strings)."""

    names: list[str]
    types: list[str]
    strings: pa.Table
    header: bool = True        # SELECT results start with a header row; DDL results do not
    kind: str = "csv"          # the result file: <id>.csv (+ .metadata) or <id>.txt
    update_count: int = 0
    scanned: int = 0


def text_outcome(column: str, rows: list[list[str]]) -> Outcome:
    table = pa.table({"_c0": pa.array([r[0] for r in rows], pa.string())})
    return Outcome([column], ["VARCHAR"], table, header=False, kind="txt")


class Runner:
    """Executes statements for one query execution."""

    def __init__(self, catalog: Catalog, storage: Storage, scratch: Path, database: str,
                 output_location: str, query_id: str,
                 cancelled: Callable[[], bool] = lambda: False) -> None:
        self.catalog = catalog
        self.storage = storage
        self.scratch = scratch
        self.database = database
        self.output_location = output_location
        self.query_id = query_id
        self.qdb: QueryDatabase | None = None
        self.cancelled = cancelled

    def checkpoint(self) -> None:
        """Stop here if the query was cancelled."""
        if self.cancelled():
            raise QueryError("", "Query cancelled by user")

    def interrupt(self) -> None:
        if self.qdb is not None:
            self.qdb.interrupt()

    def run(self, stmt: Statement) -> Outcome:
        ddl = Ddl(self.catalog, self.storage, self.database)
        kind = stmt.kind
        if kind == "SELECT":
            return self.select(stmt.ast)
        if kind == "CTAS":
            return self.ctas(stmt.ast)
        if kind == "CREATE_DATABASE":
            ddl.create_database(stmt.ast)
            return _ddl()
        if kind == "DROP_DATABASE":
            ddl.drop_database(stmt.ast)
            return _ddl()
        if kind == "CREATE_TABLE":
            ddl.create_table(stmt.ast)
            return _ddl()
        if kind == "DROP_TABLE":
            ddl.drop_table(stmt.ast)
            return _ddl()
        if kind == "SHOW_TABLES":
            return text_outcome("tab_name", ddl.show_tables(stmt.args["database"], stmt.args["pattern"]))
        if kind == "SHOW_DATABASES":
            return text_outcome("database_name", ddl.show_databases(stmt.args["pattern"]))
        if kind == "SHOW_PARTITIONS":
            return text_outcome("partition", ddl.show_partitions(stmt.args["name"]))
        if kind == "SHOW_COLUMNS":
            return text_outcome("field", ddl.show_columns(stmt.args["name"]))
        if kind == "DESCRIBE":
            return text_outcome("col_name", ddl.describe(stmt.args["name"]))
        if kind in ("ADD_PARTITION", "DROP_PARTITION"):
            ddl.alter_partitions(kind.split("_")[0], stmt.args["name"], stmt.args["partitions"],
                                 stmt.args["if_exists"])
            return _ddl()
        if kind == "MSCK_REPAIR":
            return text_outcome("", ddl.msck_repair(stmt.args["name"]))
        raise QueryError("NOT_SUPPORTED", f"{kind} is not supported by the local Athena")

    # -- queries ---------------------------------------------------------------------------
    def _open(self, tree: exp.Expression) -> tuple[QueryDatabase, str]:
        refs = table_refs(tree, self.database)
        qdb = QueryDatabase(self.catalog, self.storage, self.scratch)
        self.qdb = qdb
        qdb.con.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.database}"')
        for ref in refs:
            if not self.catalog.database_exists(ref.database):
                raise QueryError("SCHEMA_NOT_FOUND", f"line {ref.line}:{ref.col}: Schema '{ref.database}' "
                                 f"does not exist")
            table = self.catalog.get_table(ref.database, ref.name)
            if table is None:
                raise QueryError("TABLE_NOT_FOUND", f"line {ref.line}:{ref.col}: Table "
                                 f"'awsdatacatalog.{ref.database}.{ref.name}' does not exist")
            self.checkpoint()
            qdb.register(ref.database, ref.name, table)
        qdb.con.execute(f"USE \"{self.database}\"")
        qdb.lock()
        return qdb, translate_select(name_columns(tree), qdb.column_types)

    def _execute(self, tree: exp.Expression) -> tuple[list[str], list[str], pa.Table, int]:
        qdb, sql = self._open(tree)
        try:
            self.checkpoint()
            names, types, table = qdb.run(sql, self.cancelled)
        except duckdb.Error as err:
            raise duckdb_error(err, tree) from None
        return names, types, table, qdb.scanned

    def select(self, tree: exp.Expression) -> Outcome:
        names, types, table, scanned = self._execute(tree)
        return Outcome(names, types, format_table(table, types), scanned=scanned)

    def ctas(self, tree: exp.Create) -> Outcome:
        """``CREATE TABLE ... WITH (...) AS SELECT``: Parquet files in S3, a Glue table."""
        database, name = _target(tree.this, self.database)
        props = {}
        partitioned: list[str] = []
        fmt = "PARQUET"
        for prop in (tree.args["properties"].expressions if tree.args.get("properties") else []):
            if isinstance(prop, exp.FileFormatProperty):
                fmt = prop.this.name.upper()
            elif isinstance(prop, exp.PartitionedByProperty):
                node = prop.this
                items = node.expressions if isinstance(node, (exp.Array, exp.Schema, exp.Tuple)) else [node]
                partitioned = [i.name.lower() for i in items]
            elif type(prop) is exp.Property:
                props[prop.this.name.lower()] = prop.args["value"].name
        if fmt != "PARQUET":
            raise QueryError("NOT_SUPPORTED", f"CREATE TABLE AS SELECT with format '{fmt}' is not "
                             f"supported by the local Athena (use PARQUET)")
        if not self.catalog.database_exists(database):
            raise QueryError("SCHEMA_NOT_FOUND", f"line 1:14: Schema '{database}' does not exist")
        if self.catalog.get_table(database, name) is not None:
            if tree.args.get("exists"):
                return Outcome(["rows"], ["BIGINT"], pa.table({"_c0": pa.array(["0"])}))
            raise QueryError("TABLE_ALREADY_EXISTS", f"line 1:1: Table 'awsdatacatalog.{database}.{name}' "
                             f"already exists")
        location = props.get("external_location") or \
            f"{self.output_location.rstrip('/')}/tables/{self.query_id}/"
        if not location.endswith("/"):
            location += "/"
        try:
            split_uri(location)
        except ValueError:
            raise QueryError("INVALID_TABLE_PROPERTY", f"External location is not a valid S3 "
                             f"location: {location}") from None
        if not self.storage.bucket_exists(split_uri(location)[0]):
            raise QueryError("INVALID_TABLE_PROPERTY",
                             f"The bucket of the external location does not exist: {location}")
        if self.storage.list(location):
            raise QueryError("HIVE_PATH_ALREADY_EXISTS", f"Target directory for table "
                             f"'{database}.{name}' already exists: {location}")
        names, types, table, scanned = self._execute(tree.expression)
        table = table.rename_columns([n.lower() for n in names])
        missing = [p for p in partitioned if p not in table.column_names]
        if missing:
            raise QueryError("COLUMN_NOT_FOUND", f"Partition column '{missing[0]}' is not in the result")
        by_name = dict(zip(table.column_names, types))
        data_cols = [n for n in table.column_names if n not in partitioned]
        written = self._write_parquet(table, data_cols, partitioned, location)
        sd = {"Columns": [{"Name": n, "Type": duckdb_to_hive(by_name[n])} for n in data_cols],
              "Location": location, "InputFormat": PARQUET_INPUT, "OutputFormat": PARQUET_OUTPUT,
              "SerdeInfo": {"SerializationLibrary": PARQUET_SERDE, "Parameters": {"serialization.format": "1"}},
              "Compressed": False, "NumberOfBuckets": -1, "StoredAsSubDirectories": False,
              "BucketColumns": [], "SortColumns": [], "Parameters": {}}
        self.catalog.call("create_table", DatabaseName=database, TableInput={
            "Name": name, "TableType": "EXTERNAL_TABLE", "StorageDescriptor": sd,
            "PartitionKeys": [{"Name": p, "Type": duckdb_to_hive(by_name[p])} for p in partitioned],
            "Parameters": {"classification": "parquet", "EXTERNAL": "TRUE",
                           "parquet.compression": "SNAPPY", "has_encrypted_data": "false"}})
        if partitioned:
            batch = [{"Values": list(values), "StorageDescriptor": dict(sd, Location=loc)}
                     for values, loc in written]
            for start in range(0, len(batch), 100):
                self.catalog.call("batch_create_partition", DatabaseName=database, TableName=name,
                                  PartitionInputList=batch[start:start + 100])
        count = table.num_rows
        return Outcome(["rows"], ["BIGINT"], pa.table({"_c0": pa.array([str(count)])}),
                       update_count=count, scanned=scanned)

    def _write_parquet(self, table: pa.Table, data_cols: list[str], partitioned: list[str],
                       location: str) -> list[tuple[tuple[str, ...], str]]:
        """Upload the rows as Parquet under ``location``; the partitions written (values, location)."""
        groups: list[tuple[tuple[str, ...], pa.Table]]
        if partitioned:
            keys = table.select(partitioned).to_pylist()
            order: dict[tuple, list[int]] = {}
            for i, row in enumerate(keys):
                order.setdefault(tuple(row[p] for p in partitioned), []).append(i)
            groups = [(tuple("__HIVE_DEFAULT_PARTITION__" if v is None else _partition_text(v) for v in k),
                       table.take(pa.array(idx)).select(data_cols)) for k, idx in order.items()]
        else:
            groups = [((), table.select(data_cols))]
        out = []
        with tempfile.TemporaryDirectory(dir=self.scratch.parent) as tmp:
            for values, part in groups:
                prefix = location + "".join(f"{k}={v}/" for k, v in zip(partitioned, values))
                path = Path(tmp) / f"{uuid.uuid4().hex}.parquet"
                pq.write_table(part, path, compression="snappy")
                self.storage.upload(path, f"{prefix}{self.query_id}_{uuid.uuid4().hex[:8]}.parquet")
                out.append((values, prefix))
        return out


def _partition_text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _ddl() -> Outcome:
    """CREATE/DROP statements show no rows."""
    return Outcome([], [], pa.table({}), header=False, kind="txt")


def _target(table: exp.Table, default_db: str) -> tuple[str, str]:
    db = table.args.get("db")
    return (db.name.lower() if db is not None else default_db), table.name.lower()


def name_columns(tree: exp.Expression) -> exp.Expression:
    """Athena names unnamed result columns ``_col0``, ``_col1``... by position."""
    tree = tree.copy()
    select = tree
    while isinstance(select, (exp.Union, exp.Intersect, exp.Except)):
        select = select.this
    if isinstance(select, exp.Subquery):
        return tree
    if isinstance(select, exp.Select):
        for i, node in enumerate(list(select.expressions)):
            if not isinstance(node, (exp.Column, exp.Alias, exp.Star)):
                node.replace(exp.alias_(node.copy(), f"_col{i}", quoted=True))
    return tree


_MISSING_COLUMN = re.compile(r'Referenced column "?([^"\s]+)"? not found', re.I)
_MISSING_FUNCTION = re.compile(r"(?:Scalar|Aggregate|Table)? ?Function with name \"?([^\s\"]+)\"? does not exist", re.I)


def duckdb_error(err: duckdb.Error, tree: exp.Expression) -> QueryError:
    """Athena's wording for a DuckDB error (never a traceback)."""
    text = str(err).split("\n")[0].strip()
    if isinstance(err, duckdb.InterruptException) or "INTERRUPT" in text.upper():
        return QueryError("", "Query cancelled by user")
    if m := _MISSING_COLUMN.search(text):
        name = m.group(1).split(".")[-1]
        line, col = 1, 1
        for column in tree.find_all(exp.Column):
            if column.name.lower() == name.lower():
                line, col = start_col(column.this.meta)
                break
        return QueryError("COLUMN_NOT_FOUND", f"line {line}:{col}: Column '{name}' cannot be resolved "
                          f"or requester is not authorized to access requested resources")
    if m := _MISSING_FUNCTION.search(text):
        name = m.group(1).lower()
        line, col = 1, 1
        for func in tree.find_all(exp.Anonymous):
            if func.name.lower() == name:
                line, col = start_col(getattr(func, "meta", None))
                break
        return QueryError("FUNCTION_NOT_FOUND", f"line {line}:{col}: Function '{name}' not registered")
    if isinstance(err, duckdb.ConversionException):
        return QueryError("INVALID_CAST_ARGUMENT", text.split(":", 1)[-1].strip())
    if isinstance(err, duckdb.PermissionException):
        return QueryError("PERMISSION_DENIED", "Access denied: the query reads a file outside the catalog")
    if isinstance(err, duckdb.OutOfMemoryException):
        return QueryError("EXCEEDED_LOCAL_MEMORY_LIMIT", text.split(":", 1)[-1].strip())
    if isinstance(err, duckdb.BinderException):
        return QueryError("TYPE_MISMATCH" if "No function matches" in text else "SEMANTIC_ERROR",
                          text.split(":", 1)[-1].strip())
    if isinstance(err, duckdb.ParserException):
        return QueryError("SYNTAX_ERROR", text.split(":", 1)[-1].strip())
    if isinstance(err, duckdb.InvalidInputException):
        return QueryError("HIVE_BAD_DATA", text.split(":", 1)[-1].strip())
    return QueryError("GENERIC_INTERNAL_ERROR", text)
