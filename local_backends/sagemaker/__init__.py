"""Local Amazon SageMaker, one mixin per resource family.

* :mod:`.training` — training jobs, run as detached local processes that reproduce the
  SageMaker training-container contract (script mode for the scikit-learn and XGBoost
  images, and the built-in XGBoost algorithm).

Hosting, feature groups and labelling jobs join as further mixins.
"""
from __future__ import annotations

from local_backends.core.base import Backend

from .automl import AutoMLJobs
from .feature_groups import FeatureGroups
from .hosting import Hosting
from .labeling import LabelingJobs
from .training import TrainingJobs, UnsupportedTrainingJob
from .tuning import TuningJobs


class SageMakerBackend(Hosting, TrainingJobs, TuningJobs, AutoMLJobs, FeatureGroups, LabelingJobs, Backend):
    """The local SageMaker backend."""

    service = "sagemaker"


__all__ = ["SageMakerBackend", "UnsupportedTrainingJob"]
