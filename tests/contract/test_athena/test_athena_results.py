"""GetQueryResults' shape and paging, and the result objects Athena writes to S3."""
from __future__ import annotations

import csv
import io

import pytest

from .conftest import BUCKET, OUTPUT, read_fraud


def test_result_set_shape(lake):
    execution = lake.run("SELECT 1 AS n, 'a' AS s, CAST(NULL AS varchar) AS missing, 2.5e0 AS x, "
                         "true AS b, DATE '2024-02-29' AS d, TIMESTAMP '2024-02-29 10:11:12' AS ts, "
                         "ARRAY[1, 2] AS arr, count(*) FROM (VALUES 1) t(v)")
    assert execution["Status"]["State"] == "SUCCEEDED"
    assert execution["StatementType"] == "DML"
    result = lake.athena.get_query_results(QueryExecutionId=execution["QueryExecutionId"])
    rows = result["ResultSet"]["Rows"]
    info = result["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]
    assert [c["Name"] for c in info] == ["n", "s", "missing", "x", "b", "d", "ts", "arr", "_col8"]
    assert [c["Type"] for c in info] == ["integer", "varchar", "varchar", "double", "boolean", "date",
                                         "timestamp", "array", "bigint"]
    assert rows[0] == {"Data": [{"VarCharValue": c["Name"]} for c in info]}   # the header row first
    assert rows[1]["Data"] == [{"VarCharValue": "1"}, {"VarCharValue": "a"}, {}, {"VarCharValue": "2.5"},
                               {"VarCharValue": "true"}, {"VarCharValue": "2024-02-29"},
                               {"VarCharValue": "2024-02-29 10:11:12.000"}, {"VarCharValue": "[1, 2]"},
                               {"VarCharValue": "1"}]
    assert len(rows) == 2 and "NextToken" not in result
    check_statistics_and_output_location(lake)
    check_max_results_over_1000_is_rejected(lake)


def check_statistics_and_output_location(lake):
    execution = lake.run("SELECT 42")
    query_id = execution["QueryExecutionId"]
    assert execution["ResultConfiguration"]["OutputLocation"] == f"{OUTPUT}{query_id}.csv"
    stats = execution["Statistics"]
    for key in ("EngineExecutionTimeInMillis", "DataScannedInBytes", "TotalExecutionTimeInMillis"):
        assert isinstance(stats[key], int) and stats[key] >= 0
    status = execution["Status"]
    assert status["CompletionDateTime"] >= status["SubmissionDateTime"]
    assert execution["QueryExecutionContext"] == {"Database": "fraud"}
    assert execution["WorkGroup"] == "primary"


def test_result_objects_in_s3(fraud_lake):
    execution = fraud_lake.run("SELECT policy_id, authorities_contacted, CAST(NULL AS bigint) AS nothing "
                               "FROM claims_csv WHERE policy_id <= 3 ORDER BY policy_id")
    query_id = execution["QueryExecutionId"]
    body = fraud_lake.s3.get_object(Bucket=BUCKET, Key=f"athena-results/{query_id}.csv")["Body"].read()
    lines = body.decode().splitlines()
    assert lines[0] == '"policy_id","authorities_contacted","nothing"'
    assert lines[1].startswith('"1","None",') and lines[1].endswith(",")   # NULL: empty, unquoted
    claims = read_fraud("claims").set_index("policy_id")
    assert list(csv.reader(io.StringIO(body.decode())))[1:] == [
        [str(i), claims.loc[i, "authorities_contacted"], ""] for i in (1, 2, 3)]
    head = fraud_lake.s3.head_object(Bucket=BUCKET, Key=f"athena-results/{query_id}.csv.metadata")
    assert head["ContentLength"] > 0


def test_paging(fraud_lake):
    check_paging_with_next_token(fraud_lake, 1000, 2500)
    check_paging_with_next_token(fraud_lake, 7, 20)
    check_paginator(fraud_lake)


def check_paging_with_next_token(fraud_lake, page_size, expected):
    execution = fraud_lake.run(f"SELECT policy_id FROM claims_parquet WHERE policy_id <= {expected} "
                               f"ORDER BY policy_id")
    query_id = execution["QueryExecutionId"]
    seen, token, pages = [], None, 0
    while True:
        kwargs = {"NextToken": token} if token else {}
        page = fraud_lake.athena.get_query_results(QueryExecutionId=query_id, MaxResults=page_size, **kwargs)
        pages += 1
        assert len(page["ResultSet"]["Rows"]) <= page_size
        seen.extend(r["Data"][0]["VarCharValue"] for r in page["ResultSet"]["Rows"])
        token = page.get("NextToken")
        if not token:
            break
    assert seen[0] == "policy_id"
    assert seen[1:] == [str(i) for i in range(1, expected + 1)]
    assert pages == -(-(expected + 1) // page_size)


def check_paginator(fraud_lake):
    execution = fraud_lake.run("SELECT policy_id FROM claims_csv ORDER BY policy_id")
    pages = list(fraud_lake.athena.get_paginator("get_query_results").paginate(
        QueryExecutionId=execution["QueryExecutionId"], PaginationConfig={"PageSize": 1000}))
    assert len(pages) == 6   # 5,000 rows + the header
    values = [r["Data"][0]["VarCharValue"] for p in pages for r in p["ResultSet"]["Rows"]]
    assert values == ["policy_id"] + [str(i) for i in range(1, 5001)]


def check_max_results_over_1000_is_rejected(lake):
    execution = lake.run("SELECT 1")
    with pytest.raises(lake.athena.exceptions.ClientError) as excinfo:
        lake.athena.get_query_results(QueryExecutionId=execution["QueryExecutionId"], MaxResults=1001)
    assert excinfo.value.response["Error"]["Code"] == "InvalidRequestException"
