"""Query results as Athena gives them: every value a string, Athena's type names, CSV files.

A result is kept twice: as ``<OutputLocation>/<QueryExecutionId>.csv`` (+ ``.metadata``)
in S3, as Athena writes it, and as an Arrow IPC file of the formatted strings under
``home/athena/results/`` from which ``GetQueryResults`` pages without re-running anything.
"""
from __future__ import annotations

import datetime as _dt
import decimal
import io
import math
import random
import string
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from .types import athena_type

MAX_PAGE = 1000


def column_info(names: list[str], duck_types: list[str]) -> list[dict]:
    """``ResultSetMetadata.ColumnInfo`` for result columns."""
    out = []
    for name, duck in zip(names, duck_types):
        athena, precision, scale = athena_type(duck)
        out.append({"CatalogName": "hive", "SchemaName": "", "TableName": "", "Name": name,
                    "Label": name, "Type": athena, "Precision": precision, "Scale": scale,
                    "Nullable": "UNKNOWN", "CaseSensitive": athena == "varchar"})
    return out


# -- values as Athena prints them --------------------------------------------------------
def java_double(x: float, single: bool = False) -> str:
    """Java's ``Double.toString`` (what Athena prints): ``2.0``, ``1.0E7``, ``1.0E-5``."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "-0.0" if math.copysign(1.0, x) < 0 else "0.0"
    text = str(np.float32(x)) if single else repr(float(x))  # the shortest round-trip digits
    if 1e-3 <= abs(x) < 1e7:
        if "e" in text or "E" in text:
            text = format(decimal.Decimal(text), "f")
        return text if "." in text else text + ".0"
    mantissa, _, exponent = format(decimal.Decimal(text), "E").partition("E")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0")
        if mantissa.endswith("."):
            mantissa += "0"
    else:
        mantissa += ".0"
    return f"{mantissa}E{int(exponent)}"


def format_value(value, duck: str) -> str | None:
    """One value, formatted as Athena's result set shows it (``None`` stays NULL)."""
    if value is None:
        return None
    up = duck.upper()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return java_double(value, single=(up == "FLOAT"))
    if isinstance(value, _dt.datetime):
        text = value.strftime("%Y-%m-%d %H:%M:%S.") + f"{value.microsecond // 1000:03d}"
        if value.tzinfo is not None:
            text += " " + (value.tzname() or "UTC")
        return text
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        inner = ", ".join(f"{k}={_nested(v)}" for k, v in value.items())
        return "{" + inner + "}"
    if isinstance(value, (list, tuple)):
        if value and all(isinstance(v, tuple) and len(v) == 2 for v in value) and up.startswith("MAP("):
            return "{" + ", ".join(f"{_nested(k)}={_nested(v)}" for k, v in value) + "}"
        return "[" + ", ".join(_nested(v) for v in value) + "]"
    if isinstance(value, bytes):
        return " ".join(f"{b:02x}" for b in value)
    return str(value)


def _nested(value) -> str:
    text = format_value(value, "")
    return "null" if text is None else text


def format_table(table: pa.Table, duck_types: list[str]) -> pa.Table:
    """The result table with every column turned into Athena's strings (nulls kept)."""
    columns = []
    for col, duck in zip(table.columns, duck_types):
        columns.append(_format_column(col.combine_chunks() if col.num_chunks != 1 else col.chunk(0),
                                      duck.upper()))
    names = [f"_c{i}" for i in range(table.num_columns)]
    return pa.Table.from_arrays(columns, names=names) if columns else pa.table({})


def _format_column(arr: pa.Array, duck: str) -> pa.Array:
    t = arr.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return arr.cast(pa.string())
    if pa.types.is_boolean(t) or pa.types.is_integer(t) or pa.types.is_decimal(t) or pa.types.is_date(t):
        return arr.cast(pa.string())
    if pa.types.is_floating(t) and duck == "DOUBLE":
        text = arr.cast(pa.string())
        absval = pc.abs(arr)
        odd = pc.or_kleene(pc.or_kleene(pc.greater_equal(absval, 1e7), pc.less(absval, 1e-3)),
                           pc.is_nan(arr))
        plain = pc.if_else(pc.match_substring(text, "."), text, pc.binary_join_element_wise(text, ".0", ""))
        if pc.any(odd).as_py():
            fixed = [None if v is None else java_double(v) for v in arr.to_pylist()]
            return pc.if_else(odd, pa.array(fixed, pa.string()), plain)
        return plain
    if pa.types.is_timestamp(t) and t.tz is None:
        text = pc.strftime(arr.cast(pa.timestamp("us")), "%Y-%m-%d %H:%M:%S")  # %S has the fraction
        return pc.utf8_slice_codeunits(text, 0, 23)
    return pa.array([format_value(v, duck) for v in arr.to_pylist()], pa.string())


# -- files ---------------------------------------------------------------------------------
def csv_bytes(names: list[str], strings: pa.Table, header: bool = True) -> bytes:
    """Athena's result CSV: every value double-quoted, NULL as an empty unquoted field."""
    buf = io.BytesIO()
    table = strings.rename_columns(names) if strings.num_columns else strings
    if table.num_columns == 0:
        return b""
    pa_csv.write_csv(table, buf, pa_csv.WriteOptions(include_header=header, quoting_style="all_valid"))
    return buf.getvalue()


def text_bytes(strings: pa.Table) -> bytes:
    """A DDL/utility statement's result file (``<id>.txt``): tab-separated lines."""
    rows = zip(*[c.to_pylist() for c in strings.columns]) if strings.num_columns else []
    return "".join("\t".join("" if v is None else v for v in row) + "\n" for row in rows).encode()


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(number: int, value: str | bytes | int | bool) -> bytes:
    """One protobuf field: a varint, or length-delimited bytes."""
    if isinstance(value, (bool, int)):
        return _varint(number << 3) + _varint(int(value))
    data = value.encode() if isinstance(value, str) else value
    return _varint(number << 3 | 2) + _varint(len(data)) + data


_NULLABLE = {"NOT_NULL": 1, "NULLABLE": 2, "UNKNOWN": 3}


def metadata_bytes(columns: list[dict], engine_query_id: str) -> bytes:
    """The ``.csv.metadata`` companion in Athena's binary layout (protobuf): field 1 the
    engine's query id, then one field 4 per column (catalog, schema, table, name, label,
    type, precision, scale, nullability, case sensitivity as fields 1-10; defaults omitted)."""
    out = bytearray(_field(1, engine_query_id))
    for col in columns:
        body = bytearray()
        for number, key in ((1, "CatalogName"), (2, "SchemaName"), (3, "TableName"), (4, "Name"),
                            (5, "Label"), (6, "Type")):
            if col.get(key):
                body += _field(number, col[key])
        for number, key in ((7, "Precision"), (8, "Scale")):
            if col.get(key):
                body += _field(number, col[key])
        body += _field(9, _NULLABLE.get(col.get("Nullable", "UNKNOWN"), 3))
        if col.get("CaseSensitive"):
            body += _field(10, True)
        out += _field(4, bytes(body))
    return bytes(out)


def engine_query_id(when: float) -> str:
    """A Trino-style query id (``20190423_125128_00001_ehtur``)."""
    stamp = time.strftime("%Y%m%d_%H%M%S", time.gmtime(when))
    suffix = "".join(random.choices(string.ascii_lowercase, k=5))
    return f"{stamp}_{random.randint(0, 99999):05d}_{suffix}"


class ResultFile:
    """The formatted result of one query, paged by ``GetQueryResults``."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def write(self, strings: pa.Table) -> None:
        tmp = self.path.with_suffix(".tmp")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_file(sink, strings.schema) as writer:
            writer.write_table(strings, max_chunksize=65536)
        tmp.replace(self.path)

    def rows(self, start: int, count: int) -> tuple[list[dict], int]:
        """``count`` rows from ``start`` as Athena ``Row``s, and the total number of rows."""
        with pa.memory_map(str(self.path)) as source:
            table = pa.ipc.open_file(source).read_all()
            total = table.num_rows
            part = table.slice(start, count)
            columns = [c.to_pylist() for c in part.columns]
        out = []
        for values in zip(*columns):
            out.append({"Data": [{} if v is None else {"VarCharValue": v} for v in values]})
        if not columns:
            out = [{"Data": []} for _ in range(part.num_rows)]
        return out, total
