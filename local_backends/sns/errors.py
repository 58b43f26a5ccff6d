"""SNS's error codes (botocore's ``sns`` model)."""
from local_backends.core.errors import error_class

NotFound = error_class("NotFound", 404)
InvalidParameter = error_class("InvalidParameter", 400)
InvalidParameterValue = error_class("ParameterValueInvalid", 400)
AuthorizationError = error_class("AuthorizationError", 403)
ResourceNotFound = error_class("ResourceNotFound", 404)
TagPolicy = error_class("TagPolicy", 400)
