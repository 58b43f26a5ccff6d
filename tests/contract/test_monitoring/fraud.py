"""The fraud model the monitoring tests evaluate: trained in the test process on the bundled
claims (numeric columns), held-out split, and a shifted copy of the held-out features
(claim amounts × 3)."""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd

CLAIM_AMOUNTS = ["injury_claim", "vehicle_claim", "total_claim_amount"]


@dataclass(frozen=True)
class FraudSplit:
    X_train: pd.DataFrame
    X_test: pd.DataFrame
    y_train: pd.Series
    y_test: pd.Series
    test_rows: pd.DataFrame          # every column of the held-out claims (categorical ones too)
    proba_logistic: np.ndarray
    proba_boosting: np.ndarray

    @property
    def shifted(self) -> pd.DataFrame:
        """The held-out features with the claim amounts multiplied by 3."""
        out = self.X_test.copy()
        for c in CLAIM_AMOUNTS:
            out[c] = out[c] * 3
        return out


@functools.lru_cache(maxsize=1)
def fraud_split() -> FraudSplit:
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from aws_ml import datasets

    claims = datasets.load("fraud/claims")
    X = claims.select_dtypes("number").drop(columns=["policy_id", "fraud"])
    y = claims["fraud"]
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
    logistic = make_pipeline(StandardScaler(), LogisticRegression(class_weight="balanced", max_iter=1000))
    logistic.fit(X_train, y_train)
    boosting = GradientBoostingClassifier(n_estimators=60, max_depth=3, random_state=0).fit(X_train, y_train)
    return FraudSplit(X_train, X_test, y_train, y_test, claims.loc[X_test.index].drop(columns=["fraud"]),
                      logistic.predict_proba(X_test)[:, 1], boosting.predict_proba(X_test)[:, 1])
