"""Sections 6–7 of the pipeline: model evaluation and monitoring.

>>> from aws_ml.monitoring import evaluate_model, suggest_baseline, check_drift, publish
>>> ev = evaluate_model(y_test, y_score=proba, features=X_test)       # metrics, slices
>>> ev.to_html("model.html")                                          # ROC, PR, calibration...
>>> baseline = suggest_baseline(X_train, session=session, output_uri="s3://b/baseline")
>>> drift = check_drift(baseline, "s3://b/capture/my-endpoint", session=session)
>>> publish(session, drift, dimensions={"Model": "fraud"})            # CloudWatch
>>> create_quality_alarms(session, dimensions={"Model": "fraud"}, metric="f1", threshold=0.5)

Model-quality metrics, a Model Monitor-style baseline (``statistics.json``,
``constraints.json``), drift of data or of an endpoint's data capture
(``constraint_violations.json``), CloudWatch metrics and alarms, and an HTML report. Needs
the ``data`` and ``ml`` extras (pandas, scipy, scikit-learn) and, for the report,
``report`` (plotly).
"""
from .baseline import Baseline, suggest_baseline
from .capture import CaptureError, CapturedData, read_capture
from .cloudwatch import DEFAULT_NAMESPACE, alarm_states, create_quality_alarms, publish
from .drift import DriftReport, check_drift
from .metrics import MetricsError
from .report import ModelEvaluation, evaluate_model

__all__ = ["DEFAULT_NAMESPACE", "evaluate_model", "ModelEvaluation", "suggest_baseline", "Baseline", "check_drift", "DriftReport",
           "read_capture", "CapturedData", "CaptureError", "publish", "create_quality_alarms", "alarm_states",
           "MetricsError"]
