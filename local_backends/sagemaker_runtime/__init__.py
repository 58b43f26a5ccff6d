"""Local ``sagemaker-runtime``: InvokeEndpoint answered by the endpoints' model servers."""
from .backend import ModelError, SageMakerRuntimeBackend, ValidationError

__all__ = ["ModelError", "SageMakerRuntimeBackend", "ValidationError"]
