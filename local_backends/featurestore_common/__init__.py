"""State shared by the SageMaker Feature Store control plane and its runtime.

The ``sagemaker`` backend (``CreateFeatureGroup`` ...) and the
``sagemaker-featurestore-runtime`` backend (``PutRecord`` ...) are two botocore services
over one store: feature-group definitions, the online store (one row per record
identifier) and the offline-store buffer (rows waiting to be written to S3 as Parquet)
live in one SQLite file, ``home/featurestore/<account>/<region>/featurestore.db``.
"""
from .groups import RESERVED_FEATURE_NAMES, FeatureGroupInfo, feature_group_arn
from .offline import OfflineWriter, ensure_glue_table, glue_table_input
from .store import open_store
from .values import event_time_seconds, parse_value

__all__ = ["FeatureGroupInfo", "OfflineWriter", "RESERVED_FEATURE_NAMES",
           "ensure_glue_table", "event_time_seconds", "feature_group_arn", "glue_table_input",
           "open_store", "parse_value"]
