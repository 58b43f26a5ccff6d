"""QuickSight data sources, data sets and dashboards; local dashboards render with live data."""
from __future__ import annotations

import time

import pytest

from aws_ml import datasets
from tests.conftest import moto_gap

ACCOUNT = "123456789012"
NUMERIC = {"injury_claim": "double", "vehicle_claim": "double", "total_claim_amount": "double"}


def _columns():
    header = datasets.path("fraud/claims").read_text().splitlines()[0].split(",")
    return [(c, NUMERIC.get(c, "bigint" if c.startswith(("num_", "incident_month", "incident_day",
                                                          "incident_dow", "incident_hour", "fraud", "policy"))
                         else "string")) for c in header]


def _definition(dataset_arn: str) -> dict:
    col = lambda c: {"DataSetIdentifier": "claims", "ColumnName": c}  # noqa: E731
    measure = lambda fid, c, agg: {"NumericalMeasureField": {  # noqa: E731
        "FieldId": fid, "Column": col(c), "AggregationFunction": {"SimpleNumericalAggregation": agg}}}
    dim = lambda fid, c: {"CategoricalDimensionField": {"FieldId": fid, "Column": col(c)}}  # noqa: E731
    return {
        "DataSetIdentifierDeclarations": [{"Identifier": "claims", "DataSetArn": dataset_arn}],
        "Sheets": [{"SheetId": "overview", "Name": "Overview", "Visuals": [
            {"KPIVisual": {"VisualId": "rate", "ChartConfiguration": {"FieldWells": {
                "Values": [measure("f", "fraud", "AVERAGE")]}}}},
            {"BarChartVisual": {"VisualId": "by-severity", "ChartConfiguration": {"FieldWells": {
                "BarChartAggregatedFieldWells": {"Category": [dim("s", "incident_severity")],
                                                 "Values": [measure("n", "fraud", "SUM")]}}}}},
            {"HistogramVisual": {"VisualId": "amounts", "ChartConfiguration": {"FieldWells": {
                "HistogramAggregatedFieldWells": {"Values": [measure("a", "total_claim_amount", "SUM")]}}}}},
            {"TableVisual": {"VisualId": "table", "ChartConfiguration": {"FieldWells": {
                "TableAggregatedFieldWells": {"GroupBy": [dim("t", "incident_type")],
                                              "Values": [measure("v", "total_claim_amount", "AVERAGE")]}}}}},
            {"WordCloudVisual": {"VisualId": "words", "ChartConfiguration": {"FieldWells": {
                "WordCloudAggregatedFieldWells": {"GroupBy": [dim("w", "incident_type")]}}}}},
        ]}]}


def _create_all(qs, workgroup="dash"):
    src = qs.create_data_source(AwsAccountId=ACCOUNT, DataSourceId="athena", Name="Athena", Type="ATHENA",
                                DataSourceParameters={"AthenaParameters": {"WorkGroup": workgroup}})
    ds = qs.create_data_set(
        AwsAccountId=ACCOUNT, DataSetId="claims", Name="claims", ImportMode="DIRECT_QUERY",
        PhysicalTableMap={"t": {"RelationalTable": {
            "DataSourceArn": src["Arn"], "Schema": "fraud", "Name": "claims",
            "InputColumns": [{"Name": c, "Type": {"double": "DECIMAL", "bigint": "INTEGER"}.get(t, "STRING")}
                             for c, t in _columns()]}}})
    dash = qs.create_dashboard(AwsAccountId=ACCOUNT, DashboardId="fraud", Name="Fraud overview",
                               Definition=_definition(ds["Arn"]))
    return src, ds, dash


def test_data_sources(session):
    qs = session.client("quicksight")
    created = qs.create_data_source(AwsAccountId=ACCOUNT, DataSourceId="athena", Name="Athena", Type="ATHENA",
                                    DataSourceParameters={"AthenaParameters": {"WorkGroup": "dash"}})
    assert created["Arn"] == f"arn:aws:quicksight:us-east-1:{ACCOUNT}:datasource/athena"
    assert created["CreationStatus"] == "CREATION_SUCCESSFUL"
    source = qs.describe_data_source(AwsAccountId=ACCOUNT, DataSourceId="athena")["DataSource"]
    assert (source["Name"], source["Type"]) == ("Athena", "ATHENA")
    assert source["DataSourceParameters"] == {"AthenaParameters": {"WorkGroup": "dash"}}
    listed = qs.list_data_sources(AwsAccountId=ACCOUNT)["DataSources"]
    assert [d["DataSourceId"] for d in listed] == ["athena"]
    qs.delete_data_source(AwsAccountId=ACCOUNT, DataSourceId="athena")
    with pytest.raises(qs.exceptions.ResourceNotFoundException):
        qs.describe_data_source(AwsAccountId=ACCOUNT, DataSourceId="athena")
    assert qs.list_data_sources(AwsAccountId=ACCOUNT)["DataSources"] == []
    qs.create_data_source(AwsAccountId=ACCOUNT, DataSourceId="athena", Name="Athena", Type="ATHENA")
    moto_gap(session, "moto accepts a second data source with the same id")
    with pytest.raises(qs.exceptions.ResourceExistsException):
        qs.create_data_source(AwsAccountId=ACCOUNT, DataSourceId="athena", Name="again", Type="ATHENA")


def test_data_sets(session):
    qs = session.client("quicksight")
    src, ds, _ = _create_all(qs)
    assert ds["DataSetId"] == "claims"
    moto_gap(session, "moto names data sets data-set/<id> (AWS: dataset/<id>) and has no "
                      "describe/list/delete_data_set")
    assert ds["Arn"] == f"arn:aws:quicksight:us-east-1:{ACCOUNT}:dataset/claims"
    described = qs.describe_data_set(AwsAccountId=ACCOUNT, DataSetId="claims")["DataSet"]
    assert described["Name"] == "claims" and described["ImportMode"] == "DIRECT_QUERY"
    assert described["PhysicalTableMap"]["t"]["RelationalTable"]["DataSourceArn"] == src["Arn"]
    assert [c["Name"] for c in described["OutputColumns"]] == [c for c, _ in _columns()]
    assert [d["DataSetId"] for d in qs.list_data_sets(AwsAccountId=ACCOUNT)["DataSetSummaries"]] == ["claims"]
    with pytest.raises(qs.exceptions.ResourceExistsException):
        qs.create_data_set(AwsAccountId=ACCOUNT, DataSetId="claims", Name="again", ImportMode="DIRECT_QUERY",
                           PhysicalTableMap=described["PhysicalTableMap"])
    qs.delete_data_set(AwsAccountId=ACCOUNT, DataSetId="claims")
    with pytest.raises(qs.exceptions.ResourceNotFoundException):
        qs.describe_data_set(AwsAccountId=ACCOUNT, DataSetId="claims")
    assert qs.list_data_sets(AwsAccountId=ACCOUNT)["DataSetSummaries"] == []


def test_dashboards(session):
    qs = session.client("quicksight")
    _, ds, dash = _create_all(qs)
    assert dash["Arn"] == f"arn:aws:quicksight:us-east-1:{ACCOUNT}:dashboard/fraud"
    assert dash["VersionArn"] == dash["Arn"] + "/version/1"
    described = qs.describe_dashboard(AwsAccountId=ACCOUNT, DashboardId="fraud")["Dashboard"]
    assert described["Name"] == "Fraud overview" and described["Version"]["VersionNumber"] == 1
    listed = qs.list_dashboards(AwsAccountId=ACCOUNT)["DashboardSummaryList"]
    assert [d["DashboardId"] for d in listed] == ["fraud"]
    with pytest.raises(qs.exceptions.ResourceNotFoundException):
        qs.describe_dashboard(AwsAccountId=ACCOUNT, DashboardId="nope")
    moto_gap(session, "moto's create_dashboard ignores Definition; no describe_dashboard_definition "
                      "or delete_dashboard")
    assert described["Version"]["DataSetArns"] == [ds["Arn"]]
    assert [s["SheetId"] for s in described["Version"]["Sheets"]] == ["overview"]
    definition = qs.describe_dashboard_definition(AwsAccountId=ACCOUNT, DashboardId="fraud")["Definition"]
    assert [next(iter(v)) for v in definition["Sheets"][0]["Visuals"]][:2] == ["KPIVisual", "BarChartVisual"]
    with pytest.raises(qs.exceptions.ResourceExistsException):
        qs.create_dashboard(AwsAccountId=ACCOUNT, DashboardId="fraud", Name="again", Definition=definition)
    qs.delete_dashboard(AwsAccountId=ACCOUNT, DashboardId="fraud")
    with pytest.raises(qs.exceptions.ResourceNotFoundException):
        qs.describe_dashboard(AwsAccountId=ACCOUNT, DashboardId="fraud")
    assert qs.list_dashboards(AwsAccountId=ACCOUNT)["DashboardSummaryList"] == []


def test_dashboard_over_a_missing_data_set_is_refused(local_session):
    qs = local_session.client("quicksight")
    with pytest.raises(qs.exceptions.ResourceNotFoundException):
        qs.create_dashboard(AwsAccountId=ACCOUNT, DashboardId="d", Name="d", Definition=_definition(
            f"arn:aws:quicksight:us-east-1:{ACCOUNT}:dataset/nope"))
    assert qs.list_dashboards(AwsAccountId=ACCOUNT)["DashboardSummaryList"] == []


def _athena(session, sql):
    athena = session.client("athena")
    qid = athena.start_query_execution(QueryString=sql, WorkGroup="dash")["QueryExecutionId"]
    for _ in range(600):
        state = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]
        if state["State"] not in ("QUEUED", "RUNNING"):
            assert state["State"] == "SUCCEEDED", state
            return
        time.sleep(0.05)
    raise AssertionError("query did not finish")


def test_local_dashboard_renders_live_data(local_session):
    pytest.importorskip("plotly")
    s3 = local_session.client("s3")
    s3.create_bucket(Bucket="dash-data")
    s3.upload_file(str(datasets.path("fraud/claims")), "dash-data", "claims/claims.csv")
    local_session.client("athena").create_work_group(Name="dash", Configuration={
        "ResultConfiguration": {"OutputLocation": "s3://dash-data/results/"}})
    _athena(local_session, "CREATE DATABASE IF NOT EXISTS fraud")
    _athena(local_session, "CREATE EXTERNAL TABLE fraud.claims (" + ", ".join(f"{c} {t}" for c, t in _columns())
            + ") ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' LOCATION 's3://dash-data/claims/' "
              "TBLPROPERTIES ('skip.header.line.count'='1')")
    qs = local_session.client("quicksight")
    _create_all(qs)
    url = qs.get_dashboard_embed_url(AwsAccountId=ACCOUNT, DashboardId="fraud", IdentityType="IAM")["EmbedUrl"]
    assert url.startswith("file://")
    page = open(url[len("file://"):], encoding="utf-8").read()
    assert page.count('class="plotly-graph-div"') == 2           # the bar chart and the histogram
    assert "0.0328" in page                                     # the KPI: 164 frauds / 5,000 claims
    assert "Break-in" in page and "Collision" in page            # the table's groups
    assert "WordCloudVisual is not drawn" in page                # said, not silently left out
    assert "<script src=" not in page                            # self-contained: works offline
