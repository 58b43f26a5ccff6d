"""The local SageMaker model server: one process per endpoint variant instance.

``handlers`` scores without HTTP (:func:`invocations`, the pure function); ``app`` wraps
it in Starlette/uvicorn on ``/ping`` and ``/invocations``.
"""
from .handlers import LoadedModel, ModelLoadError, ScoringError, invocations, load_model

__all__ = ["LoadedModel", "ModelLoadError", "ScoringError", "invocations", "load_model"]
