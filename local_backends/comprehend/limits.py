"""AWS's limits for the real-time APIs: document sizes in UTF-8 bytes, batch sizes, and
which languages each operation accepts.

Sizes are those of the Comprehend developer guide ("Guidelines and quotas"): 100 KB for
dominant language, entities, key phrases and PII; 5 KB for sentiment and syntax; 5 KB for
every document of a batch; 25 documents a batch. Languages: sentiment, entities and key
phrases in the 12 primary languages; syntax in en/es/fr/de/it/pt; PII in en/es; custom
classification in de/en/es/fr/it/pt. A code outside an operation's request enum is refused
with ValidationException by the dispatcher (botocore's model); one inside it that AWS does
not serve for the operation gets UnsupportedLanguageException here.
"""
from __future__ import annotations

from .errors import (BatchSizeLimitExceededException, TextSizeLimitExceededException,
                     UnsupportedLanguageException)

KB = 1000
SINGLE_DOCUMENT_BYTES = {
    "DetectDominantLanguage": 100 * KB,
    "DetectEntities": 100 * KB,
    "DetectKeyPhrases": 100 * KB,
    "DetectPiiEntities": 100 * KB,
    "ContainsPiiEntities": 100 * KB,
    "DetectSentiment": 5 * KB,
    "DetectSyntax": 5 * KB,
    "ClassifyDocument": 10 * KB,
}
BATCH_DOCUMENT_BYTES = 5 * KB
BATCH_MAX_DOCUMENTS = 25

PRIMARY_LANGUAGES = ("en", "es", "fr", "de", "it", "pt", "ar", "hi", "ja", "ko", "zh", "zh-TW")
AWS_LANGUAGES = {
    # operation family -> languages AWS serves (the enum of the request may be wider)
    "sentiment": PRIMARY_LANGUAGES,
    "entities": PRIMARY_LANGUAGES,
    "key_phrases": PRIMARY_LANGUAGES,
    "syntax": ("en", "es", "fr", "de", "it", "pt"),
    "pii": ("en", "es"),
    "custom_classification": ("de", "en", "es", "fr", "it", "pt"),
}


def check_text_size(text: str, limit: int) -> None:
    """``TextSizeLimitExceededException`` when ``text`` is over ``limit`` UTF-8 bytes."""
    size = len(text.encode("utf-8"))
    if size > limit:
        raise TextSizeLimitExceededException(
            f"Input text size exceeds limit. Max length of request text allowed is {limit} bytes "
            f"while in this request the text size is {size} bytes")


def check_batch(text_list: list[str]) -> None:
    """The batch limits: at most 25 documents, each at most 5 KB of UTF-8."""
    if len(text_list) > BATCH_MAX_DOCUMENTS:
        raise BatchSizeLimitExceededException(
            f"The number of documents in the request exceeds the limit of {BATCH_MAX_DOCUMENTS}. "
            f"Try your request again with fewer documents.")
    for text in text_list:
        check_text_size(text, BATCH_DOCUMENT_BYTES)


def check_language(family: str, language: str) -> None:
    """``UnsupportedLanguageException`` for a language AWS does not serve for ``family``."""
    if language not in AWS_LANGUAGES[family]:
        raise UnsupportedLanguageException(
            f"Amazon Comprehend can't process the language of the input text: {language!r} is "
            f"not supported for this operation (supported: {', '.join(AWS_LANGUAGES[family])}).")
