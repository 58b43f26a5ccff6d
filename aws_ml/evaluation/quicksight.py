"""Register an Athena table as a QuickSight data set with a data-evaluation dashboard.

The same boto3 calls run on every backend: on ``aws`` they create the real QuickSight data
source, data set and dashboard; on ``local`` the local QuickSight renders the dashboard to an
offline HTML page (``embed_url`` is then a ``file://`` URL).
"""
from __future__ import annotations

GLUE_TO_QUICKSIGHT = {"double": "DECIMAL", "float": "DECIMAL", "decimal": "DECIMAL", "bigint": "INTEGER",
                      "int": "INTEGER", "integer": "INTEGER", "smallint": "INTEGER", "tinyint": "INTEGER",
                      "boolean": "BOOLEAN", "date": "DATETIME", "timestamp": "DATETIME"}


def _column_type(glue_type: str) -> str:
    return GLUE_TO_QUICKSIGHT.get(glue_type.split("(")[0].lower(), "STRING")


def publish_dashboard(session, *, database: str, table: str, target: str, workgroup: str = "primary",
                      account_id: str | None = None, dashboard_id: str | None = None,
                      max_numeric: int = 4) -> dict[str, str]:
    """Create (or update) a QuickSight data source, data set and dashboard over
    ``database.table`` and return ``{"dashboard_id", "arn", "embed_url"}``.

    The dashboard shows the positive rate (KPI), the class balance, histograms and box plots
    of the first ``max_numeric`` numeric columns by ``target``, a scatter of two of them, and
    a heat map of the target rate over the first two categorical columns.
    """
    account = account_id or session.client("sts").get_caller_identity()["Account"]
    glue_table = session.client("glue").get_table(DatabaseName=database, Name=table)["Table"]
    columns = [(c["Name"], c["Type"]) for c in glue_table["StorageDescriptor"]["Columns"]]
    if target not in dict(columns):
        raise ValueError(f"{database}.{table} has no column {target!r}")
    qs = session.client("quicksight")
    source_id, dataset_id = f"athena-{workgroup}", f"{database}-{table}"
    dashboard_id = dashboard_id or f"evaluation-{database}-{table}"
    try:
        source_arn = qs.describe_data_source(AwsAccountId=account, DataSourceId=source_id)["DataSource"]["Arn"]
    except qs.exceptions.ResourceNotFoundException:
        source_arn = qs.create_data_source(AwsAccountId=account, DataSourceId=source_id, Name=f"Athena {workgroup}",
                                           Type="ATHENA", DataSourceParameters={
                                               "AthenaParameters": {"WorkGroup": workgroup}})["Arn"]
    try:
        dataset_arn = qs.describe_data_set(AwsAccountId=account, DataSetId=dataset_id)["DataSet"]["Arn"]
    except qs.exceptions.ResourceNotFoundException:
        dataset_arn = qs.create_data_set(
            AwsAccountId=account, DataSetId=dataset_id, Name=f"{database}.{table}", ImportMode="DIRECT_QUERY",
            PhysicalTableMap={"table": {"RelationalTable": {
                "DataSourceArn": source_arn, "Catalog": "AwsDataCatalog", "Schema": database, "Name": table,
                "InputColumns": [{"Name": n, "Type": _column_type(t)} for n, t in columns]}}})["Arn"]
    definition = evaluation_definition(dataset_arn, columns, target, max_numeric)
    name = f"Data evaluation — {database}.{table}"
    try:
        qs.describe_dashboard(AwsAccountId=account, DashboardId=dashboard_id)
        qs.update_dashboard(AwsAccountId=account, DashboardId=dashboard_id, Name=name, Definition=definition)
    except qs.exceptions.ResourceNotFoundException:
        qs.create_dashboard(AwsAccountId=account, DashboardId=dashboard_id, Name=name, Definition=definition)
    arn = f"arn:aws:quicksight:{session.region}:{account}:dashboard/{dashboard_id}"
    url = qs.get_dashboard_embed_url(AwsAccountId=account, DashboardId=dashboard_id, IdentityType="IAM")["EmbedUrl"]
    return {"dashboard_id": dashboard_id, "arn": arn, "embed_url": url}


def evaluation_definition(dataset_arn: str, columns: list[tuple[str, str]], target: str,
                          max_numeric: int = 4) -> dict:
    """A QuickSight dashboard ``Definition`` for evaluating a table's columns against ``target``."""
    col = lambda c: {"DataSetIdentifier": "data", "ColumnName": c}  # noqa: E731
    numeric = [n for n, t in columns if _column_type(t) in ("DECIMAL", "INTEGER") and n != target
               and not n.endswith("_id")][:max_numeric]
    categorical = [n for n, t in columns if _column_type(t) == "STRING" and n != target][:2]
    target_dim = {"CategoricalDimensionField": {"FieldId": "target", "Column": col(target)}}

    def title(text: str) -> dict:
        return {"Visibility": "VISIBLE", "FormatText": {"PlainText": text}}

    visuals: list[dict] = [
        {"KPIVisual": {"VisualId": "positive-rate", "Title": title(f"Mean of {target}"), "ChartConfiguration": {
            "FieldWells": {"Values": [{"NumericalMeasureField": {
                "FieldId": "rate", "Column": col(target),
                "AggregationFunction": {"SimpleNumericalAggregation": "AVERAGE"}}}]}}}},
        {"BarChartVisual": {"VisualId": "class-balance", "Title": title(f"Rows per {target}"), "ChartConfiguration": {
            "FieldWells": {"BarChartAggregatedFieldWells": {"Category": [target_dim], "Values": [
                {"CategoricalMeasureField": {"FieldId": "rows", "Column": col(target), "AggregationFunction": "COUNT"}}]}}}}},
    ]
    for i, name in enumerate(numeric):
        visuals.append({"HistogramVisual": {"VisualId": f"hist-{i}", "Title": title(f"Distribution of {name}"),
                                            "ChartConfiguration": {"FieldWells": {"HistogramAggregatedFieldWells": {
                                                "Values": [{"NumericalMeasureField": {
                                                    "FieldId": f"h{i}", "Column": col(name)}}]}}}}})
        visuals.append({"BoxPlotVisual": {"VisualId": f"box-{i}", "Title": title(f"{name} by {target}"),
                                          "ChartConfiguration": {"FieldWells": {"BoxPlotAggregatedFieldWells": {
                                              "GroupBy": [target_dim], "Values": [{"NumericalMeasureField": {
                                                  "FieldId": f"b{i}", "Column": col(name)}}]}}}}})
    if len(numeric) >= 2:
        visuals.append({"ScatterPlotVisual": {"VisualId": "scatter", "Title": title(f"{numeric[0]} vs {numeric[1]}"),
                                              "ChartConfiguration": {"FieldWells": {"ScatterPlotUnaggregatedFieldWells": {
                                                  "XAxis": [{"NumericalDimensionField": {"FieldId": "x", "Column": col(numeric[0])}}],
                                                  "YAxis": [{"NumericalDimensionField": {"FieldId": "y", "Column": col(numeric[1])}}],
                                                  "Category": [target_dim]}}}}})
    if len(categorical) == 2:
        visuals.append({"HeatMapVisual": {"VisualId": "heatmap", "Title": title(
            f"Mean {target} by {categorical[0]} and {categorical[1]}"), "ChartConfiguration": {"FieldWells": {
                "HeatMapAggregatedFieldWells": {
                    "Rows": [{"CategoricalDimensionField": {"FieldId": "r", "Column": col(categorical[0])}}],
                    "Columns": [{"CategoricalDimensionField": {"FieldId": "c", "Column": col(categorical[1])}}],
                    "Values": [{"NumericalMeasureField": {"FieldId": "m", "Column": col(target),
                                                          "AggregationFunction": {"SimpleNumericalAggregation": "AVERAGE"}}}]}}}}})
    return {"DataSetIdentifierDeclarations": [{"Identifier": "data", "DataSetArn": dataset_arn}],
            "Sheets": [{"SheetId": "evaluation", "Name": "Data evaluation", "Visuals": visuals}]}
