"""Queries that fail end FAILED with Athena's kind of message; API misuse raises."""
from __future__ import annotations

import pytest

BAD_QUERIES = [
    ("SELECT * FROM nope", "TABLE_NOT_FOUND: line 1:15: Table 'awsdatacatalog.fraud.nope' does not exist"),
    ("SELECT * FROM nowhere.t", "SCHEMA_NOT_FOUND: line 1:15: Schema 'nowhere' does not exist"),
    ("SELECT x FROM claims_csv", "COLUMN_NOT_FOUND: line 1:8: Column 'x' cannot be resolved"),
    ("SELECT FROM WHERE", "SYNTAX_ERROR: line 1:"),
    ("SELECT no_such_function(1)", "FUNCTION_NOT_FOUND: line 1:8:"),
    ("SELECT * FROM read_csv('/etc/passwd')", "FUNCTION_NOT_FOUND: line 1:15:"),
    ("SELECT * FROM read_text('/etc/passwd')", "FUNCTION_NOT_FOUND: line 1:15:"),
    ("SELECT * FROM '/etc/passwd'", "TABLE_NOT_FOUND: line 1:15:"),
    ('SELECT * FROM "/etc/passwd"', "TABLE_NOT_FOUND: line 1:15:"),
]

# ways out of the catalog a DuckDB user would try: every one ends FAILED and touches nothing
ESCAPES = [
    ("SELECT * FROM read_blob('/etc/passwd')", "FUNCTION_NOT_FOUND: line 1:15:"),
    ("SELECT * FROM read_parquet('/etc/passwd')", "FUNCTION_NOT_FOUND: line 1:15:"),
    ("SELECT * FROM glob('/etc/*')", "SYNTAX_ERROR"),
    ("SELECT * FROM query('SELECT 1')", "FUNCTION_NOT_FOUND: line 1:15:"),
    ("SELECT * FROM 'https://example.com/x.csv'", "TABLE_NOT_FOUND: line 1:15:"),
    ("SELECT * FROM claims_csv, LATERAL (SELECT * FROM read_csv('/etc/passwd'))", "FUNCTION_NOT_FOUND: line 1:"),
    ("WITH x AS (SELECT * FROM read_csv_auto('/etc/passwd')) SELECT * FROM x", "FUNCTION_NOT_FOUND: line 1:26:"),
    ("SELECT (SELECT count(*) FROM read_text('/etc/passwd'))", "FUNCTION_NOT_FOUND: line 1:30:"),
    ("SELECT * FROM memory.main.t", "CATALOG_NOT_FOUND: line 1:15:"),
    ("SELECT * FROM information_schema.tables", "SCHEMA_NOT_FOUND: line 1:15:"),
    ("SELECT getenv('HOME')", "FUNCTION_NOT_FOUND: line 1:8:"),
    ("COPY (SELECT 1) TO '{out}/copy.csv'", "NOT_SUPPORTED"),
    ("EXPORT DATABASE '{out}/export'", "SYNTAX_ERROR"),
    ("ATTACH '{out}/x.db' AS x", "SYNTAX_ERROR"),
    ("INSTALL httpfs", "NOT_SUPPORTED"),
    ("LOAD httpfs", "NOT_SUPPORTED"),
    ("SET enable_external_access = true", "NOT_SUPPORTED"),
    ("PRAGMA enable_external_access=true", "NOT_SUPPORTED"),
    ("CALL pragma_version()", "NOT_SUPPORTED"),
    ("DESCRIBE SELECT * FROM read_csv('/etc/passwd')", "NOT_SUPPORTED"),
    ("SELECT 1; COPY (SELECT 1) TO '{out}/two.csv'", "INVALID_INPUT: Only one sql statement is allowed"),
    ("CREATE TABLE fraud.esc WITH (external_location = '{out}/ctas/') AS SELECT 1 AS a",
     "INVALID_TABLE_PROPERTY: External location is not a valid S3 location"),
    ("CREATE TABLE fraud.esc2 AS SELECT * FROM read_csv('/etc/passwd')", "FUNCTION_NOT_FOUND: line 1:"),
]


def test_queries_cannot_leave_the_catalog(fraud_lake, tmp_path):
    """Security: no statement reads or writes a file outside the local store."""
    out = tmp_path / "outside"
    out.mkdir()
    ids = [fraud_lake.start(sql.format(out=out)) for sql, _ in ESCAPES]
    for query_id, (sql, prefix) in zip(ids, ESCAPES):
        status = fraud_lake.wait(query_id)["Status"]
        assert status["State"] == "FAILED", sql
        assert status["StateChangeReason"].startswith(prefix), (sql, status["StateChangeReason"])
        assert status["AthenaError"]["ErrorCategory"] == 2, sql     # the user's error, not a crash
    assert list(out.iterdir()) == []
    tables = [t["Name"] for t in fraud_lake.glue.get_tables(DatabaseName="fraud")["TableList"]]
    assert "esc" not in tables and "esc2" not in tables


def test_failed_queries(fraud_lake):
    """Each bad query ends FAILED with Athena's kind of reason, never a traceback."""
    ids = [fraud_lake.start(sql) for sql, _ in BAD_QUERIES]
    for query_id, (sql, prefix) in zip(ids, BAD_QUERIES):
        execution = fraud_lake.wait(query_id)
        status = execution["Status"]
        assert status["State"] == "FAILED", sql
        reason = status["StateChangeReason"]
        assert reason.startswith(prefix), (sql, reason)
        assert "Traceback" not in reason
        assert status["AthenaError"]["ErrorMessage"] == reason
        assert status["AthenaError"]["ErrorCategory"] == 2   # the user's error
        with pytest.raises(fraud_lake.athena.exceptions.InvalidRequestException):
            fraud_lake.athena.get_query_results(QueryExecutionId=query_id)


def test_api_errors(lake):
    athena = lake.athena
    with pytest.raises(athena.exceptions.InvalidRequestException):
        athena.get_query_execution(QueryExecutionId="00000000-0000-0000-0000-000000000000")
    with pytest.raises(athena.exceptions.InvalidRequestException) as excinfo:
        athena.start_query_execution(QueryString="SELECT 1")
    assert "output location" in excinfo.value.response["Error"]["Message"].lower()
    with pytest.raises(athena.exceptions.InvalidRequestException):
        athena.get_work_group(WorkGroup="no-such-workgroup")
    with pytest.raises(athena.exceptions.InvalidRequestException):
        athena.start_query_execution(QueryString="SELECT 1", WorkGroup="no-such-workgroup")


def test_missing_output_bucket_fails_the_query(lake):
    execution = lake.run("SELECT 1", ResultConfiguration={"OutputLocation": "s3://no-such-bucket/out/"})
    assert execution["Status"]["State"] == "FAILED"
    assert "no-such-bucket" in execution["Status"]["StateChangeReason"]


def test_batch_get_reports_unknown_ids(lake):
    good = lake.run("SELECT 1")["QueryExecutionId"]
    out = lake.athena.batch_get_query_execution(QueryExecutionIds=[good, "not-a-query"])
    assert [q["QueryExecutionId"] for q in out["QueryExecutions"]] == [good]
    assert [u["QueryExecutionId"] for u in out["UnprocessedQueryExecutionIds"]] == ["not-a-query"]
