"""DDL through Athena: it changes the Glue catalog, and the tables it makes are queryable."""
from __future__ import annotations

import io
import json

import pyarrow as pa
import pyarrow.parquet as pq

from .conftest import BUCKET, read_fraud


def ok(lake, sql, **kwargs) -> dict:
    execution = lake.run(sql, **kwargs)
    assert execution["Status"]["State"] == "SUCCEEDED", execution["Status"].get("StateChangeReason")
    return execution


def text_rows(lake, execution) -> list[str]:
    rows = lake.athena.get_query_results(QueryExecutionId=execution["QueryExecutionId"])["ResultSet"]["Rows"]
    return [r["Data"][0].get("VarCharValue") for r in rows]


def test_create_database_and_external_csv_table(lake):
    ok(lake, "CREATE DATABASE IF NOT EXISTS sales")
    assert lake.glue.get_database(Name="sales")["Database"]["Name"] == "sales"
    lake.s3.put_object(Bucket=BUCKET, Key="raw/orders/a.csv", Body=b"id,item,price\n1,tea,2.5\n2,\"cof,fee\",3\n")
    lake.s3.put_object(Bucket=BUCKET, Key="raw/orders/b.csv", Body=b"id,item,price\n3,milk,\n")
    execution = ok(lake, f"""
        CREATE EXTERNAL TABLE sales.orders (id bigint, item string, price double)
        ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.OpenCSVSerde'
        WITH SERDEPROPERTIES ('separatorChar' = ',', 'quoteChar' = '"')
        LOCATION 's3://{BUCKET}/raw/orders/' TBLPROPERTIES ('skip.header.line.count' = '1')""")
    assert execution["StatementType"] == "DDL"
    table = lake.glue.get_table(DatabaseName="sales", Name="orders")["Table"]
    assert [c["Name"] for c in table["StorageDescriptor"]["Columns"]] == ["id", "item", "price"]
    assert table["StorageDescriptor"]["Location"] == f"s3://{BUCKET}/raw/orders/"
    assert table["Parameters"]["skip.header.line.count"] == "1"
    header, rows, _ = lake.rows("SELECT id, item, price FROM sales.orders ORDER BY id")
    assert rows == [["1", "tea", "2.5"], ["2", "cof,fee", "3.0"], ["3", "milk", None]]


def test_lazy_simple_serde_without_header_and_json(lake):
    lake.s3.put_object(Bucket=BUCKET, Key="raw/pipes/x.txt", Body=b"1|a\n2|b\n")
    ok(lake, f"CREATE EXTERNAL TABLE pipes (n int, s string) ROW FORMAT DELIMITED FIELDS TERMINATED BY '|' "
             f"LOCATION 's3://{BUCKET}/raw/pipes/'")
    assert lake.rows("SELECT sum(n), max(s) FROM pipes")[1] == [["3", "b"]]
    lines = "\n".join(json.dumps({"k": i, "tags": ["x", "y"][: i % 3]}) for i in range(5))
    lake.s3.put_object(Bucket=BUCKET, Key="raw/events/e.json", Body=lines.encode())
    ok(lake, f"CREATE EXTERNAL TABLE events (k int, tags array<string>) "
             f"ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe' LOCATION 's3://{BUCKET}/raw/events/'")
    assert lake.rows("SELECT k, cardinality(tags) FROM events WHERE k < 3 ORDER BY k")[1] == \
        [["0", "0"], ["1", "1"], ["2", "2"]]


def test_show_describe_drop(fraud_lake):
    assert "claims_csv" in text_rows(fraud_lake, ok(fraud_lake, "SHOW TABLES"))
    assert "fraud" in text_rows(fraud_lake, ok(fraud_lake, "SHOW DATABASES"))
    described = text_rows(fraud_lake, ok(fraud_lake, "DESCRIBE claims_csv"))
    assert described[0].split("\t")[0].strip() == "policy_id"
    assert described[0].split("\t")[1].strip() == "bigint"
    ok(fraud_lake, "DROP TABLE claims_csv")
    assert "claims_csv" not in [t["Name"] for t in fraud_lake.glue.get_tables(DatabaseName="fraud")["TableList"]]
    # the data of an external table stays in S3
    assert fraud_lake.s3.list_objects_v2(Bucket=BUCKET, Prefix="csv/claims/")["KeyCount"] == 2
    failed = fraud_lake.run("DROP TABLE claims_csv")
    assert failed["Status"]["State"] == "FAILED"
    ok(fraud_lake, "DROP TABLE IF EXISTS claims_csv")


def test_ctas_writes_parquet_and_registers_the_table(fraud_lake):
    execution = ok(fraud_lake, f"""
        CREATE TABLE fraud.claims_by_type
        WITH (format = 'PARQUET', external_location = 's3://{BUCKET}/ctas/claims_by_type/')
        AS SELECT incident_type, count(*) AS n, sum(total_claim_amount) AS total
        FROM claims_parquet GROUP BY incident_type""")
    assert execution["StatementType"] == "DDL"
    assert execution["SubstatementType"] == "CREATE_TABLE_AS_SELECT"
    result = fraud_lake.athena.get_query_results(QueryExecutionId=execution["QueryExecutionId"])
    assert result["UpdateCount"] == 3
    table = fraud_lake.glue.get_table(DatabaseName="fraud", Name="claims_by_type")["Table"]
    assert [(c["Name"], c["Type"]) for c in table["StorageDescriptor"]["Columns"]] == \
        [("incident_type", "string"), ("n", "bigint"), ("total", "double")]
    keys = [o["Key"] for o in fraud_lake.s3.list_objects_v2(Bucket=BUCKET, Prefix="ctas/claims_by_type/")["Contents"]]
    assert keys and all(k.endswith(".parquet") for k in keys)
    body = fraud_lake.s3.get_object(Bucket=BUCKET, Key=keys[0])["Body"].read()
    assert pq.read_table(io.BytesIO(body)).num_rows == 3
    want = read_fraud("claims").groupby("incident_type").size().sort_index()
    rows = fraud_lake.rows("SELECT incident_type, n FROM claims_by_type ORDER BY incident_type")[1]
    assert rows == [[k, str(v)] for k, v in want.items()]
    again = fraud_lake.run("CREATE TABLE fraud.claims_by_type AS SELECT 1 AS x")
    assert again["Status"]["State"] == "FAILED"


def test_ctas_partitioned(fraud_lake):
    ok(fraud_lake, """CREATE TABLE claims_part WITH (partitioned_by = ARRAY['incident_severity'])
                      AS SELECT policy_id, fraud, incident_severity FROM claims_csv""")
    parts = fraud_lake.glue.get_partitions(DatabaseName="fraud", TableName="claims_part")["Partitions"]
    assert sorted(p["Values"][0] for p in parts) == sorted(read_fraud("claims").incident_severity.unique())
    rows = fraud_lake.rows("SELECT incident_severity, count(*) FROM claims_part GROUP BY 1 ORDER BY 1")[1]
    want = read_fraud("claims").groupby("incident_severity").size().sort_index()
    assert rows == [[k, str(v)] for k, v in want.items()]


def test_msck_repair_adds_partitions(lake):
    for year in (2023, 2024):
        for month in (1, 2):
            table = pa.table({"id": [year * 100 + month], "amount": [float(month)]})
            buf = io.BytesIO()
            pq.write_table(table, buf)
            lake.s3.put_object(Bucket=BUCKET, Key=f"sales/year={year}/month={month}/data.parquet",
                               Body=buf.getvalue())
    ok(lake, f"CREATE EXTERNAL TABLE sales (id bigint, amount double) PARTITIONED BY (year int, month int) "
             f"STORED AS PARQUET LOCATION 's3://{BUCKET}/sales/'")
    assert lake.rows("SELECT count(*) FROM sales")[1] == [["0"]]   # no partition registered yet
    repaired = ok(lake, "MSCK REPAIR TABLE sales")
    assert any("year=2024/month=2" in (r or "") for r in text_rows(lake, repaired))
    parts = lake.glue.get_partitions(DatabaseName="fraud", TableName="sales")["Partitions"]
    assert sorted(p["Values"] for p in parts) == [["2023", "1"], ["2023", "2"], ["2024", "1"], ["2024", "2"]]
    header, rows, info = lake.rows("SELECT year, month, id FROM sales WHERE year = 2024 ORDER BY month")
    assert rows == [["2024", "1", "202401"], ["2024", "2", "202402"]]
    assert [c["Type"] for c in info] == ["integer", "integer", "bigint"]
    assert text_rows(lake, ok(lake, "SHOW PARTITIONS sales")) == \
        ["year=2023/month=1", "year=2023/month=2", "year=2024/month=1", "year=2024/month=2"]
    assert text_rows(lake, ok(lake, "MSCK REPAIR TABLE sales")) == []   # nothing new
    ok(lake, "ALTER TABLE sales DROP PARTITION (year=2023, month=1)")
    assert lake.rows("SELECT count(*) FROM sales")[1] == [["3"]]
    assert lake.run("ALTER TABLE sales DROP PARTITION (year=2023, month=1)")["Status"]["State"] == "FAILED"
    ok(lake, f"ALTER TABLE sales ADD IF NOT EXISTS PARTITION (year=2023, month=1) "
             f"LOCATION 's3://{BUCKET}/sales/year=2023/month=1/' PARTITION (year=2024, month=1)")
    assert lake.rows("SELECT sum(id) FROM sales")[1] == [[str(202301 + 202302 + 202401 + 202402)]]


def test_partitions_registered_in_glue_map_to_key_value_prefixes(lake):
    """Partitions made with boto3 (no Location of their own) are read from ``k=v/`` under the table."""
    for region, day, rows in (("eu", 1, b"1,a\n2,b\n"), ("eu", 2, b"3,c\n"), ("us", 1, b"4,d\n"), ("us", 2, b"9,z\n")):
        lake.s3.put_object(Bucket=BUCKET, Key=f"events/region={region}/day={day}/part.csv", Body=rows)
    lake.glue.create_table(DatabaseName="fraud", TableInput={
        "Name": "events", "TableType": "EXTERNAL_TABLE", "Parameters": {"classification": "csv"},
        "PartitionKeys": [{"Name": "region", "Type": "string"}, {"Name": "day", "Type": "int"}],
        "StorageDescriptor": {
            "Columns": [{"Name": "n", "Type": "bigint"}, {"Name": "s", "Type": "string"}],
            "Location": f"s3://{BUCKET}/events/",
            "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
                          "Parameters": {"field.delim": ","}}}})
    out = lake.glue.batch_create_partition(DatabaseName="fraud", TableName="events", PartitionInputList=[
        {"Values": ["eu", "1"]}, {"Values": ["eu", "2"]}, {"Values": ["us", "1"]}])   # us/2 not registered
    assert out.get("Errors", []) == []
    header, rows, info = lake.rows("SELECT region, day, n, s FROM events ORDER BY n")
    assert rows == [["eu", "1", "1", "a"], ["eu", "1", "2", "b"], ["eu", "2", "3", "c"], ["us", "1", "4", "d"]]
    assert [c["Type"] for c in info] == ["varchar", "integer", "bigint", "varchar"]
    assert lake.rows("SELECT sum(n) FROM events WHERE region = 'eu' AND day = 2")[1] == [["3"]]
    assert text_rows(lake, ok(lake, "SHOW PARTITIONS events")) == ["region=eu/day=1", "region=eu/day=2",
                                                                   "region=us/day=1"]
