"""CloudFormation's error codes (botocore's ``cloudformation`` model)."""
from local_backends.core.errors import error_class

ValidationError = error_class("ValidationError", 400)
AlreadyExistsException = error_class("AlreadyExistsException", 400)
InsufficientCapabilitiesException = error_class("InsufficientCapabilitiesException", 400)
ChangeSetNotFound = error_class("ChangeSetNotFound", 404)
InvalidChangeSetStatus = error_class("InvalidChangeSetStatus", 400)
TokenAlreadyExistsException = error_class("TokenAlreadyExistsException", 400)


class TemplateError(Exception):
    """A template CloudFormation refuses ("Template format error: ...")."""


def template_error(message: str) -> ValidationError:
    return ValidationError(f"Template format error: {message}")
