"""Athena's DDL and utility statements, carried out on the Glue catalog.

``CREATE DATABASE``, ``CREATE EXTERNAL TABLE ... ROW FORMAT ... STORED AS ... LOCATION``,
``DROP TABLE``/``DROP DATABASE``, ``SHOW TABLES``/``DATABASES``/``PARTITIONS``/``COLUMNS``,
``DESCRIBE`` and ``MSCK REPAIR TABLE`` (which registers the ``key=value/`` partitions it
finds under the table's location). Each returns the rows Athena shows for it.
"""
from __future__ import annotations

import fnmatch
import re

from sqlglot import exp

from .catalog import Catalog, CatalogError
from .errors import QueryError
from .storage import Storage, split_uri

LAZY_SIMPLE = "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"
OPEN_CSV = "org.apache.hadoop.hive.serde2.OpenCSVSerde"
PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
JSON_SERDE = "org.openx.data.jsonserde.JsonSerDe"
TEXT_INPUT = "org.apache.hadoop.mapred.TextInputFormat"
TEXT_OUTPUT = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
PARQUET_INPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
PARQUET_OUTPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"

STORED_AS = {
    "PARQUET": (PARQUET_INPUT, PARQUET_OUTPUT, PARQUET_SERDE),
    "TEXTFILE": (TEXT_INPUT, TEXT_OUTPUT, None),
    "ORC": ("org.apache.hadoop.hive.ql.io.orc.OrcInputFormat",
            "org.apache.hadoop.hive.ql.io.orc.OrcOutputFormat", "org.apache.hadoop.hive.ql.io.orc.OrcSerde"),
    "AVRO": ("org.apache.hadoop.hive.ql.io.avro.AvroContainerInputFormat",
             "org.apache.hadoop.hive.ql.io.avro.AvroContainerOutputFormat",
             "org.apache.hadoop.hive.serde2.avro.AvroSerDe"),
}


def hive_type(data_type: exp.DataType) -> str:
    """A column type as Glue stores it (``array<string>``, ``struct<a:int>``)."""
    text = data_type.sql(dialect="hive").lower()
    text = re.sub(r":\s+", ":", text)
    return re.sub(r",\s+", ",", text)


def _column(cd: exp.ColumnDef) -> dict:
    col = {"Name": cd.name.lower(), "Type": hive_type(cd.args["kind"])}
    for constraint in cd.args.get("constraints") or []:
        kind = constraint.args.get("kind")
        if isinstance(kind, exp.CommentColumnConstraint):
            col["Comment"] = kind.this.name
    return col


def _literal(node) -> str:
    return node.name if isinstance(node, (exp.Literal, exp.Var, exp.Identifier)) else node.sql()


def _table_name(table: exp.Table, default_db: str) -> tuple[str, str]:
    db = table.args.get("db")
    return (db.name.lower() if db is not None else default_db), table.name.lower()


def fail(message: str) -> QueryError:
    return QueryError("", message)


class Ddl:
    """Runs DDL and utility statements against the Glue catalog."""

    def __init__(self, catalog: Catalog, storage: Storage, default_db: str) -> None:
        self.catalog = catalog
        self.storage = storage
        self.default_db = default_db

    def _require_database(self, database: str) -> None:
        if not self.catalog.database_exists(database):
            raise fail(f"FAILED: SemanticException [Error 10072]: Database does not exist: {database}")

    def _require_table(self, database: str, name: str) -> dict:
        self._require_database(database)
        table = self.catalog.get_table(database, name)
        if table is None:
            raise fail(f"FAILED: SemanticException [Error 10001]: Table not found {database}.{name}")
        return table

    def _name(self, parts: list[str]) -> tuple[str, str]:
        parts = [p for p in parts if p]
        if len(parts) == 3:
            parts = parts[1:]
        return (parts[0], parts[1]) if len(parts) == 2 else (self.default_db, parts[0])

    # -- databases ----------------------------------------------------------------------
    def create_database(self, tree: exp.Create) -> list[list[str]]:
        target = tree.this
        name = (target.name or (target.args.get("db").name if target.args.get("db") else "")).lower()
        db_input: dict = {"Name": name}
        for prop in (tree.args.get("properties").expressions if tree.args.get("properties") else []):
            if isinstance(prop, exp.LocationProperty):
                db_input["LocationUri"] = _literal(prop.this)
            elif isinstance(prop, exp.SchemaCommentProperty):
                db_input["Description"] = _literal(prop.this)
        try:
            self.catalog.call("create_database", DatabaseInput=db_input)
        except CatalogError as err:
            if err.code != "AlreadyExistsException":
                raise
            if not tree.args.get("exists"):
                raise fail(f"FAILED: AlreadyExistsException: Database {name} already exists") from None
        return []

    def drop_database(self, tree: exp.Drop) -> list[list[str]]:
        target = tree.args["tables"][0] if tree.args.get("tables") else tree.this
        name = (target.name or target.args.get("db").name).lower()
        if not self.catalog.database_exists(name):
            if tree.args.get("exists"):
                return []
            raise fail(f"FAILED: SemanticException [Error 10072]: Database does not exist: {name}")
        if self.catalog.tables(name) and not tree.args.get("cascade"):
            raise fail(f"FAILED: InvalidOperationException: Database {name} is not empty. "
                       f"One or more tables exist.")
        self.catalog.call("delete_database", Name=name)
        return []

    def show_databases(self, pattern: str | None) -> list[list[str]]:
        names = sorted(d["Name"] for d in self.catalog.databases())
        return [[n] for n in names if _hive_like(n, pattern)]

    # -- tables ---------------------------------------------------------------------------
    def create_table(self, tree: exp.Create) -> list[list[str]]:
        schema = tree.this
        database, name = _table_name(schema.this, self.default_db)
        columns = [_column(cd) for cd in schema.expressions if isinstance(cd, exp.ColumnDef)]
        table_input = table_input_from_properties(name, columns, tree.args.get("properties"))
        if "Location" not in table_input["StorageDescriptor"]:
            raise fail("FAILED: SemanticException: LOCATION is required for an EXTERNAL table "
                       "in the local Athena")
        self._require_database(database)
        try:
            self.catalog.call("create_table", DatabaseName=database, TableInput=table_input)
        except CatalogError as err:
            if err.code != "AlreadyExistsException":
                raise
            if not tree.args.get("exists"):
                raise fail(f"FAILED: AlreadyExistsException: Table {database}.{name} already exists") from None
        return []

    def drop_table(self, tree: exp.Drop) -> list[list[str]]:
        for table in tree.args.get("tables") or [tree.this]:
            database, name = _table_name(table, self.default_db)
            found = self.catalog.database_exists(database) and \
                self.catalog.get_table(database, name) is not None
            if not found:
                if tree.args.get("exists"):
                    continue
                raise fail(f"FAILED: SemanticException [Error 10001]: Table not found {database}.{name}")
            self.catalog.call("delete_table", DatabaseName=database, Name=name)
        return []

    def show_tables(self, database: str | None, pattern: str | None) -> list[list[str]]:
        database = database or self.default_db
        self._require_database(database)
        names = sorted(t["Name"] for t in self.catalog.tables(database))
        return [[n] for n in names if _hive_like(n, pattern)]

    def show_columns(self, parts: list[str]) -> list[list[str]]:
        table = self._require_table(*self._name(parts))
        cols = (table.get("StorageDescriptor") or {}).get("Columns") or []
        return [[c["Name"]] for c in [*cols, *(table.get("PartitionKeys") or [])]]

    def show_partitions(self, parts: list[str]) -> list[list[str]]:
        database, name = self._name(parts)
        table = self._require_table(database, name)
        keys = [k["Name"] for k in table.get("PartitionKeys") or []]
        if not keys:
            raise fail(f"FAILED: SemanticException [Error 10241]: Table {name} is not a partitioned table")
        rows = ["/".join(f"{k}={v}" for k, v in zip(keys, p["Values"]))
                for p in self.catalog.partitions(database, name)]
        return [[r] for r in sorted(rows)]

    def describe(self, parts: list[str]) -> list[list[str]]:
        table = self._require_table(*self._name(parts))
        cols = (table.get("StorageDescriptor") or {}).get("Columns") or []
        keys = table.get("PartitionKeys") or []

        def line(c: dict) -> list[str]:
            return [f"{c['Name']:<20}\t{c.get('Type', ''):<20}\t{c.get('Comment', ''):<20}"]
        rows = [line(c) for c in [*cols, *keys]]
        if keys:
            rows += [[f"{'':<20}\t{'':<20}\t{'':<20}"], [f"{'# Partition Information':<20}\t{'':<20}\t{'':<20}"],
                     [f"{'# col_name':<20}\t{'data_type':<20}\t{'comment':<20}"],
                     [f"{'':<20}\t{'':<20}\t{'':<20}"]]
            rows += [line(k) for k in keys]
        return rows

    def alter_partitions(self, action: str, parts: list[str], specs, if_exists: bool) -> list[list[str]]:
        """``ALTER TABLE t ADD|DROP PARTITION (k='v', ...) [LOCATION '...']``."""
        database, name = self._name(parts)
        table = self._require_table(database, name)
        keys = [k["Name"].lower() for k in table.get("PartitionKeys") or []]
        base = ((table.get("StorageDescriptor") or {}).get("Location") or "").rstrip("/") + "/"
        entries = []
        for values, location in specs:
            if sorted(values) != sorted(keys):
                raise fail(f"FAILED: SemanticException [Error 10006]: Partition spec {values} does not "
                           f"match the partition keys {keys} of {name}")
            ordered = [values[k] for k in keys]
            entries.append((ordered, location or base + "".join(f"{k}={v}/" for k, v in zip(keys, ordered))))
        known = {tuple(p["Values"]) for p in self.catalog.partitions(database, name)}
        if action == "ADD":
            fresh = [(v, loc) for v, loc in entries if tuple(v) not in known]
            if len(fresh) != len(entries) and not if_exists:
                raise fail("FAILED: AlreadyExistsException: Partition already exists")
            sd = dict(table.get("StorageDescriptor") or {})
            for start in range(0, len(fresh), 100):
                self.catalog.call("batch_create_partition", DatabaseName=database, TableName=name,
                                  PartitionInputList=[{"Values": v, "StorageDescriptor": dict(sd, Location=loc)}
                                                      for v, loc in fresh[start:start + 100]])
        else:
            present = [v for v, _ in entries if tuple(v) in known]
            if len(present) != len(entries) and not if_exists:
                raise fail("FAILED: SemanticException [Error 10006]: Partition not found")
            for values in present:
                self.catalog.call("delete_partition", DatabaseName=database, TableName=name,
                                  PartitionValues=values)
        return []

    def msck_repair(self, parts: list[str]) -> list[list[str]]:
        """Register the ``k=v/`` partitions found under the table's location."""
        database, name = self._name(parts)
        table = self._require_table(database, name)
        keys = [k["Name"] for k in table.get("PartitionKeys") or []]
        location = (table.get("StorageDescriptor") or {}).get("Location") or ""
        if not keys or not location:
            return []
        base = location if location.endswith("/") else location + "/"
        _, prefix = split_uri(base)
        found: dict[tuple[str, ...], str] = {}
        for obj in self.storage.list(base):
            rel = obj.key[len(prefix):].split("/")[:-1]
            if len(rel) < len(keys):
                continue
            values = []
            for key, part in zip(keys, rel):
                k, sep, v = part.partition("=")
                if not sep or k.lower() != key.lower():
                    break
                values.append(v)
            if len(values) == len(keys):
                found.setdefault(tuple(values), base + "/".join(rel[:len(keys)]) + "/")
        known = {tuple(p["Values"]) for p in self.catalog.partitions(database, name)}
        missing = [v for v in sorted(found) if v not in known]
        label = [f"{name}:" + "/".join(f"{k}={v}" for k, v in zip(keys, values)) for values in missing]
        sd = dict(table.get("StorageDescriptor") or {})
        for start in range(0, len(missing), 100):
            batch = [{"Values": list(values), "StorageDescriptor": dict(sd, Location=found[values])}
                     for values in missing[start:start + 100]]
            self.catalog.call("batch_create_partition", DatabaseName=database, TableName=name,
                              PartitionInputList=batch)
        if not missing:
            return []
        return [["Partitions not in metastore:\t" + "\t".join(label)]] + \
               [[f"Repair: Added partition to metastore {item}"] for item in label]


def table_input_from_properties(name: str, columns: list[dict], properties) -> dict:
    """A Glue ``TableInput`` from the Hive DDL properties of ``CREATE EXTERNAL TABLE``."""
    sd: dict = {"Columns": columns, "InputFormat": TEXT_INPUT, "OutputFormat": TEXT_OUTPUT,
                "SerdeInfo": {"SerializationLibrary": LAZY_SIMPLE, "Parameters": {"serialization.format": "1"}},
                "Compressed": False, "NumberOfBuckets": -1, "StoredAsSubDirectories": False,
                "BucketColumns": [], "SortColumns": [], "Parameters": {}}
    table_input: dict = {"Name": name, "TableType": "EXTERNAL_TABLE", "Parameters": {"EXTERNAL": "TRUE"},
                         "PartitionKeys": [], "StorageDescriptor": sd}
    serde_set = False
    for prop in (properties.expressions if properties else []):
        if isinstance(prop, exp.PartitionedByProperty):
            schema = prop.this
            table_input["PartitionKeys"] = [_column(cd) for cd in schema.expressions
                                            if isinstance(cd, exp.ColumnDef)]
        elif isinstance(prop, exp.RowFormatDelimitedProperty):
            params = {}
            for arg, key in (("fields", "field.delim"), ("escaped", "escape.delim"),
                             ("lines", "line.delim"), ("collection_items", "collection.delim"),
                             ("map_keys", "mapkey.delim"), ("null", "serialization.null.format")):
                if prop.args.get(arg) is not None:
                    params[key] = _literal(prop.args[arg])
            if "field.delim" in params:
                params["serialization.format"] = params["field.delim"]
            sd["SerdeInfo"] = {"SerializationLibrary": LAZY_SIMPLE, "Parameters": params}
            serde_set = True
        elif isinstance(prop, exp.RowFormatSerdeProperty):
            params = {}
            serde_props = prop.args.get("serde_properties")
            for p in (serde_props.expressions if serde_props else []):
                params[_literal(p.this)] = _literal(p.args["value"])
            sd["SerdeInfo"] = {"SerializationLibrary": _literal(prop.this), "Parameters": params}
            serde_set = True
        elif isinstance(prop, exp.FileFormatProperty):
            fmt = prop.this
            if isinstance(fmt, exp.InputOutputFormat):
                sd["InputFormat"] = _literal(fmt.args["input_format"])
                sd["OutputFormat"] = _literal(fmt.args["output_format"])
            else:
                stored = _literal(fmt).upper()
                if stored not in STORED_AS:
                    raise fail(f"FAILED: SemanticException: Unrecognized file format in STORED AS "
                               f"clause: '{stored}'")
                sd["InputFormat"], sd["OutputFormat"], serde = STORED_AS[stored]
                if serde and not serde_set:
                    sd["SerdeInfo"] = {"SerializationLibrary": serde,
                                       "Parameters": {"serialization.format": "1"}}
        elif isinstance(prop, exp.LocationProperty):
            sd["Location"] = _literal(prop.this)
        elif type(prop) is exp.Property:  # TBLPROPERTIES ('k' = 'v')
            table_input["Parameters"][_literal(prop.this)] = _literal(prop.args["value"])
        elif isinstance(prop, exp.SchemaCommentProperty):
            table_input["Description"] = _literal(prop.this)
    serde = sd["SerdeInfo"]["SerializationLibrary"].lower()
    if "parquet" in serde:
        table_input["Parameters"].setdefault("classification", "parquet")
    elif "json" in serde:
        table_input["Parameters"].setdefault("classification", "json")
    else:
        table_input["Parameters"].setdefault("classification", "csv")
    return table_input


def _hive_like(name: str, pattern: str | None) -> bool:
    """Hive's ``SHOW TABLES 'pat*|other'`` patterns."""
    if not pattern:
        return True
    return any(fnmatch.fnmatchcase(name, alt.strip().lower()) for alt in pattern.split("|"))
