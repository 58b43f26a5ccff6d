"""Acceptance: Athena queries over the fraud tables equal the same computation in pandas."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from .conftest import read_fraud

FORMATS = ["csv", "parquet"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_acceptance_join_aggregate_window(fraud_lake, fmt):
    """The fraud acceptance queries, each equal to pandas, over CSV and over Parquet."""
    check_join(fraud_lake, fmt)
    check_aggregate_with_approx_percentile(fraud_lake, fmt)
    check_window_functions(fraud_lake, fmt)


def check_join(fraud_lake, fmt):
    got = fraud_lake.frame(f"""
        SELECT c.policy_id, c.incident_type, c.total_claim_amount, u.customer_age, u.policy_state
        FROM fraud.claims_{fmt} c JOIN customers_{fmt} u ON c.policy_id = u.policy_id
        WHERE u.customer_age >= 30 ORDER BY c.policy_id""")
    claims, customers = read_fraud("claims"), read_fraud("customers")
    want = claims.merge(customers, on="policy_id")
    want = want[want.customer_age >= 30].sort_values("policy_id")
    want = want[["policy_id", "incident_type", "total_claim_amount", "customer_age", "policy_state"]]
    assert len(got) == len(want) > 1000
    assert got.policy_id.tolist() == want.policy_id.tolist()
    assert got.incident_type.tolist() == want.incident_type.tolist()
    assert got.policy_state.tolist() == want.policy_state.tolist()
    assert got.customer_age.tolist() == want.customer_age.tolist()
    np.testing.assert_allclose(got.total_claim_amount, want.total_claim_amount, rtol=1e-12)


def check_aggregate_with_approx_percentile(fraud_lake, fmt):
    got = fraud_lake.frame(f"""
        SELECT u.policy_state, count(*) AS n, sum(c.fraud) AS frauds,
               avg(c.total_claim_amount) AS mean_claim,
               approx_percentile(c.total_claim_amount, 0.5) AS median_claim
        FROM claims_{fmt} c JOIN customers_{fmt} u ON c.policy_id = u.policy_id
        GROUP BY u.policy_state ORDER BY u.policy_state""")
    df = read_fraud("claims").merge(read_fraud("customers"), on="policy_id")
    want = df.groupby("policy_state").agg(n=("policy_id", "size"), frauds=("fraud", "sum"),
                                          mean_claim=("total_claim_amount", "mean")).reset_index()
    assert got.policy_state.tolist() == want.policy_state.tolist()
    assert got.n.tolist() == want.n.tolist()
    assert got.frauds.tolist() == want.frauds.tolist()
    np.testing.assert_allclose(got.mean_claim, want.mean_claim, rtol=1e-9)
    for state, median in zip(got.policy_state, got.median_claim):
        values = df.loc[df.policy_state == state, "total_claim_amount"]
        assert median in set(values)                       # a value of the group...
        assert abs((values <= median).mean() - 0.5) <= 0.01  # ...at rank 0.5 within Athena's 1 %


def check_window_functions(fraud_lake, fmt):
    got = fraud_lake.frame(f"""
        SELECT policy_id, incident_type,
               rank() OVER (PARTITION BY incident_type ORDER BY total_claim_amount DESC) AS claim_rank,
               sum(total_claim_amount) OVER (PARTITION BY incident_type) AS type_total
        FROM claims_{fmt} ORDER BY policy_id""")
    df = read_fraud("claims").sort_values("policy_id")
    rank = df.groupby("incident_type")["total_claim_amount"].rank(method="min", ascending=False)
    total = df.groupby("incident_type")["total_claim_amount"].transform("sum")
    assert got.policy_id.tolist() == df.policy_id.tolist()
    assert got.claim_rank.tolist() == rank.astype(int).tolist()
    np.testing.assert_allclose(got.type_total, total, rtol=1e-9)


def check_csv_and_parquet_give_the_same_rows(fraud_lake):
    sql = ("SELECT incident_severity, authorities_contacted, count(*) AS n, max(vehicle_claim) AS top "
           "FROM claims_{} GROUP BY 1, 2 ORDER BY 1, 2")
    csv_rows = fraud_lake.rows(sql.format("csv"))
    parquet_rows = fraud_lake.rows(sql.format("parquet"))
    assert csv_rows == parquet_rows
    assert ["Minor", "None"] in [r[:2] for r in csv_rows[1]]   # 'None' is a value, not NULL


def test_csv_parquet_and_trino_functions(fraud_lake):
    check_csv_and_parquet_give_the_same_rows(fraud_lake)
    check_trino_functions(fraud_lake)
    check_unnest(fraud_lake)


def check_trino_functions(fraud_lake):
    header, rows, info = fraud_lake.rows("""
        SELECT try_cast(policy_state AS bigint) AS bad, cast(customer_age AS varchar) AS age_text,
               regexp_like(policy_liability, '^[0-9]+/[0-9]+$') AS liability_ok,
               regexp_extract(policy_liability, '^([0-9]+)/', 1) AS lower_limit,
               date_add('day', customer_age, DATE '2020-01-01') AS d,
               "policy_id" AS "quoted"
        FROM fraud.customers_parquet WHERE policy_id = 1""")
    assert header == ["bad", "age_text", "liability_ok", "lower_limit", "d", "quoted"]
    assert [c["Type"] for c in info] == ["bigint", "varchar", "boolean", "varchar", "date", "bigint"]
    customers = read_fraud("customers").set_index("policy_id")
    age = int(customers.loc[1, "customer_age"])
    liability = customers.loc[1, "policy_liability"]
    want_date = (pd.Timestamp("2020-01-01") + pd.Timedelta(days=age)).date().isoformat()
    assert rows == [[None, str(age), "true", liability.split("/")[0], want_date, "1"]]


def check_unnest(fraud_lake):
    header, rows, _ = fraud_lake.rows(
        "SELECT policy_id, x FROM claims_parquet CROSS JOIN UNNEST(ARRAY[num_injuries, num_witnesses]) AS t(x) "
        "WHERE policy_id = 2 ORDER BY x")
    claims = read_fraud("claims").set_index("policy_id")
    want = sorted([int(claims.loc[2, "num_injuries"]), int(claims.loc[2, "num_witnesses"])])
    assert rows == [["2", str(v)] for v in want]
