"""aws_ml: the machine-learning pipeline as it is built on AWS, run locally or on AWS with
the same code.

``Session`` hands out real boto3 clients on every backend (``local``, ``moto``,
``localstack``, ``aws``).
"""
from .session import Session, default_home

__version__ = "0.1.0"
__all__ = ["Session", "default_home", "__version__"]
