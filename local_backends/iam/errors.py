"""IAM's error codes (botocore's ``iam`` model)."""
from local_backends.core.errors import error_class

NoSuchEntity = error_class("NoSuchEntity", 404)
EntityAlreadyExists = error_class("EntityAlreadyExists", 409)
DeleteConflict = error_class("DeleteConflict", 409)
MalformedPolicyDocument = error_class("MalformedPolicyDocument", 400)
InvalidInput = error_class("InvalidInput", 400)
LimitExceeded = error_class("LimitExceeded", 409)
