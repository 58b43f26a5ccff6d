"""Comprehend's error codes (botocore's model: ``client.exceptions``) and the gap the
local backend reports when it has no model for a language AWS supports."""
from __future__ import annotations

from local_backends.core.errors import NotImplementedByBackend, error_class

TextSizeLimitExceededException = error_class("TextSizeLimitExceededException")
UnsupportedLanguageException = error_class("UnsupportedLanguageException")
BatchSizeLimitExceededException = error_class("BatchSizeLimitExceededException")
InvalidRequestException = error_class("InvalidRequestException")
ResourceNotFoundException = error_class("ResourceNotFoundException")
ResourceInUseException = error_class("ResourceInUseException")
ResourceUnavailableException = error_class("ResourceUnavailableException")
InvalidFilterException = error_class("InvalidFilterException")
JobNotFoundException = error_class("JobNotFoundException")


class LanguageNotServed(NotImplementedByBackend):
    """AWS serves this operation in this language, but the local backend has no model for it.

    Raised in the caller's process (like every ``NotImplementedByBackend``): the local
    backend never answers with a made-up result.
    """

    def __init__(self, operation: str, language: str, served: tuple[str, ...]) -> None:
        super().__init__("comprehend", operation, "local")
        self.args = (
            f"comprehend.{operation} in language {language!r} is not implemented by the 'local' "
            f"backend of aws_ml: it has models for {', '.join(served)} only (AWS supports "
            f"{language!r}; route 'comprehend' to another backend with "
            f"Session(services={{'comprehend': ...}}))",
        )
        self.language = language


def needs_text_extra(exc: ImportError) -> ImportError:
    """The ImportError to raise when a model package of the ``text`` extra is missing."""
    return ImportError(f"the local comprehend backend needs {exc.name} "
                       f"(pip install 'aws-ml[text]')", name=exc.name)
