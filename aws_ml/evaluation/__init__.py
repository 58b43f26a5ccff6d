"""Section 3 of the pipeline: data evaluation.

>>> from aws_ml.evaluation import evaluate_data
>>> report = evaluate_data("s3://lake/claims.csv", target="fraud", session=session,
...                        facet="incident_severity")
>>> report.balance.verdict, report.findings_about("missing")
>>> report.to_html("evaluation.html"); report.save(session, "s3://lake/reports/claims/")

Statistics, missing values, distributions, class balance, outliers, correlations, leakage
hints and SageMaker Clarify's pre-training bias metrics, from a DataFrame, S3, Athena or a
Glue table, as a Python object, JSON and a self-contained HTML dashboard. Needs the
``data`` extra (pandas, scipy) and, for the dashboard, the ``report`` extra (plotly).
"""
from .bias import BiasReport, pretraining_bias
from .balance import ClassBalance, class_balance
from .report import DataEvaluationReport, evaluate_data
from .sources import AthenaQueryError, SourceError

__all__ = ["evaluate_data", "DataEvaluationReport", "ClassBalance", "class_balance", "BiasReport",
           "pretraining_bias", "AthenaQueryError", "SourceError"]
