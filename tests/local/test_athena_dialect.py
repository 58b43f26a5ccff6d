"""Athena's SQL (Trino) gives Trino's answers on the local engine: one query per family of
the translation list (date/time, CAST/TRY_CAST, approx_percentile, windows, UNNEST,
regexp_*, quoted identifiers), each compared with the value Trino returns."""
from __future__ import annotations

import time

import pytest

OUTPUT = "s3://dialect-results/out/"


@pytest.fixture
def athena(local_session):
    local_session.client("s3").create_bucket(Bucket="dialect-results")
    return local_session.client("athena")


def run(athena, sql: str) -> dict:
    query_id = athena.start_query_execution(QueryString=sql, ResultConfiguration={"OutputLocation": OUTPUT})[
        "QueryExecutionId"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        execution = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
        if execution["Status"]["State"] not in ("QUEUED", "RUNNING"):
            return execution
        time.sleep(0.02)
    raise TimeoutError(sql)


def rows(athena, sql: str) -> tuple[list[list[str | None]], list[str]]:
    """Data rows (strings; None for NULL) and column types of a query that must succeed."""
    execution = run(athena, sql)
    assert execution["Status"]["State"] == "SUCCEEDED", (sql, execution["Status"].get("StateChangeReason"))
    result = athena.get_query_results(QueryExecutionId=execution["QueryExecutionId"])["ResultSet"]
    data = [[d.get("VarCharValue") for d in r["Data"]] for r in result["Rows"][1:]]
    return data, [c["Type"] for c in result["ResultSetMetadata"]["ColumnInfo"]]


def json_table(session, database: str, table: str, columns: dict[str, str], body: bytes) -> None:
    """A Glue table of JSON lines (``body``) in the results bucket, its database created."""
    session.client("s3").put_object(Bucket="dialect-results", Key=f"{database}/d.json", Body=body)
    glue = session.client("glue")
    glue.create_database(DatabaseInput={"Name": database})
    glue.create_table(DatabaseName=database, TableInput={"Name": table, "StorageDescriptor": {
        "Columns": [{"Name": n, "Type": t} for n, t in columns.items()],
        "Location": f"s3://dialect-results/{database}/",
        "SerdeInfo": {"SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe"}}})


CASES = [
    # date and time functions
    ("SELECT date_diff('day', DATE '2024-01-01', DATE '2024-03-01'), "
     "date_add('month', 1, DATE '2024-01-31'), date_trunc('month', DATE '2024-05-17'), "
     "DATE '2024-01-31' + INTERVAL '1' MONTH, last_day_of_month(DATE '2024-02-10')",
     [["60", "2024-02-29", "2024-05-01", "2024-02-29", "2024-02-29"]],
     ["bigint", "date", "date", "date", "date"]),
    ("SELECT year(DATE '2024-05-17'), month(DATE '2024-05-17'), day_of_week(DATE '2024-05-17'), "
     "day_of_year(DATE '2024-05-17'), quarter(DATE '2024-05-17'), extract(hour FROM TIMESTAMP '2024-05-17 10:11:12')",
     [["2024", "5", "5", "138", "2", "10"]], None),
    ("SELECT date_parse('2024-05-17 10:11', '%Y-%m-%d %H:%i'), "
     "date_format(TIMESTAMP '2024-05-17 10:11:12', '%Y/%m/%d %H:%i:%s'), from_iso8601_date('2024-05-17'), "
     "from_unixtime(1704067200), to_unixtime(TIMESTAMP '2024-01-01 00:00:00'), "
     "format_datetime(TIMESTAMP '2024-01-02 03:04:05', 'yyyy-MM-dd HH:mm')",
     [["2024-05-17 10:11:00.000", "2024/05/17 10:11:12", "2024-05-17", "2024-01-01 00:00:00.000 UTC",
       "1.7040672E9", "2024-01-02 03:04"]],
     ["timestamp", "varchar", "date", "timestamp with time zone", "double", "varchar"]),
    # CAST and TRY_CAST
    ("SELECT CAST('2024-05-17' AS date), CAST('12.5' AS double), CAST(3.7 AS integer), CAST(42 AS varchar), "
     "TRY_CAST('abc' AS integer), TRY_CAST('2024-13-45' AS date), TRY_CAST('12' AS bigint), 7 / 2",
     [["2024-05-17", "12.5", "4", "42", None, None, "12", "3"]],
     ["date", "double", "integer", "varchar", "integer", "date", "bigint", "integer"]),
    # approx_percentile (one percentile, and an array of them)
    ("SELECT approx_percentile(x, 0.9), approx_percentile(x, ARRAY[0.25, 0.75]) "
     "FROM UNNEST(sequence(1, 100)) AS t(x)", [["90", "[25, 75]"]], ["bigint", "array"]),
    # window functions
    ("SELECT x, lag(x) OVER (ORDER BY x), lead(x, 2) OVER (ORDER BY x), row_number() OVER (ORDER BY x DESC), "
     "rank() OVER (ORDER BY x % 2), ntile(2) OVER (ORDER BY x), "
     "sum(x) OVER (ORDER BY x ROWS BETWEEN 1 PRECEDING AND CURRENT ROW), "
     "count(*) OVER (PARTITION BY x % 2) FROM UNNEST(ARRAY[1, 2, 3, 4]) AS t(x) ORDER BY x",
     [["1", None, "3", "4", "3", "1", "1", "2"], ["2", "1", "4", "3", "1", "1", "3", "2"],
      ["3", "2", None, "2", "3", "2", "5", "2"], ["4", "3", None, "1", "1", "2", "7", "2"]], None),
    # UNNEST, with ordinality, in a lateral join
    ("SELECT t.id, u.v, u.n FROM (VALUES (1, ARRAY['a', 'b']), (2, ARRAY['c'])) AS t(id, arr) "
     "CROSS JOIN UNNEST(arr) WITH ORDINALITY AS u(v, n) ORDER BY t.id, u.n",
     [["1", "a", "1"], ["1", "b", "2"], ["2", "c", "1"]], ["integer", "varchar", "bigint"]),
    # UNNEST of several arrays side by side: the shorter padded with NULL (Trino's semantics)
    ("SELECT a, b FROM UNNEST(ARRAY[1, 2], ARRAY['x', 'y', 'z']) AS t(a, b)",
     [["1", "x"], ["2", "y"], [None, "z"]], ["integer", "varchar"]),
    ("SELECT * FROM UNNEST(ARRAY[1, 2], ARRAY['x']) AS t(a, b)",     # no ordinality column unasked
     [["1", "x"], ["2", None]], ["integer", "varchar"]),
    ("SELECT t.id, u.p, u.q, u.n FROM (VALUES (1, ARRAY[1, 2], ARRAY['x', 'y', 'z']), (2, ARRAY[5], ARRAY['w'])) "
     "AS t(id, a, b) CROSS JOIN UNNEST(a, b) WITH ORDINALITY AS u(p, q, n) ORDER BY t.id, u.n",
     [["1", "1", "x", "1"], ["1", "2", "y", "2"], ["1", None, "z", "3"], ["2", "5", "w", "1"]],
     ["integer", "integer", "varchar", "bigint"]),
    # UNNEST of a map: one row per entry, its key and its value
    ("SELECT k, v FROM UNNEST(MAP(ARRAY['a', 'b'], ARRAY[1, 2])) AS t(k, v) ORDER BY k",
     [["a", "1"], ["b", "2"]], ["varchar", "integer"]),
    # UNNEST of an array of ROWs: one column per field, with ordinality too
    ("SELECT x, y, n FROM UNNEST(ARRAY[ROW(1, 'a'), ROW(2, 'b')]) WITH ORDINALITY AS t(x, y, n) ORDER BY n",
     [["1", "a", "1"], ["2", "b", "2"]], ["integer", "varchar", "bigint"]),
    # regexp_*: Java's $1 in replacements, NULL when regexp_extract finds nothing
    ("SELECT regexp_replace('a1b22', '[0-9]+', '#'), regexp_replace('abc', '(b)', '[$1]'), "
     "regexp_replace('aXbX', 'X'), regexp_extract('abc-123', '[a-z]+-([0-9]+)', 1), regexp_extract('abc', 'z'), "
     "regexp_extract_all('a1b22c333', '([a-z])([0-9]+)', 2), regexp_like('abc', '^a.c$'), "
     "regexp_like('abc', 'B'), regexp_count('aaa', 'a'), regexp_split('a,b', ',')",
     [["a#b#", "a[b]c", "ab", "123", None, "[1, 22, 333]", "true", "false", "3", "[a, b]"]],
     ["varchar", "varchar", "varchar", "varchar", "varchar", "array", "boolean", "boolean", "bigint", "array"]),
    # regexp_position; url_extract_*: NULL for what is not a URL, '' for an empty path
    ("SELECT regexp_position('abc123', '[0-9]+'), regexp_position('abc', '[0-9]'), "
     "url_extract_host('https://example.com:8443/a/b?x=1#f'), url_extract_path('https://example.com/a/b?x=1'), "
     "url_extract_path('https://example.com'), url_extract_protocol('s3://bucket/key'), "
     "url_extract_query('https://e.com/p?x=1&y=2#frag'), url_extract_query('https://e.com/p'), "
     "url_extract_host('not a url'), url_extract_path('not a url'), url_extract_protocol('nope')",
     [["4", "-1", "example.com", "/a/b", "", "s3", "x=1&y=2", None, None, None, None]],
     ["integer", "integer", "varchar", "varchar", "varchar", "varchar", "varchar", "varchar", "varchar",
      "varchar", "varchar"]),
    # quoted identifiers: spaces, reserved words, case kept in the label
    ('SELECT "x y", "Select"."from" AS "Mixed Case" FROM (SELECT 1 AS "x y", 2 AS "from") AS "Select"',
     [["1", "2"]], None),
]


@pytest.mark.parametrize("sql,want,types", CASES, ids=lambda v: v[:40] if isinstance(v, str) else None)
def test_trino_semantics(athena, sql, want, types):
    got, got_types = rows(athena, sql)
    assert got == want
    if types is not None:
        assert got_types == types


def test_quoted_labels_and_failed_cast(athena):
    execution = run(athena, 'SELECT 1 AS "Mixed Case", 2 AS "a""b"')
    result = athena.get_query_results(QueryExecutionId=execution["QueryExecutionId"])["ResultSet"]
    assert result["Rows"][0] == {"Data": [{"VarCharValue": "Mixed Case"}, {"VarCharValue": 'a"b'}]}
    failed = run(athena, "SELECT CAST('abc' AS integer)")["Status"]
    assert failed["State"] == "FAILED"
    assert failed["StateChangeReason"].startswith("INVALID_CAST_ARGUMENT: ")


def test_unnest_of_a_map_column_of_a_glue_table(local_session, athena):
    """A ``map<string,int>`` column (JSON table) unnested into key and value columns."""
    json_table(local_session, "maps", "t", {"id": "int", "m": "map<string,int>"},
               b'{"id": 1, "m": {"x": 10}}\n{"id": 2, "m": {"y": 20, "z": 30}}\n')
    got, types = rows(athena, "SELECT t.id, u.k, u.v FROM maps.t CROSS JOIN UNNEST(t.m) AS u(k, v) ORDER BY t.id, u.k")
    assert got == [["1", "x", "10"], ["2", "y", "20"], ["2", "z", "30"]]
    assert types == ["integer", "varchar", "integer"]


def test_unnest_of_an_array_of_rows_column(local_session, athena):
    """An ``array<struct<...>>`` column (JSON table) unnested into one column per field."""
    json_table(local_session, "rows", "orders", {"id": "int", "items": "array<struct<sku:string,qty:int>>"},
               b'{"id": 1, "items": [{"sku": "a", "qty": 2}, {"sku": "b", "qty": 1}]}\n'
               b'{"id": 2, "items": [{"sku": "c", "qty": 5}]}\n')
    got, types = rows(athena, "SELECT o.id, i.sku, i.qty FROM rows.orders o "
                              "CROSS JOIN UNNEST(o.items) AS i(sku, qty) ORDER BY o.id, i.sku")
    assert got == [["1", "a", "2"], ["1", "b", "1"], ["2", "c", "5"]]
    assert types == ["integer", "varchar", "integer"]
