"""CloudWatch's error codes (botocore's ``cloudwatch`` model: query-era codes, not class names)."""
from local_backends.core.errors import error_class

InvalidParameterValue = error_class("InvalidParameterValue", 400)
InvalidParameterCombination = error_class("InvalidParameterCombination", 400)
MissingParameter = error_class("MissingParameter", 400)
ValidationError = error_class("ValidationError", 400)
ResourceNotFound = error_class("ResourceNotFound", 404)
ResourceNotFoundException = error_class("ResourceNotFoundException", 404)
InvalidNextToken = error_class("InvalidNextToken", 400)
InvalidFormat = error_class("InvalidFormat", 400)
LimitExceeded = error_class("LimitExceeded", 400)
