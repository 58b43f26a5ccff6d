"""Local-only behaviour of the Athena engine: sandboxing, crash recovery, value formatting."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from local_backends.athena.dialect import parse, translate_select
from local_backends.athena.engine import QueryDatabase
from local_backends.athena.errors import QueryError
from local_backends.athena.results import column_info, format_table, java_double, metadata_bytes
from local_backends.athena.types import duckdb_to_hive, hive_to_duckdb
from local_backends.glue.errors import InvalidInputException
from local_backends.glue.expression import compile_expression


class _NoCatalog:
    def partitions(self, *args):
        return []


def test_user_sql_cannot_reach_files(tmp_path):
    """After lock(), DuckDB reads only the registered files, and writes none."""
    data = tmp_path / "data.csv"
    data.write_text("1\n2\n")
    qdb = QueryDatabase(_NoCatalog(), None, tmp_path / "scratch")
    try:
        qdb.con.execute(f"CREATE VIEW t AS SELECT * FROM read_csv(['{data}'], header=false)")
        qdb.files.append(str(data))
        qdb.lock()
        assert qdb.run("SELECT count(*) AS n FROM t")[2].column(0).to_pylist() == [2]
        for sql in ("SELECT * FROM read_csv('/etc/passwd')",
                    "SELECT * FROM read_text('/etc/passwd')",
                    "SELECT * FROM read_blob('/etc/passwd')",
                    "SELECT * FROM read_parquet('/etc/passwd')",
                    "SELECT * FROM glob('/etc/*')",
                    "SELECT * FROM query('SELECT * FROM read_csv(''/etc/passwd'')')",
                    "SELECT * FROM '/etc/passwd'",
                    "SELECT * FROM 'https://example.com/x.csv'",
                    f"SELECT * FROM read_csv('{data}.other')",      # next to an allowed file
                    f"COPY (SELECT 1) TO '{tmp_path / 'out.csv'}'",
                    f"EXPORT DATABASE '{tmp_path / 'export'}'",
                    "SET enable_external_access = true",
                    "RESET enable_external_access",
                    "SET allowed_paths = ['/etc/passwd']",
                    "INSTALL httpfs",
                    "LOAD httpfs",
                    f"ATTACH '{tmp_path / 'x.db'}'"):
            with pytest.raises(duckdb.Error):
                qdb.con.execute(sql)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv", "scratch"]   # nothing written
    finally:
        qdb.close()


def test_only_one_statement_and_no_table_functions():
    with pytest.raises(QueryError) as excinfo:
        parse("SELECT 1; SELECT 2")
    assert excinfo.value.code == "INVALID_INPUT"
    stmt = parse("SELECT * FROM read_parquet('/etc/x')")
    from local_backends.athena.dialect import table_refs
    with pytest.raises(QueryError) as excinfo:
        table_refs(stmt.ast, "default")
    assert excinfo.value.code == "FUNCTION_NOT_FOUND"


def test_trino_to_duckdb_translation():
    sql = translate_select(parse("SELECT approx_percentile(x, 0.9), date_add('day', 1, DATE '2024-01-01') "
                                 "FROM awsdatacatalog.db.t").ast)
    assert "QUANTILE_DISC" in sql.upper()
    assert "awsdatacatalog" not in sql.lower()
    con = duckdb.connect()
    con.execute("CREATE SCHEMA db; CREATE TABLE db.t AS SELECT range::DOUBLE AS x FROM range(11)")
    assert con.sql(sql).fetchall()[0][0] == 9.0
    assert str(con.sql(sql).types[1]) == "DATE"


def test_dates_stay_dates_and_trino_helpers(tmp_path):
    qdb = QueryDatabase(_NoCatalog(), None, tmp_path / "scratch")
    try:
        qdb.lock()
        sql = translate_select(parse(
            "SELECT date_trunc('month', DATE '2024-05-17') AS a, DATE '2024-01-31' + INTERVAL '1' MONTH AS b, "
            "date_add('day', 1, DATE '2024-02-28') AS c, format_datetime(TIMESTAMP '2024-01-02 03:04:05', "
            "'yyyy-MM-dd HH:mm') AS d, url_extract_host('https://example.com/x') AS e").ast)
        names, types, table = qdb.run(sql)
        assert types[:3] == ["DATE", "DATE", "DATE"]
        assert format_table(table, types).to_pylist()[0] == {
            "_c0": "2024-05-01", "_c1": "2024-02-29", "_c2": "2024-02-29", "_c3": "2024-01-02 03:04",
            "_c4": "example.com"}
    finally:
        qdb.close()


@pytest.mark.parametrize("value,text", [(2.0, "2.0"), (1e7, "1.0E7"), (1e-5, "1.0E-5"), (0.1, "0.1"),
                                        (12345678.9, "1.23456789E7"), (-0.0003, "-3.0E-4"),
                                        (float("nan"), "NaN"), (float("inf"), "Infinity")])
def test_doubles_print_as_java_does(value, text):
    assert java_double(value) == text


def test_format_table_vectorised_and_nested():
    table = pa.table({"d": pa.array([1.5, 1e8, None]), "l": pa.array([[1, 2], None, []]),
                      "s": pa.array([{"a": 1}, None, {"a": None}])})
    out = format_table(table, ["DOUBLE", "INTEGER[]", 'STRUCT("a" INTEGER)'])
    assert out.column(0).to_pylist() == ["1.5", "1.0E8", None]
    assert out.column(1).to_pylist() == ["[1, 2]", None, "[]"]
    assert out.column(2).to_pylist() == ["{a=1}", None, "{a=null}"]


def _protobuf_fields(data: bytes) -> list[tuple[int, object]]:
    """(field number, value) pairs of a protobuf message (varints and length-delimited only)."""
    out, i = [], 0

    def varint() -> int:
        nonlocal i
        shift = value = 0
        while True:
            byte = data[i]
            i += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return value
    while i < len(data):
        key = varint()
        if key & 7 == 0:
            out.append((key >> 3, varint()))
        else:
            size = varint()
            out.append((key >> 3, data[i:i + size]))
            i += size
    return out


def test_csv_metadata_is_athenas_binary_layout():
    columns = column_info(["ary", "n"], ["INTEGER[]", "VARCHAR"])
    data = metadata_bytes(columns, "20190423_125128_00001_ehtur")
    fields = _protobuf_fields(data)
    assert fields[0] == (1, b"20190423_125128_00001_ehtur")
    first = _protobuf_fields(fields[1][1])
    # the layout of a real Athena file for one array column named "ary"
    assert fields[1][1] == bytes.fromhex("0a046869766522036172792a036172793205617272617948 03".replace(" ", ""))
    assert dict(first)[6] == b"array"
    second = dict(_protobuf_fields(fields[2][1]))
    assert (second[4], second[6], second[7], second[10]) == (b"n", b"varchar", 2147483647, 1)


def test_glue_types_round_trip():
    assert hive_to_duckdb("array<struct<a:int,b:string>>") == 'STRUCT("a" INTEGER, "b" VARCHAR)[]'
    assert hive_to_duckdb("map<string,decimal(10,2)>") == "MAP(VARCHAR, DECIMAL(10, 2))"
    assert duckdb_to_hive("HUGEINT") == "bigint"
    assert duckdb_to_hive("VARCHAR[]") == "array<string>"


def test_glue_partition_expressions():
    keys = {"year": "int", "region": "string"}
    pred = compile_expression("year >= 2023 AND (region IN ('eu', 'us') OR region LIKE 'a%')", keys)
    assert pred({"year": "2024", "region": "eu"})
    assert pred({"year": "2023", "region": "asia"})
    assert not pred({"year": "2022", "region": "eu"})
    assert compile_expression("year BETWEEN 2020 AND 2021", keys)({"year": "2020", "region": "x"})
    with pytest.raises(InvalidInputException):
        compile_expression("nope = 1", keys)


def test_a_query_whose_process_died_is_failed(local_session):
    """A RUNNING record left by a dead process reads as FAILED, not RUNNING forever."""
    athena = local_session.client("athena")
    athena.list_work_groups()                      # creates the store
    backend = local_session.router.backend("athena", "us-east-1")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    pid = int(dead.stdout)
    with backend.store.transaction() as db:
        db.execute("INSERT INTO executions (id, seq, workgroup, query, statement_type, context, result_conf, "
                   "state, submitted, started, pid, runner) VALUES ('q-dead', 1, 'primary', 'SELECT 1', "
                   "'DML', '{}', ?, 'RUNNING', ?, ?, ?, ?)",
                   (json.dumps({"OutputLocation": "s3://b/q-dead.csv"}), time.time(), time.time(), pid,
                    f"{pid}-gone"))
    status = athena.get_query_execution(QueryExecutionId="q-dead")["QueryExecution"]["Status"]
    assert status["State"] == "FAILED"
    assert "exited" in status["StateChangeReason"]


def test_another_process_sees_the_query_and_its_results(local_session, home):
    """Query records and results are on disk: a second process reads what the first ran."""
    s3 = local_session.client("s3")
    s3.create_bucket(Bucket="out")
    script = (
        "import sys, time\n"
        "from aws_ml import Session\n"
        f"with Session(backend='local', home={str(home)!r}, region='us-east-1') as s:\n"
        "    a = s.client('athena')\n"
        "    q = a.start_query_execution(QueryString='SELECT 6 * 7 AS answer',\n"
        "        ResultConfiguration={'OutputLocation': 's3://out/r/'})['QueryExecutionId']\n"
        "    while a.get_query_execution(QueryExecutionId=q)['QueryExecution']['Status']['State'] "
        "in ('QUEUED', 'RUNNING'):\n"
        "        time.sleep(0.01)\n"
        "    print(q)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                          cwd=str(Path(__file__).resolve().parents[2]))
    query_id = done.stdout.strip().splitlines()[-1]
    athena = local_session.client("athena")
    execution = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
    assert execution["Status"]["State"] == "SUCCEEDED"
    rows = athena.get_query_results(QueryExecutionId=query_id)["ResultSet"]["Rows"]
    assert rows == [{"Data": [{"VarCharValue": "answer"}]}, {"Data": [{"VarCharValue": "42"}]}]
    assert query_id in athena.list_query_executions()["QueryExecutionIds"]
