"""Athena's errors: API errors (``InvalidRequestException``) and failed queries."""
from __future__ import annotations

from local_backends.core.errors import AwsError


class InvalidRequestException(AwsError):
    code = "InvalidRequestException"

    def __init__(self, message: str, athena_code: str = "INVALID_INPUT") -> None:
        super().__init__(message, AthenaErrorCode=athena_code)


class QueryError(Exception):
    """Why a query ended FAILED, worded as Athena words it (``TABLE_NOT_FOUND: ...``)."""

    def __init__(self, code: str, message: str, category: int = 2) -> None:
        reason = f"{code}: {message}" if code else message
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.category = category  # AthenaError.ErrorCategory: 1 system, 2 user, 3 other
