"""Types: Glue/Hive column types to DuckDB, and DuckDB result types to Athena's names."""
from __future__ import annotations

import re

_SIMPLE_HIVE = {
    "string": "VARCHAR", "varchar": "VARCHAR", "char": "VARCHAR",
    "tinyint": "TINYINT", "smallint": "SMALLINT", "int": "INTEGER", "integer": "INTEGER",
    "bigint": "BIGINT", "float": "FLOAT", "real": "FLOAT", "double": "DOUBLE",
    "boolean": "BOOLEAN", "date": "DATE", "timestamp": "TIMESTAMP", "binary": "BLOB",
    "varbinary": "BLOB", "json": "JSON",
}


class TypeError_(ValueError):
    """A column type the local Athena cannot read."""


def _split_top(text: str, sep: str = ",") -> list[str]:
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch in "<(":
            depth += 1
        elif ch in ">)":
            depth -= 1
        if ch == sep and depth == 0:
            parts.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    if "".join(cur).strip():
        parts.append("".join(cur).strip())
    return parts


def hive_to_duckdb(hive: str) -> str:
    """The DuckDB type of a Glue column type (``array<struct<a:int>>`` -> ``STRUCT("a" INTEGER)[]``)."""
    t = hive.strip()
    low = t.lower()
    if low.startswith("array<") and low.endswith(">"):
        return hive_to_duckdb(t[6:-1]) + "[]"
    if low.startswith("map<") and low.endswith(">"):
        key, value = _split_top(t[4:-1])
        return f"MAP({hive_to_duckdb(key)}, {hive_to_duckdb(value)})"
    if low.startswith("struct<") and low.endswith(">"):
        fields = []
        for part in _split_top(t[7:-1]):
            name, _, ftype = part.partition(":")
            fields.append(f'"{name.strip()}" {hive_to_duckdb(ftype)}')
        return f"STRUCT({', '.join(fields)})"
    m = re.fullmatch(r"decimal\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?", low)
    if m:
        return f"DECIMAL({m.group(1) or 10}, {m.group(2) or 0})"
    base = re.sub(r"\(.*\)$", "", low).strip()
    if base in _SIMPLE_HIVE:
        return _SIMPLE_HIVE[base]
    raise TypeError_(f"Unsupported Hive type: {hive}")


_ATHENA_NAMES = {
    "VARCHAR": ("varchar", 2147483647), "BIGINT": ("bigint", 19), "HUGEINT": ("bigint", 19),
    "UBIGINT": ("bigint", 19), "INTEGER": ("integer", 10), "UINTEGER": ("bigint", 19),
    "SMALLINT": ("smallint", 5), "USMALLINT": ("integer", 10), "TINYINT": ("tinyint", 3),
    "UTINYINT": ("smallint", 5), "DOUBLE": ("double", 17), "FLOAT": ("float", 24),
    "BOOLEAN": ("boolean", 0), "DATE": ("date", 0), "TIMESTAMP": ("timestamp", 3),
    "TIMESTAMP_MS": ("timestamp", 3), "TIMESTAMP_S": ("timestamp", 3), "TIMESTAMP_NS": ("timestamp", 3),
    "TIMESTAMP WITH TIME ZONE": ("timestamp with time zone", 3), "TIME": ("time", 3),
    "BLOB": ("varbinary", 2147483647), "JSON": ("json", 0), "UUID": ("uuid", 0),
    "INTERVAL": ("interval day to second", 0), "NULL": ("unknown", 0), '"NULL"': ("unknown", 0),
}


def athena_type(duck: str) -> tuple[str, int, int]:
    """Athena's ``ColumnInfo`` (Type, Precision, Scale) for a DuckDB result type."""
    duck = duck.upper()
    if duck.endswith("]"):
        return "array", 0, 0
    if duck.startswith("MAP("):
        return "map", 0, 0
    if duck.startswith("STRUCT(") or duck.startswith("UNION("):
        return "row", 0, 0
    m = re.fullmatch(r"DECIMAL\((\d+),\s*(\d+)\)", duck)
    if m:
        return "decimal", int(m.group(1)), int(m.group(2))
    name, precision = _ATHENA_NAMES.get(duck, ("varchar", 2147483647))
    return name, precision, 0


_HIVE_OF_ATHENA = {"varchar": "string", "integer": "int", "float": "float", "unknown": "string",
                   "varbinary": "binary", "timestamp with time zone": "timestamp",
                   "interval day to second": "string", "uuid": "string", "json": "string",
                   "time": "string"}


def duckdb_to_hive(duck: str) -> str:
    """The Glue column type for a DuckDB type (CTAS registers its result in Glue)."""
    duck = duck.strip()
    up = duck.upper()
    if up.endswith("[]"):
        return f"array<{duckdb_to_hive(duck[:-2])}>"
    if up.startswith("MAP("):
        key, value = _split_top(duck[4:-1])
        return f"map<{duckdb_to_hive(key)},{duckdb_to_hive(value)}>"
    if up.startswith("STRUCT("):
        fields = []
        for part in _split_top(duck[7:-1]):
            name, ftype = part.rsplit(" ", 1) if " " in part else (part, "VARCHAR")
            m = re.match(r'^("(?:[^"]|"")*"|\S+)\s+(.*)$', part)
            if m:
                name, ftype = m.group(1).strip('"'), m.group(2)
            fields.append(f"{name}:{duckdb_to_hive(ftype)}")
        return f"struct<{','.join(fields)}>"
    name, precision, scale = athena_type(up)
    if name == "decimal":
        return f"decimal({precision},{scale})"
    return _HIVE_OF_ATHENA.get(name, name)
