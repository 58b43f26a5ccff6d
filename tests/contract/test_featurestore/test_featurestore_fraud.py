"""Acceptance: the bundled fraud tables as two feature groups, as in the SageMaker
example notebook (ingest, online lookups, Athena join over the offline stores)."""
import time

import pandas as pd
import pytest

from aws_ml import datasets, features

EVENT_TIME = 1_700_000_000.0


def _athena(session, sql, bucket) -> pd.DataFrame:
    ath = session.client("athena")
    qid = ath.start_query_execution(QueryString=sql, ResultConfiguration={
        "OutputLocation": f"s3://{bucket}/athena/"})["QueryExecutionId"]
    for _ in range(600):
        status = ath.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]
        if status["State"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            break
        time.sleep(0.05)
    assert status["State"] == "SUCCEEDED", status
    rows = [r["Data"] for page in ath.get_paginator("get_query_results").paginate(QueryExecutionId=qid)
            for r in page["ResultSet"]["Rows"]]
    header = [c.get("VarCharValue") for c in rows[0]]
    return pd.DataFrame([[c.get("VarCharValue") for c in r] for r in rows[1:]], columns=header)


@pytest.mark.slow
def test_fraud_feature_groups_end_to_end(session):
    bucket = "fraud-featurestore"
    session.client("s3").create_bucket(Bucket=bucket)
    claims, customers = datasets.load("fraud/claims"), datasets.load("fraud/customers")
    tables = {}
    for name, df in (("fraud-claims", claims), ("fraud-customers", customers)):
        df = df.assign(event_time=EVENT_TIME)
        desc = features.create_feature_group(session, name, df, "policy_id", "event_time", bucket=bucket)
        report = features.ingest(session, name, df, max_workers=2, progress=False)
        assert report.ok and report.succeeded == 5000, report.failed[:3]
        tables[name] = desc["OfflineStoreConfig"]["DataCatalogConfig"]

    runtime = session.client("sagemaker-featurestore-runtime")
    got = runtime.get_record(FeatureGroupName="fraud-customers", RecordIdentifierValueAsString="42")
    values = {f["FeatureName"]: f["ValueAsString"] for f in got["Record"]}
    row = customers.set_index("policy_id").loc[42]
    assert values["customer_age"] == str(row["customer_age"])
    assert values["policy_state"] == row["policy_state"]

    c, u = tables["fraud-claims"], tables["fraud-customers"]
    joined = _athena(session, f'''
        SELECT c.policy_id, c.total_claim_amount, c.fraud, u.customer_age, u.policy_state
        FROM "{c["Database"]}"."{c["TableName"]}" c
        JOIN "{u["Database"]}"."{u["TableName"]}" u ON c.policy_id = u.policy_id
        ORDER BY c.policy_id''', bucket)
    expected = claims.merge(customers, on="policy_id").sort_values("policy_id")
    assert len(joined) == 5000
    assert joined["policy_id"].astype(int).tolist() == expected["policy_id"].tolist()
    assert joined["customer_age"].astype(int).tolist() == expected["customer_age"].tolist()
    assert joined["fraud"].astype(int).tolist() == expected["fraud"].tolist()
    assert joined["total_claim_amount"].astype(float).round(6).tolist() == \
        expected["total_claim_amount"].round(6).tolist()

    entity = pd.DataFrame({"policy_id": claims["policy_id"], "event_time": EVENT_TIME + 1})
    pit = features.point_in_time_join(session, entity, ["fraud-claims", "fraud-customers"])
    assert len(pit) == 5000
    assert pit["customer_age"].tolist() == expected["customer_age"].tolist()
    assert pit["authorities_contacted"].isna().sum() == claims["authorities_contacted"].isna().sum()
