"""The real-time detection operations (single documents and batches of up to 25)."""
from __future__ import annotations

from typing import Callable

from local_backends.core.base import operation
from local_backends.core.errors import NotImplementedByBackend

from . import entities as _entities
from . import language as _language
from . import nlp as _nlp
from . import pii as _pii
from . import sentiment as _sentiment
from .errors import InvalidRequestException, LanguageNotServed
from .limits import SINGLE_DOCUMENT_BYTES, check_batch, check_language, check_text_size


def _served(operation_name: str, family: str, language: str, served: tuple[str, ...]) -> None:
    check_language(family, language)  # AWS's matrix first: UnsupportedLanguageException
    if language not in served:
        raise LanguageNotServed(operation_name, language, served)


def _batch(text_list: list[str], analyse: Callable[[str], dict]) -> dict:
    check_batch(text_list)
    return {"ResultList": [{"Index": i, **analyse(text)} for i, text in enumerate(text_list)],
            "ErrorList": []}


class DetectionMixin:
    """``Detect*``, ``BatchDetect*`` and the PII operations of Comprehend."""

    # --- dominant language
    @operation
    def detect_dominant_language(self, Text: str) -> dict:
        check_text_size(Text, SINGLE_DOCUMENT_BYTES["DetectDominantLanguage"])
        return {"Languages": _language.dominant_languages(Text)}

    @operation
    def batch_detect_dominant_language(self, TextList: list[str]) -> dict:
        return _batch(TextList, lambda t: {"Languages": _language.dominant_languages(t)})

    # --- sentiment
    @operation
    def detect_sentiment(self, Text: str, LanguageCode: str) -> dict:
        check_text_size(Text, SINGLE_DOCUMENT_BYTES["DetectSentiment"])
        _served("DetectSentiment", "sentiment", LanguageCode, _sentiment.SERVED)
        return _sentiment.sentiment(Text, LanguageCode)

    @operation
    def batch_detect_sentiment(self, TextList: list[str], LanguageCode: str) -> dict:
        _served("BatchDetectSentiment", "sentiment", LanguageCode, _sentiment.SERVED)
        return _batch(TextList, lambda t: _sentiment.sentiment(t, LanguageCode))

    # --- entities
    @operation
    def detect_entities(self, LanguageCode: str | None = None, Text: str | None = None,
                        EndpointArn: str | None = None, Bytes: bytes | None = None,
                        DocumentReaderConfig: dict | None = None) -> dict:
        if EndpointArn is not None or Bytes is not None or DocumentReaderConfig is not None:
            # custom entity recognizers and semi-structured documents are not served
            raise NotImplementedByBackend("comprehend", "DetectEntities with EndpointArn, Bytes "
                                          "or DocumentReaderConfig", "local")
        if Text is None or LanguageCode is None:
            raise InvalidRequestException(
                "Text and LanguageCode are required when no EndpointArn is given")
        check_text_size(Text, SINGLE_DOCUMENT_BYTES["DetectEntities"])
        _served("DetectEntities", "entities", LanguageCode, _nlp.SERVED)
        return {"Entities": _entities.entities(Text, LanguageCode)}

    @operation
    def batch_detect_entities(self, TextList: list[str], LanguageCode: str) -> dict:
        _served("BatchDetectEntities", "entities", LanguageCode, _nlp.SERVED)
        return _batch(TextList, lambda t: {"Entities": _entities.entities(t, LanguageCode)})

    # --- key phrases
    @operation
    def detect_key_phrases(self, Text: str, LanguageCode: str) -> dict:
        check_text_size(Text, SINGLE_DOCUMENT_BYTES["DetectKeyPhrases"])
        _served("DetectKeyPhrases", "key_phrases", LanguageCode, _nlp.SERVED)
        return {"KeyPhrases": _nlp.key_phrases(Text, LanguageCode)}

    @operation
    def batch_detect_key_phrases(self, TextList: list[str], LanguageCode: str) -> dict:
        _served("BatchDetectKeyPhrases", "key_phrases", LanguageCode, _nlp.SERVED)
        return _batch(TextList, lambda t: {"KeyPhrases": _nlp.key_phrases(t, LanguageCode)})

    # --- syntax
    @operation
    def detect_syntax(self, Text: str, LanguageCode: str) -> dict:
        check_text_size(Text, SINGLE_DOCUMENT_BYTES["DetectSyntax"])
        _served("DetectSyntax", "syntax", LanguageCode, _nlp.SERVED)
        return {"SyntaxTokens": _nlp.syntax_tokens(Text, LanguageCode)}

    @operation
    def batch_detect_syntax(self, TextList: list[str], LanguageCode: str) -> dict:
        _served("BatchDetectSyntax", "syntax", LanguageCode, _nlp.SERVED)
        return _batch(TextList, lambda t: {"SyntaxTokens": _nlp.syntax_tokens(t, LanguageCode)})

    # --- PII
    @operation
    def detect_pii_entities(self, Text: str, LanguageCode: str) -> dict:
        check_text_size(Text, SINGLE_DOCUMENT_BYTES["DetectPiiEntities"])
        _served("DetectPiiEntities", "pii", LanguageCode, _pii.SERVED)
        return {"Entities": _pii.pii_entities(Text)}

    @operation
    def contains_pii_entities(self, Text: str, LanguageCode: str) -> dict:
        check_text_size(Text, SINGLE_DOCUMENT_BYTES["ContainsPiiEntities"])
        _served("ContainsPiiEntities", "pii", LanguageCode, _pii.SERVED)
        return {"Labels": _pii.pii_labels(Text)}
