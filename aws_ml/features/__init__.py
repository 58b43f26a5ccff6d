"""Section 4, feature engineering: SageMaker Feature Store through boto3.

* :func:`create_feature_group` / :func:`infer_feature_definitions` — a group from a
  DataFrame's columns; :func:`wait_for_feature_group` polls until it is ``Created``.
* :func:`ingest` — rows into the online and offline stores (parallel ``PutRecord``),
  with an :class:`IngestionReport`; :func:`flush` writes the local offline buffer now.
* :func:`point_in_time_join` — a point-in-time correct training set over the offline
  stores (DuckDB ``ASOF LEFT JOIN``).
* :func:`feature_pipeline` — transformations as one scikit-learn ``Pipeline``
  (``aws_ml.features.transforms``, needs ``aws-ml[ml]``); :func:`correlation_analysis`
  and :class:`CorrelationFilter` for correlated features.

Needs ``aws-ml[data]`` (pandas, pyarrow, DuckDB).
"""
from .groups import create_feature_group, flush, infer_feature_definitions, wait_for_feature_group
from .ingestion import IngestionReport, ingest
from .training_sets import FeatureGroupSpec, point_in_time_join


def __getattr__(name: str):
    if name in ("feature_pipeline", "DateParts", "PairFeatures", "CorrelationFilter",
                "correlation_analysis"):
        from . import transforms
        return getattr(transforms, name)
    raise AttributeError(name)


__all__ = ["CorrelationFilter", "FeatureGroupSpec", "IngestionReport", "correlation_analysis",
           "create_feature_group", "feature_pipeline",
           "flush", "infer_feature_definitions", "ingest", "point_in_time_join",
           "wait_for_feature_group"]
