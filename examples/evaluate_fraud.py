"""Section 3, data evaluation, on the bundled fraud claims.

The raw CSV goes to S3, a Glue table is declared over it, and the same evaluation runs
from the S3 object and from Athena (the Glue table); the customers table supplies the
facet for the bias metrics. The dashboard is written to ./evaluation/index.html and to S3.

    python examples/evaluate_fraud.py                 # local backend (AWS_ML_BACKEND to change)
"""
from __future__ import annotations

import tempfile
from pathlib import Path

from aws_ml import Session, datasets
from aws_ml.evaluation import evaluate_data

BUCKET = "fraud-lake"


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="aws_ml_example_") as home, \
            Session(home=home) as session:               # backend: AWS_ML_BACKEND, else local
        s3 = session.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        s3.upload_file(str(datasets.path("fraud/claims")), BUCKET, "raw/claims/claims.csv")

        # 1. straight from the S3 object
        report = evaluate_data(f"s3://{BUCKET}/raw/claims/claims.csv", target="fraud",
                               session=session, facet="incident_severity")
        print(report.summary())
        print()
        print(report.balance.counts)
        print(report.outliers.loc[["total_claim_amount", "injury_claim", "vehicle_claim"],
                                  ["iqr_outliers", "iqr_pct", "z_outliers", "upper_fence"]])

        # 2. from Athena, over a Glue table declared on the same object
        glue = session.client("glue")
        glue.create_database(DatabaseInput={"Name": "fraud"})
        claims = datasets.load("fraud/claims")
        columns = [{"Name": c, "Type": {"int64": "bigint", "float64": "double"}.get(str(t), "string")}
                   for c, t in claims.dtypes.items()]
        glue.create_table(DatabaseName="fraud", TableInput={
            "Name": "claims", "TableType": "EXTERNAL_TABLE",
            "Parameters": {"classification": "csv", "skip.header.line.count": "1"},
            "StorageDescriptor": {
                "Columns": columns, "Location": f"s3://{BUCKET}/raw/claims/",
                "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
                "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
                "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
                              "Parameters": {"field.delim": ","}}}})
        from_athena = evaluate_data("fraud.claims", target="fraud", session=session,
                                    output_location=f"s3://{BUCKET}/athena-results/",
                                    na_values=["None", "N/A"])    # Athena keeps them as strings
        print("\nFrom Athena:", from_athena.balance.verdict, "—",
              from_athena.missing.loc["authorities_contacted", "missing"], "missing authorities_contacted")

        # 3. bias of a customer attribute: join the customers table on policy_id
        joined = claims.merge(datasets.load("fraud/customers"), on="policy_id")
        with_customers = evaluate_data(joined, target="fraud", facet="customer_gender")
        print("\nPre-training bias, facet customer_gender (Clarify's metrics):")
        print(with_customers.bias[0].table.round(4).to_string())

        out = Path("evaluation")
        with_customers.to_html(out / "index.html")
        uris = with_customers.save(session, f"s3://{BUCKET}/reports/evaluation/")
        print(f"\nDashboard: {out / 'index.html'} (offline, self-contained); in S3: {uris['html']}")


if __name__ == "__main__":
    main()
