"""evaluate_data from S3 (CSV, Parquet, a prefix of parts), from Athena (SQL and a Glue table)
and report.save to S3 — on the local backend and on moto (the ``session`` fixture); the
results equal those of the same table given as a DataFrame."""
from __future__ import annotations

import io
import json

import pandas as pd
import pytest

from aws_ml import datasets
from aws_ml.evaluation import AthenaQueryError, SourceError, evaluate_data

BUCKET = "lake"
LAZY_SIMPLE = "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"


@pytest.fixture(scope="module")
def claims():
    return datasets.load("fraud/claims")


@pytest.fixture(scope="module")
def expected(claims):
    """The report of the DataFrame input, as JSON, without where it came from."""
    return comparable(evaluate_data(claims, target="fraud", facet="incident_severity"))


def comparable(report) -> dict:
    data = report.to_dict()
    for key in ("source", "generated_at", "title"):
        data.pop(key)
    return data


@pytest.fixture
def s3(session):
    client = session.client("s3")
    client.create_bucket(Bucket=BUCKET)
    return client


def test_csv_object_gives_the_dataframe_report(session, s3, expected):
    s3.put_object(Bucket=BUCKET, Key="raw/claims.csv", Body=datasets.path("fraud/claims").read_bytes())
    report = evaluate_data(f"s3://{BUCKET}/raw/claims.csv", target="fraud", session=session,
                           facet="incident_severity")
    assert comparable(report) == expected
    assert report.source.kind == "s3" and report.source.objects == ["raw/claims.csv"]
    assert report.missing.loc["authorities_contacted", "missing"] == 1210


def test_parquet_parts_under_a_prefix(session, s3, claims, expected):
    half = len(claims) // 2
    for i, part in enumerate((claims.iloc[:half], claims.iloc[half:])):
        buf = io.BytesIO()
        part.to_parquet(buf, index=False)
        s3.put_object(Bucket=BUCKET, Key=f"table/part-{i}.parquet", Body=buf.getvalue())
    s3.put_object(Bucket=BUCKET, Key="table/_SUCCESS", Body=b"")
    report = evaluate_data(f"s3://{BUCKET}/table/", target="fraud", session=session, facet="incident_severity")
    assert report.source.objects == ["table/part-0.parquet", "table/part-1.parquet"]
    assert comparable(report) == expected


def test_save_writes_the_dashboard_and_the_json(session, s3, claims):
    report = evaluate_data(claims[["total_claim_amount", "incident_type", "fraud"]], target="fraud")
    uris = report.save(session, f"s3://{BUCKET}/reports/claims")
    assert uris == {"html": f"s3://{BUCKET}/reports/claims/index.html",
                    "json": f"s3://{BUCKET}/reports/claims/report.json"}
    page = s3.get_object(Bucket=BUCKET, Key="reports/claims/index.html")
    assert page["ContentType"].startswith("text/html")
    assert page["Body"].read().decode("utf-8") == report.to_html()
    stored = json.loads(s3.get_object(Bucket=BUCKET, Key="reports/claims/report.json")["Body"].read())
    assert stored == json.loads(report.to_json())
    assert stored["balance"]["positive_count"] == 164


def test_missing_objects_are_reported(session, s3):
    with pytest.raises(SourceError, match="No data object"):
        evaluate_data(f"s3://{BUCKET}/nothing/", target="fraud", session=session)
    with pytest.raises(s3.exceptions.NoSuchKey):
        evaluate_data(f"s3://{BUCKET}/nothing.csv", target="fraud", session=session)


# -- Athena ----------------------------------------------------------------------------------
@pytest.fixture
def glue_claims(session, s3, claims):
    """claims.csv in S3 with a Glue table fraud.claims over it."""
    s3.put_object(Bucket=BUCKET, Key="claims/claims.csv", Body=datasets.path("fraud/claims").read_bytes())
    types = {c: "bigint" if pd.api.types.is_integer_dtype(t) else "double" if pd.api.types.is_float_dtype(t)
             else "string" for c, t in claims.dtypes.items()}
    glue = session.client("glue")
    glue.create_database(DatabaseInput={"Name": "fraud"})
    glue.create_table(DatabaseName="fraud", TableInput={
        "Name": "claims", "TableType": "EXTERNAL_TABLE",
        "Parameters": {"classification": "csv", "skip.header.line.count": "1"},
        "StorageDescriptor": {
            "Columns": [{"Name": c, "Type": t} for c, t in types.items()],
            "Location": f"s3://{BUCKET}/claims/",
            "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
            "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
            "SerdeInfo": {"SerializationLibrary": LAZY_SIMPLE, "Parameters": {"field.delim": ","}}}})
    return session


def test_glue_table_through_athena(glue_claims, claims, expected):
    # Athena keeps "None" and "N/A" as strings; na_values makes them missing as pandas does
    report = evaluate_data("fraud.claims", target="fraud", session=glue_claims, facet="incident_severity",
                           output_location=f"s3://{BUCKET}/athena/", na_values=["None", "N/A"])
    assert report.source.kind == "glue_table" and report.source.query == "SELECT * FROM fraud.claims"
    assert report.source.query_execution_id
    got = comparable(report)
    assert got["balance"] == expected["balance"]
    assert got["missing"] == expected["missing"]
    for mine, theirs in zip(got["outliers"], expected["outliers"]):
        assert mine == pytest.approx(theirs)
    assert got["bias"] == expected["bias"]
    assert [f["message"] for f in got["findings"]] == [f["message"] for f in expected["findings"]]


def test_sql_query_through_athena(glue_claims, claims):
    report = evaluate_data(
        "SELECT incident_severity, total_claim_amount, injury_claim * 2 AS double_injury, fraud "
        "FROM claims WHERE incident_type = 'Collision'",
        target="fraud", session=glue_claims, database="fraud", output_location=f"s3://{BUCKET}/athena/")
    want = claims[claims.incident_type == "Collision"]
    assert report.n_rows == len(want) > 1000                      # more than one page of 1,000 rows
    assert report.balance.positive_count == int(want.fraud.sum())
    assert report.statistics.loc["total_claim_amount", "mean"] == pytest.approx(want.total_claim_amount.mean())
    assert report.statistics.loc["double_injury", "dtype"] == "int64"
    assert report.statistics.loc["total_claim_amount", "dtype"] == "float64"


def test_failed_query_raises(glue_claims):
    with pytest.raises(AthenaQueryError, match="FAILED") as info:
        evaluate_data("SELECT * FROM fraud.no_such_table", target="fraud", session=glue_claims,
                      output_location=f"s3://{BUCKET}/athena/")
    assert info.value.query_execution_id


def test_athena_result_types():
    """Athena returns strings; they are typed from ColumnInfo the way read_csv types a CSV."""
    from aws_ml.evaluation.sources import athena_frame

    columns = [{"Name": n, "Type": t} for n, t in (("id", "bigint"), ("n", "integer"), ("x", "double"),
                                                     ("ok", "boolean"), ("day", "date"), ("s", "varchar"))]
    rows = [["1", "7", "1.5", "true", "2024-01-02", "a"],
            ["2", None, "NaN", "false", "2024-01-03", None]]
    df = athena_frame(columns, rows)
    assert str(df["id"].dtype) == "int64" and df["id"].tolist() == [1, 2]
    assert str(df["n"].dtype) == "float64" and df["n"].isna().tolist() == [False, True]
    assert str(df["x"].dtype) == "float64" and df["x"].isna().tolist() == [False, True]
    assert df["ok"].tolist() == [True, False] and df["ok"].dtype == bool
    assert str(df["day"].dtype).startswith("datetime64")
    assert df["s"].tolist()[0] == "a" and df["s"].isna().tolist() == [False, True]


def test_glue_table_report_registered_in_quicksight(glue_claims, claims):
    """quicksight=True: the same call registers the table as a QuickSight data set and dashboard."""
    if glue_claims.backend == "moto":
        pytest.xfail("moto gap: moto's QuickSight has no describe_data_set (answers 'Not yet implemented')")
    # QuickSight queries Athena through the data source's work group: it needs a result location
    glue_claims.client("athena").create_work_group(Name="evaluation", Configuration={
        "ResultConfiguration": {"OutputLocation": f"s3://{BUCKET}/athena/"}})
    report = evaluate_data("fraud.claims", target="fraud", session=glue_claims, features=["incident_severity"],
                           workgroup="evaluation", quicksight=True, quicksight_account_id="123456789012")
    qs = glue_claims.client("quicksight")
    data_set = qs.describe_data_set(AwsAccountId="123456789012", DataSetId="fraud-claims")["DataSet"]
    table = data_set["PhysicalTableMap"]["table"]["RelationalTable"]
    assert (table["Schema"], table["Name"]) == ("fraud", "claims")
    assert [c["Name"] for c in data_set["OutputColumns"]] == list(claims.columns)
    dashboard = qs.describe_dashboard(AwsAccountId="123456789012", DashboardId=report.quicksight["dashboard_id"])
    assert dashboard["Dashboard"]["Version"]["DataSetArns"] == [data_set["Arn"]]
    assert report.to_dict()["quicksight"]["arn"] == dashboard["Dashboard"]["Arn"]
    assert report.quicksight["embed_url"].startswith("file://")     # rendered locally
    with pytest.raises(ValueError, match="Glue table"):
        evaluate_data(claims, target="fraud", quicksight=True)
