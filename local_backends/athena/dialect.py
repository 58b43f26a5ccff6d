"""Athena's SQL (Trino for queries, Hive for DDL) parsed with sqlglot and turned into DuckDB.

``parse`` classifies one statement (Athena runs exactly one per query execution) and
``translate_select`` rewrites a query for DuckDB: tables resolved against the Glue
catalog, Trino functions renamed, and anything that would reach outside the catalog
(table functions such as ``read_csv``) refused.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp

from .errors import QueryError

DEFAULT_CATALOG = "awsdatacatalog"

_NAME = r'(?:"[^"]+"|`[^`]+`|[A-Za-z_][A-Za-z0-9_]*)'
_QNAME = rf"({_NAME}(?:\s*\.\s*{_NAME}){{0,2}})"
_SHOW_TABLES = re.compile(rf"^SHOW\s+TABLES(?:\s+(?:IN|FROM)\s+({_NAME}))?(?:\s+(?:LIKE\s+)?'([^']*)')?$", re.I)
_SHOW_DATABASES = re.compile(r"^SHOW\s+(?:DATABASES|SCHEMAS)(?:\s+(?:LIKE\s+)?'([^']*)')?$", re.I)
_SHOW_PARTITIONS = re.compile(rf"^SHOW\s+PARTITIONS\s+{_QNAME}$", re.I)
_SHOW_COLUMNS = re.compile(rf"^SHOW\s+COLUMNS\s+(?:IN|FROM)\s+{_QNAME}(?:\s+(?:IN|FROM)\s+({_NAME}))?$", re.I)
_MSCK = re.compile(rf"^MSCK\s+REPAIR\s+TABLE\s+{_QNAME}$", re.I)
_ALTER_PARTITIONS = re.compile(rf"^ALTER\s+TABLE\s+{_QNAME}\s+(ADD|DROP)\s+(IF\s+(?:NOT\s+)?EXISTS\s+)?(PARTITION\b.*)$", re.I)
_PARTITION_SPEC = re.compile(r"PARTITION\s*\(([^)]*)\)(?:\s*LOCATION\s*'((?:[^']|'')*)')?\s*,?\s*", re.I)
_SPEC_ITEM = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*|`[^`]+`|\"[^\"]+\")\s*=\s*(?:'((?:[^']|'')*)'|([^\s,]+))\s*$")
_DESCRIBE = re.compile(rf"^(?:DESCRIBE|DESC)\s+(?:FORMATTED\s+|EXTENDED\s+)?{_QNAME}$", re.I)


@dataclass
class Statement:
    """One Athena statement: what it does and how Athena reports its type."""

    kind: str                      # SELECT, CTAS, CREATE_TABLE, DROP_TABLE, SHOW_TABLES, ...
    statement_type: str            # DML | DDL | UTILITY (QueryExecution.StatementType)
    substatement: str              # QueryExecution.SubstatementType
    ast: exp.Expression | None = None
    args: dict = field(default_factory=dict)


def unquote(name: str) -> str:
    name = name.strip()
    if name[:1] in ('"', "`") and name[-1:] == name[:1]:
        return name[1:-1]
    return name


def split_name(qualified: str) -> list[str]:
    return [unquote(p).lower() for p in re.split(r"\s*\.\s*(?=(?:[^\"`]*[\"`][^\"`]*[\"`])*[^\"`]*$)",
                                                  qualified.strip())]


def start_col(meta: dict | None) -> tuple[int, int]:
    """(line, column) where an identifier starts (sqlglot keeps where it ends)."""
    if not meta:
        return 1, 1
    return meta.get("line", 1), max(1, meta.get("col", 1) - (meta.get("end", 0) - meta.get("start", 0)))


def parse(sql: str) -> Statement:
    """The statement in ``sql``; ``QueryError`` (SYNTAX_ERROR) when it is not Athena SQL."""
    text = sql.strip().rstrip(";").strip()
    if not text:
        raise QueryError("SYNTAX_ERROR", "line 1:1: mismatched input '<EOF>'. Expecting: 'SELECT', "
                         "'WITH', 'CREATE', 'SHOW', 'DESCRIBE', 'DROP', 'MSCK'")
    one_line = " ".join(text.split())
    if m := _SHOW_TABLES.match(one_line):
        return Statement("SHOW_TABLES", "UTILITY", "SHOW_TABLES",
                         args={"database": unquote(m.group(1)).lower() if m.group(1) else None,
                               "pattern": m.group(2)})
    if m := _SHOW_DATABASES.match(one_line):
        return Statement("SHOW_DATABASES", "UTILITY", "SHOW_DATABASES", args={"pattern": m.group(1)})
    if m := _SHOW_PARTITIONS.match(one_line):
        return Statement("SHOW_PARTITIONS", "UTILITY", "SHOW_PARTITIONS", args={"name": split_name(m.group(1))})
    if m := _SHOW_COLUMNS.match(one_line):
        name = split_name(m.group(1))
        if m.group(2):
            name = [unquote(m.group(2)).lower(), name[-1]]
        return Statement("SHOW_COLUMNS", "UTILITY", "SHOW_COLUMNS", args={"name": name})
    if m := _MSCK.match(one_line):
        return Statement("MSCK_REPAIR", "DDL", "MSCK_REPAIR_TABLE", args={"name": split_name(m.group(1))})
    if m := _ALTER_PARTITIONS.match(one_line):
        return Statement(f"{m.group(2).upper()}_PARTITION", "DDL", f"ALTER_TABLE_{m.group(2).upper()}_PARTITION",
                         args={"name": split_name(m.group(1)), "if_exists": bool(m.group(3)),
                               "partitions": _partition_specs(m.group(4))})
    if m := _DESCRIBE.match(one_line):
        return Statement("DESCRIBE", "UTILITY", "DESCRIBE_TABLE", args={"name": split_name(m.group(1))})

    logger = logging.getLogger("sqlglot")
    level = logger.level
    logger.setLevel(logging.ERROR)  # sqlglot warns when it falls back to a Command
    try:
        trees = [t for t in sqlglot.parse(text, read="athena") if t is not None]
    except sqlglot.ParseError as err:
        raise _syntax_error(err) from None
    except sqlglot.TokenError as err:
        raise QueryError("SYNTAX_ERROR", f"line 1:1: {err}") from None
    finally:
        logger.setLevel(level)
    if len(trees) != 1:
        raise QueryError("INVALID_INPUT", "Only one sql statement is allowed. Got: " + str(len(trees)))
    tree = trees[0]
    if isinstance(tree, (exp.Select, exp.Union, exp.Intersect, exp.Except, exp.Subquery)) or \
            isinstance(tree, exp.Query):
        return Statement("SELECT", "DML", "SELECT", ast=tree)
    if isinstance(tree, exp.Create):
        kind = (tree.args.get("kind") or "").upper()
        if kind in ("DATABASE", "SCHEMA"):
            return Statement("CREATE_DATABASE", "DDL", "CREATE_DATABASE", ast=tree)
        if kind == "TABLE" and tree.expression is not None:
            return Statement("CTAS", "DDL", "CREATE_TABLE_AS_SELECT", ast=tree)
        if kind == "TABLE":
            return Statement("CREATE_TABLE", "DDL", "CREATE_TABLE", ast=tree)
        if kind == "VIEW":
            raise QueryError("NOT_SUPPORTED", "CREATE VIEW is not supported by the local Athena")
    if isinstance(tree, exp.Drop):
        kind = (tree.args.get("kind") or "").upper()
        if kind == "TABLE":
            return Statement("DROP_TABLE", "DDL", "DROP_TABLE", ast=tree)
        if kind in ("DATABASE", "SCHEMA"):
            return Statement("DROP_DATABASE", "DDL", "DROP_DATABASE", ast=tree)
    if isinstance(tree, exp.Describe) and isinstance(tree.this, exp.Table):
        return Statement("DESCRIBE", "UTILITY", "DESCRIBE_TABLE",
                         args={"name": [part.name.lower() for part in tree.this.parts]})
    raise QueryError("NOT_SUPPORTED", f"This statement is not supported by the local Athena: "
                     f"{one_line[:80]}")


def _partition_specs(text: str) -> list[tuple[dict[str, str], str | None]]:
    """``PARTITION (k='v', ...) [LOCATION 's3://...']`` clauses as (values by key, location)."""
    specs, pos = [], 0
    while pos < len(text):
        m = _PARTITION_SPEC.match(text, pos)
        if not m:
            raise QueryError("SYNTAX_ERROR", f"line 1:1: mismatched input near '{text[pos:pos + 20]}'")
        values = {}
        for item in m.group(1).split(","):
            im = _SPEC_ITEM.match(item)
            if not im:
                raise QueryError("SYNTAX_ERROR", f"line 1:1: bad partition spec '{item.strip()}'")
            value = im.group(2).replace("''", "'") if im.group(2) is not None else im.group(3)
            values[unquote(im.group(1)).lower()] = value
        location = m.group(2).replace("''", "'") if m.group(2) else None
        specs.append((values, location))
        pos = m.end()
    return specs


def _syntax_error(err: sqlglot.ParseError) -> QueryError:
    info = err.errors[0] if err.errors else {}
    highlight = info.get("highlight") or ""
    line = info.get("line", 1)
    col = max(1, info.get("col", 1) - max(0, len(highlight) - 1))
    token = f"'{highlight}'" if highlight else "'<EOF>'"
    return QueryError("SYNTAX_ERROR", f"line {line}:{col}: mismatched input {token}. "
                      f"{info.get('description', str(err)).split('. Line')[0].split(' but got')[0]}")


@dataclass(frozen=True)
class TableRef:
    """A table a query reads, as (database, name), and where the query names it."""

    database: str
    name: str
    line: int
    col: int


def table_refs(tree: exp.Expression, default_db: str) -> list[TableRef]:
    """The catalog tables a query reads (CTE names excluded); refuses table functions."""
    ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
    refs: dict[tuple[str, str], TableRef] = {}
    for table in tree.find_all(exp.Table):
        ident = table.this
        if not isinstance(ident, exp.Identifier):
            fname = ident.sql_name() if isinstance(ident, exp.Func) else type(ident).__name__
            if isinstance(ident, exp.Anonymous):
                fname = ident.name
            line, col = start_col(getattr(ident, "meta", None))
            raise QueryError("FUNCTION_NOT_FOUND",
                             f"line {line}:{col}: Table function '{fname.lower()}' not registered")
        catalog = table.args.get("catalog")
        db = table.args.get("db")
        name = ident.name.lower()
        if catalog is None and db is None and name in ctes:
            continue
        if catalog is not None and catalog.name.lower() != DEFAULT_CATALOG:
            line, col = start_col(catalog.meta)
            raise QueryError("CATALOG_NOT_FOUND",
                             f"line {line}:{col}: Catalog '{catalog.name.lower()}' does not exist")
        first = catalog or db or ident
        line, col = start_col(first.meta)
        ref = TableRef(db.name.lower() if db is not None else default_db, name, line, col)
        refs.setdefault((ref.database, ref.name), ref)
    return list(refs.values())


_DATE_UNITS = {"DAY", "WEEK", "MONTH", "QUARTER", "YEAR"}


def _is_date(node: exp.Expression, column_types: dict[str, set[str]]) -> bool:
    if isinstance(node, exp.Cast) and node.to.is_type(exp.DataType.Type.DATE):
        return True
    if isinstance(node, (exp.CurrentDate, exp.DateStrToDate, exp.TsOrDsToDate)):
        return True
    if isinstance(node, exp.Column):
        return column_types.get(node.name.lower()) == {"DATE"}
    if isinstance(node, (exp.DateAdd, exp.DateSub, exp.DateTrunc)):
        return _is_date(node.this, column_types) and node.text("unit").upper() in _DATE_UNITS
    if isinstance(node, (exp.Add, exp.Sub)) and isinstance(node.expression, exp.Interval):
        return _is_date(node.this, column_types) and node.expression.text("unit").upper() in _DATE_UNITS
    return False


_JODA = [("yyyy", "%Y"), ("yy", "%y"), ("MMMM", "%B"), ("MMM", "%b"), ("MM", "%m"), ("dd", "%d"),
         ("HH", "%H"), ("hh", "%I"), ("mm", "%M"), ("ss", "%S"), ("SSS", "%g"), ("EEEE", "%A"),
         ("EEE", "%a"), ("a", "%p"), ("D", "%j"), ("M", "%-m"), ("d", "%-d"), ("H", "%-H")]


def joda_to_strftime(pattern: str) -> str:
    """A Joda-Time pattern (``format_datetime``) as a strftime format."""
    out, i = [], 0
    while i < len(pattern):
        if pattern[i] == "'":
            end = pattern.find("'", i + 1)
            end = len(pattern) if end < 0 else end
            out.append(pattern[i + 1:end].replace("%", "%%") or "'")
            i = end + 1
            continue
        for token, fmt in _JODA:
            if pattern.startswith(token, i):
                out.append(fmt)
                i += len(token)
                break
        else:
            out.append("%%" if pattern[i] == "%" else pattern[i])
            i += 1
    return "".join(out)


def java_replacement(text: str) -> str:
    """A Trino (Java) ``regexp_replace`` replacement as RE2 writes it: ``$1`` -> ``\\1``,
    ``\\$`` -> ``$``, and a literal backslash doubled."""
    out, i = [], 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            out.append("\\\\" if nxt == "\\" else nxt)
            i += 2
            continue
        if char == "$" and i + 1 < len(text) and text[i + 1].isdigit():
            out.append("\\" + text[i + 1])
            i += 2
            continue
        out.append("\\\\" if char == "\\" else char)
        i += 1
    return "".join(out)


def _null_when_no_match(node: exp.RegexpExtract) -> exp.Expression:
    """``regexp_extract``: Trino gives NULL when the pattern does not match (DuckDB: '')."""
    matches = exp.RegexpLike(this=node.this.copy(), expression=node.expression.copy())
    return exp.Case(ifs=[exp.If(this=matches, true=node)])


def _is_map(node: exp.Expression, column_types: dict[str, set[str]]) -> bool:
    if isinstance(node, (exp.Map, exp.VarMap)):
        return True
    if isinstance(node, exp.Column):
        types = column_types.get(node.name.lower()) or set()
        return bool(types) and all(t.upper().startswith("MAP") for t in types)
    return False


def _maps_as_key_value_arrays(node: exp.Unnest, column_types: dict[str, set[str]]) -> None:
    """Trino's ``UNNEST(<map>) AS t(k, v)``: a map gives two columns, its keys and its values,
    i.e. ``UNNEST(map_keys(m), map_values(m))`` (DuckDB's unnest of a map gives one struct)."""
    expanded = []
    for e in node.expressions:
        if _is_map(e, column_types):
            expanded += [exp.Anonymous(this="map_keys", expressions=[e.copy()]),
                         exp.Anonymous(this="map_values", expressions=[e.copy()])]
        else:
            expanded.append(e)
    if len(expanded) != len(node.expressions):
        node.set("expressions", expanded)


def _is_rows_unnest(node: exp.Unnest, column_types: dict[str, set[str]]) -> bool:
    """``UNNEST(<array of ROW>) AS t(a, b, ...)``: one array, more names than arrays."""
    alias = node.args.get("alias")
    names = len(alias.columns) if alias is not None else 0
    if len(node.expressions) != 1 or names < 2:    # (sqlglot keeps the ordinality's name apart)
        return False
    e = node.expressions[0]
    if isinstance(e, exp.Array):
        return bool(e.expressions) and isinstance(e.expressions[0], exp.Struct)
    if isinstance(e, exp.Column):
        types = column_types.get(e.name.lower()) or set()
        return bool(types) and all(t.upper().startswith("STRUCT") and t.endswith("[]") for t in types)
    return False


def _rows_unnest(node: exp.Unnest) -> exp.Expression:
    """Trino's ``UNNEST(<array of ROW>) [WITH ORDINALITY] AS t(a, b[, n])``: one column per
    field of the rows, by position (DuckDB's unnest of a list of structs gives one struct)."""
    array = node.expressions[0]
    items = [exp.alias_(exp.Anonymous(this="struct_extract_at", expressions=[
        exp.Unnest(expressions=[array.copy()]), exp.Literal.number(i + 1)]), c.name, quoted=True)
        for i, c in enumerate(node.args["alias"].columns)]
    return _unnest_table(node, items, exp.ArraySize(this=array.copy()))


def _zipped_unnest(node: exp.Unnest) -> exp.Expression:
    """Trino's ``UNNEST(a, b, ...) [WITH ORDINALITY] AS t(x, y, ...[, n])``: the arrays side by
    side, the shorter ones padded with NULL, as a (lateral) subquery of DuckDB ``unnest``s."""
    alias = node.args.get("alias")
    names = [c.name for c in (alias.columns if alias is not None else [])]
    arrays = node.expressions
    names += [f"_col{i}" for i in range(len(names), len(arrays))]
    items = [exp.alias_(exp.Unnest(expressions=[e.copy()]), names[i], quoted=True)
             for i, e in enumerate(arrays)]
    longest = exp.Greatest(this=exp.ArraySize(this=arrays[0].copy()),
                           expressions=[exp.ArraySize(this=e.copy()) for e in arrays[1:]])
    return _unnest_table(node, items, longest)


def _unnest_table(node: exp.Unnest, items: list[exp.Expression], size: exp.Expression) -> exp.Expression:
    """The (lateral) subquery ``(SELECT <items>[, <ordinality>]) AS <alias>`` that replaces
    ``node``; ``size`` is the row count its ordinality column (if asked for) runs to."""
    offset = node.args.get("offset")
    if offset:      # sqlglot: False without WITH ORDINALITY, True or the column's name with it
        positions = exp.Anonymous(this="range", expressions=[exp.Literal.number(1), size + exp.Literal.number(1)])
        name = offset.name if isinstance(offset, exp.Identifier) else "ordinality"
        items = [*items, exp.alias_(exp.Anonymous(this="unnest", expressions=[positions]), name, quoted=True)]
    alias = node.args.get("alias")
    table_name = alias.this.name if alias is not None and alias.this is not None else "_unnest"
    return exp.Subquery(this=exp.select(*items), alias=exp.TableAlias(this=exp.to_identifier(table_name)))


def translate_select(tree: exp.Expression, column_types: dict[str, set[str]] | None = None) -> str:
    """DuckDB SQL for an Athena query (tables keep their ``database.table`` names).

    ``column_types`` (column name -> DuckDB types of the tables read) lets Trino's
    ``date_add('day', n, <date>)`` stay a DATE (DuckDB's ``date + interval`` is a TIMESTAMP).
    """
    column_types = column_types or {}
    tree = tree.copy()
    for node in list(tree.find_all(exp.DateAdd, exp.DateSub, exp.DateTrunc, exp.Add, exp.Sub)):
        if _is_date(node, column_types):  # Trino keeps a DATE where DuckDB makes a TIMESTAMP
            node.replace(exp.Cast(this=node.copy(), to=exp.DataType.build("DATE")))
    for node in list(tree.find_all(exp.Anonymous)):
        args = node.expressions
        if node.name.lower() == "format_datetime" and len(args) == 2 and args[1].is_string:
            node.replace(exp.Anonymous(this="strftime", expressions=[
                args[0], exp.Literal.string(joda_to_strftime(args[1].name))]))
    for node in list(tree.find_all(exp.RegexpReplace)):
        replacement = node.args.get("replacement")
        if isinstance(replacement, exp.Literal) and replacement.is_string:
            node.set("replacement", exp.Literal.string(java_replacement(replacement.name)))
    for node in reversed(list(tree.find_all(exp.RegexpExtract))):   # the innermost first
        node.replace(_null_when_no_match(node.copy()))
    for node in list(tree.find_all(exp.Unnest)):
        if isinstance(node.parent, (exp.From, exp.Join)):
            _maps_as_key_value_arrays(node, column_types)
            if _is_rows_unnest(node, column_types):
                node.replace(_rows_unnest(node))
            elif len(node.expressions) > 1:
                node.replace(_zipped_unnest(node))
    for table in tree.find_all(exp.Table):
        if table.args.get("catalog") is not None:
            table.set("catalog", None)
    for node in list(tree.find_all(exp.ApproxQuantile)):
        # approx_percentile(x, p): DuckDB's exact discrete quantile is within any error bound.
        if node.args.get("weight") is None and node.args.get("accuracy") is None:
            node.replace(exp.Anonymous(this="quantile_disc",
                                       expressions=[node.this, node.args["quantile"]]))
    return tree.sql(dialect="duckdb")
