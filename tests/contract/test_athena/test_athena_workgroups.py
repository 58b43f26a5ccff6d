"""Workgroups (with an enforced result location), named queries, listing and stopping queries."""
from __future__ import annotations

import pytest

from .conftest import BUCKET


def test_workgroup_lifecycle(lake):
    athena = lake.athena
    athena.create_work_group(Name="analysts", Description="team",
                             Configuration={"ResultConfiguration": {"OutputLocation": f"s3://{BUCKET}/wg/"},
                                            "EnforceWorkGroupConfiguration": True})
    wg = athena.get_work_group(WorkGroup="analysts")["WorkGroup"]
    assert wg["State"] == "ENABLED" and wg["Description"] == "team"
    assert wg["Configuration"]["ResultConfiguration"]["OutputLocation"] == f"s3://{BUCKET}/wg/"
    with pytest.raises(athena.exceptions.InvalidRequestException):
        athena.create_work_group(Name="analysts")
    names = [w["Name"] for w in athena.list_work_groups()["WorkGroups"]]
    assert "primary" in names and "analysts" in names
    athena.update_work_group(WorkGroup="analysts", Description="v2", State="DISABLED")
    wg = athena.get_work_group(WorkGroup="analysts")["WorkGroup"]
    assert (wg["Description"], wg["State"]) == ("v2", "DISABLED")
    with pytest.raises(athena.exceptions.InvalidRequestException):
        athena.start_query_execution(QueryString="SELECT 1", WorkGroup="analysts")
    athena.delete_work_group(WorkGroup="analysts")
    with pytest.raises(athena.exceptions.InvalidRequestException):
        athena.get_work_group(WorkGroup="analysts")


def test_enforced_output_location(lake):
    lake.athena.create_work_group(Name="etl", Configuration={
        "ResultConfiguration": {"OutputLocation": f"s3://{BUCKET}/enforced/"},
        "EnforceWorkGroupConfiguration": True})
    execution = lake.run("SELECT 7", WorkGroup="etl",
                         ResultConfiguration={"OutputLocation": f"s3://{BUCKET}/client-side/"})
    query_id = execution["QueryExecutionId"]
    assert execution["ResultConfiguration"]["OutputLocation"] == f"s3://{BUCKET}/enforced/{query_id}.csv"
    assert lake.s3.get_object(Bucket=BUCKET, Key=f"enforced/{query_id}.csv")["Body"].read() == b'"_col0"\n"7"\n'
    assert lake.athena.list_query_executions(WorkGroup="etl")["QueryExecutionIds"] == [query_id]
    # without a location of its own, a query takes its workgroup's
    lake.athena.create_work_group(Name="loose", Configuration={
        "ResultConfiguration": {"OutputLocation": f"s3://{BUCKET}/loose/"},
        "EnforceWorkGroupConfiguration": False})
    execution = lake.run("SELECT 8", WorkGroup="loose")
    assert execution["ResultConfiguration"]["OutputLocation"].startswith(f"s3://{BUCKET}/loose/")


def test_named_queries(lake):
    athena = lake.athena
    ids = [athena.create_named_query(Name=f"q{i}", Database="fraud", QueryString=f"SELECT {i}")["NamedQueryId"]
           for i in range(3)]
    got = athena.get_named_query(NamedQueryId=ids[0])["NamedQuery"]
    assert (got["Name"], got["Database"], got["QueryString"], got["WorkGroup"]) == \
        ("q0", "fraud", "SELECT 0", "primary")
    assert sorted(athena.list_named_queries()["NamedQueryIds"]) == sorted(ids)
    batch = athena.batch_get_named_query(NamedQueryIds=[ids[1], "missing-id"])
    assert [q["NamedQueryId"] for q in batch["NamedQueries"]] == [ids[1]]
    assert [u["NamedQueryId"] for u in batch["UnprocessedNamedQueryIds"]] == ["missing-id"]
    athena.delete_named_query(NamedQueryId=ids[0])
    assert sorted(athena.list_named_queries()["NamedQueryIds"]) == sorted(ids[1:])


def test_list_query_executions_newest_first_and_paged(lake):
    ids = [lake.start(f"SELECT {i}") for i in range(5)]
    for query_id in ids:
        lake.wait(query_id)
    pages = list(lake.athena.get_paginator("list_query_executions").paginate(PaginationConfig={"PageSize": 2}))
    listed = [q for p in pages for q in p["QueryExecutionIds"]]
    assert listed == ids[::-1]
    assert len(pages) == 3


def test_stop_query_execution(fraud_lake):
    # 125 billion row combinations: this query runs until it is stopped
    query_id = fraud_lake.start("SELECT count(*) FROM claims_parquet a, claims_parquet b, claims_parquet c "
                                "WHERE a.total_claim_amount + b.total_claim_amount > c.total_claim_amount")
    while fraud_lake.athena.get_query_execution(QueryExecutionId=query_id)[
            "QueryExecution"]["Status"]["State"] == "QUEUED":
        pass
    fraud_lake.athena.stop_query_execution(QueryExecutionId=query_id)
    execution = fraud_lake.wait(query_id)
    assert execution["Status"]["State"] == "CANCELLED"
    assert "CompletionDateTime" in execution["Status"]
    with pytest.raises(fraud_lake.athena.exceptions.InvalidRequestException):
        fraud_lake.athena.get_query_results(QueryExecutionId=query_id)
    fraud_lake.athena.stop_query_execution(QueryExecutionId=query_id)   # stopping again is harmless


def test_client_request_token_is_idempotent(lake):
    first = lake.start("SELECT 1", ClientRequestToken="t" * 32)
    again = lake.start("SELECT 1", ClientRequestToken="t" * 32)
    assert first == again
