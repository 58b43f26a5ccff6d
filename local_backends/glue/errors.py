"""The Glue Data Catalog's error codes (botocore's glue model)."""
from local_backends.core.errors import error_class

EntityNotFoundException = error_class("EntityNotFoundException", 400)
AlreadyExistsException = error_class("AlreadyExistsException", 400)
InvalidInputException = error_class("InvalidInputException", 400)
ConcurrentModificationException = error_class("ConcurrentModificationException", 400)
