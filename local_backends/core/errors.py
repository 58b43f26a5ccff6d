"""AWS errors raised by local backends.

A backend raises one of these anywhere; the dispatcher turns it into the parsed error
botocore expects (``{"Error": {"Code", "Message"}, "ResponseMetadata": ...}``), so the
caller gets the same ``ClientError`` subclass (``client.exceptions.NoSuchKey``, ...) that
AWS would produce.
"""
from __future__ import annotations


class AwsError(Exception):
    """An error AWS would return: an error code, an HTTP status and a message."""

    code = "InternalError"
    status = 400
    sender_fault = True

    def __init__(self, message: str = "", *, code: str | None = None, status: int | None = None,
                 **extra: object) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.extra = {k: v for k, v in extra.items() if v is not None}

    def to_error(self) -> dict:
        err = {"Code": self.code, "Message": self.message}
        err.update({k: str(v) for k, v in self.extra.items()})
        return err

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"{type(self).__name__}({self.code}: {self.message})"


def error_class(code: str, status: int = 400, sender_fault: bool = True) -> type[AwsError]:
    """Make an ``AwsError`` subclass for one AWS error code."""
    return type(code, (AwsError,), {"code": code, "status": status, "sender_fault": sender_fault})


class ValidationException(AwsError):
    code = "ValidationException"


class ResourceNotFound(AwsError):
    code = "ResourceNotFound"


class ResourceInUse(AwsError):
    code = "ResourceInUse"


class InternalError(AwsError):
    code = "InternalError"
    status = 500
    sender_fault = False


class NotImplementedByBackend(NotImplementedError):
    """The chosen backend does not implement an operation.

    Raised in the caller's process (not turned into a ``ClientError``): it is a gap of the
    backend, not an answer AWS would give.
    """

    def __init__(self, service: str, operation: str, backend: str = "local", message: str | None = None) -> None:
        """``message`` says what is missing when it is a feature of an operation the
        backend otherwise serves (a Pipe-mode training job, warm-started tuning...)."""
        super().__init__(message or (
            f"{service}.{operation} is not implemented by the {backend!r} backend of aws_ml "
            f"(route {service!r} to another backend with Session(services={{{service!r}: ...}}))"
        ))
        self.service = service
        self.operation = operation
        self.backend = backend
