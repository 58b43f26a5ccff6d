"""Model-quality and drift figures in CloudWatch, and the alarms that watch them.

``publish(session, evaluation_or_drift)`` puts the figures with ``put_metric_data``:

- a :class:`~aws_ml.monitoring.report.ModelEvaluation`: ``Accuracy``, ``BalancedAccuracy``,
  ``Precision``, ``Recall``, ``F1``, ``ROCAUC``, ``PRAUC``, ``LogLoss``, ``BrierScore``
  (classification) or ``RMSE``, ``MAE``, ``R2``, ``MAPE`` (regression);
- a :class:`~aws_ml.monitoring.drift.DriftReport`: ``feature_baseline_drift_<name>`` (the
  drift distance, as Model Monitor publishes it in ``aws/sagemaker/Endpoints/data-metrics``),
  ``feature_psi_<name>``, ``feature_non_null_<name>`` (completeness) and
  ``drift_violations`` (the number of violations).

``create_quality_alarms`` puts the alarms on them with ``put_metric_alarm``: the success
metric below (or, for errors, above) the spec's threshold, and ``drift_violations`` > 0.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Iterable

DEFAULT_NAMESPACE = "aws-ml/ModelQuality"
# where Model Monitor publishes (dimensions Endpoint and MonitoringSchedule): pass it as
# ``namespace=`` to put the drift figures beside those of a real monitoring schedule
MODEL_MONITOR_DATA_NAMESPACE = "aws/sagemaker/Endpoints/data-metrics"
MODEL_MONITOR_QUALITY_NAMESPACE = "aws/sagemaker/Endpoints/model-metrics"
BATCH = 20                       # put_metric_data's historical limit of items per call
METRIC_NAMES = {"accuracy": "Accuracy", "balanced_accuracy": "BalancedAccuracy", "precision": "Precision",
                "recall": "Recall", "f1": "F1", "roc_auc": "ROCAUC", "pr_auc": "PRAUC", "log_loss": "LogLoss",
                "brier": "BrierScore", "rmse": "RMSE", "mae": "MAE", "r2": "R2", "mape": "MAPE"}
LOWER_IS_BETTER = {"log_loss", "brier", "rmse", "mae", "mape"}
MAX_METRIC_NAME = 255


def metric_name(metric: str) -> str:
    """The CloudWatch name of a spec metric (``f1`` -> ``F1``, ``pr_auc`` -> ``PRAUC``)."""
    try:
        return METRIC_NAMES[metric]
    except KeyError:
        raise ValueError(f"unknown metric {metric!r}; expected one of {sorted(METRIC_NAMES)}") from None


def _dimensions(dimensions: dict[str, str] | None) -> list[dict[str, str]]:
    return [{"Name": str(k), "Value": str(v)} for k, v in (dimensions or {}).items()]


def metric_data(evaluation_or_drift: Any) -> list[tuple[str, float, str]]:
    """``(name, value, unit)`` of every figure a result publishes (finite values only)."""
    from .drift import DriftReport
    from .report import ModelEvaluation

    items: list[tuple[str, float, str]] = []
    if isinstance(evaluation_or_drift, ModelEvaluation):
        for key, name in METRIC_NAMES.items():
            value = evaluation_or_drift.metrics.get(key)
            if isinstance(value, (int, float)) and value == value:
                items.append((name, float(value), "None"))
    elif isinstance(evaluation_or_drift, DriftReport):
        for f in evaluation_or_drift.features:
            if f.get("distance") is not None:
                items.append((f"feature_baseline_drift_{f['name']}"[:MAX_METRIC_NAME], f["distance"], "None"))
            if f.get("psi") is not None:
                items.append((f"feature_psi_{f['name']}"[:MAX_METRIC_NAME], f["psi"], "None"))
            items.append((f"feature_non_null_{f['name']}"[:MAX_METRIC_NAME], f["completeness"], "None"))
        items.append(("drift_violations", float(len(evaluation_or_drift.violations)), "Count"))
    else:
        raise TypeError("publish takes a ModelEvaluation or a DriftReport; got "
                        f"{type(evaluation_or_drift).__name__}")
    return items


def publish(session, evaluation_or_drift: Any, *, namespace: str = DEFAULT_NAMESPACE,
            dimensions: dict[str, str] | None = None, timestamp: datetime | None = None) -> list[str]:
    """Put the figures of an evaluation or a drift report as CloudWatch metrics.

    :param dimensions: e.g. ``{"Model": "fraud-xgb"}`` or ``{"Endpoint": name}``.
    :returns: the metric names published.
    """
    at = timestamp or datetime.now(timezone.utc)
    dims = _dimensions(dimensions)
    items = metric_data(evaluation_or_drift)
    cw = session.client("cloudwatch")
    for i in range(0, len(items), BATCH):
        cw.put_metric_data(Namespace=namespace, MetricData=[
            {"MetricName": name, "Value": value, "Unit": unit, "Timestamp": at, "Dimensions": dims}
            for name, value, unit in items[i:i + BATCH]])
    return [name for name, _, _ in items]


def create_quality_alarms(session, *, dimensions: dict[str, str], namespace: str = DEFAULT_NAMESPACE,
                          spec=None, metric: str | None = None, threshold: float | None = None,
                          drift: bool = True, alarm_prefix: str | None = None,
                          alarm_actions: Iterable[str] = (), ok_actions: Iterable[str] = (),
                          period: int = 60, evaluation_periods: int = 1,
                          treat_missing_data: str = "missing") -> list[str]:
    """Alarms on the published figures.

    - the success metric: ``spec.metric`` / ``spec.threshold`` of a
      :class:`~aws_ml.problem.ProblemSpec`, or ``metric`` and ``threshold`` — ALARM when it
      falls below the threshold (rises above it for ``rmse``, ``mae``, ``mape``,
      ``log_loss``, ``brier``);
    - with ``drift``: ALARM when ``drift_violations`` > 0.

    :param dimensions: the dimensions the figures were published with.
    :returns: the alarm names (``<prefix>-<metric>-below-threshold``, ``<prefix>-drift-violations``).
    """
    if spec is not None:
        metric = metric or spec.metric
        threshold = threshold if threshold is not None else spec.threshold
    prefix = alarm_prefix or "-".join(str(v) for v in (dimensions or {}).values()) or "model"
    common: dict[str, Any] = {"Namespace": namespace, "Dimensions": _dimensions(dimensions),
                              "Period": period, "EvaluationPeriods": evaluation_periods,
                              "DatapointsToAlarm": evaluation_periods, "TreatMissingData": treat_missing_data,
                              "AlarmActions": list(alarm_actions), "OKActions": list(ok_actions)}
    cw = session.client("cloudwatch")
    names = []
    if metric is not None:
        if threshold is None:
            raise ValueError(f"an alarm on {metric} needs a threshold (spec.threshold or threshold=)")
        name = metric_name(metric)
        lower = metric in LOWER_IS_BETTER
        alarm = f"{prefix}-{name}-{'above' if lower else 'below'}-threshold"
        cw.put_metric_alarm(AlarmName=alarm, MetricName=name, Statistic="Minimum" if not lower else "Maximum",
                            Threshold=float(threshold),
                            ComparisonOperator="GreaterThanThreshold" if lower else "LessThanThreshold",
                            AlarmDescription=f"{name} of {prefix} {'above' if lower else 'below'} "
                                             f"{threshold} (the problem spec's threshold)", **common)
        names.append(alarm)
    if drift:
        alarm = f"{prefix}-drift-violations"
        cw.put_metric_alarm(AlarmName=alarm, MetricName="drift_violations", Statistic="Maximum",
                            Threshold=0.0, ComparisonOperator="GreaterThanThreshold",
                            AlarmDescription=f"Data drift or constraint violations in the traffic of {prefix}",
                            **common)
        names.append(alarm)
    return names


def alarm_states(session, names: list[str]) -> dict[str, str]:
    """``{alarm name: StateValue}``."""
    resp = session.client("cloudwatch").describe_alarms(AlarmNames=list(names))
    return {a["AlarmName"]: a["StateValue"] for a in resp["MetricAlarms"]}
