"""CloudWatch Logs' error codes (botocore's ``logs`` model)."""
from local_backends.core.errors import error_class

ResourceNotFoundException = error_class("ResourceNotFoundException", 400)
ResourceAlreadyExistsException = error_class("ResourceAlreadyExistsException", 400)
InvalidParameterException = error_class("InvalidParameterException", 400)
LimitExceededException = error_class("LimitExceededException", 400)
OperationAbortedException = error_class("OperationAbortedException", 400)


def no_group() -> ResourceNotFoundException:
    return ResourceNotFoundException("The specified log group does not exist.")


def no_stream() -> ResourceNotFoundException:
    return ResourceNotFoundException("The specified log stream does not exist.")
