"""Batch limits on the local backend (moto has no batch operations)."""
from __future__ import annotations

import pytest


def test_more_than_25_documents_is_batch_size_limit(comprehend):
    with pytest.raises(comprehend.exceptions.BatchSizeLimitExceededException):
        comprehend.batch_detect_sentiment(TextList=["fine"] * 26, LanguageCode="en")
    assert len(comprehend.batch_detect_sentiment(TextList=["fine"] * 25,
                                                 LanguageCode="en")["ResultList"]) == 25


@pytest.mark.parametrize("operation,language", [
    ("batch_detect_dominant_language", None), ("batch_detect_entities", "en"),
    ("batch_detect_key_phrases", "en"), ("batch_detect_syntax", "en"), ("batch_detect_sentiment", "en")])
def test_each_batch_document_is_limited_to_5000_bytes(comprehend, operation, language):
    lang = {} if language is None else {"LanguageCode": language}
    with pytest.raises(comprehend.exceptions.TextSizeLimitExceededException):
        getattr(comprehend, operation)(TextList=["short", "ü" * 2600], **lang)


@pytest.mark.parametrize("operation,limit", [
    ("detect_dominant_language", 100_000), ("detect_entities", 100_000),
    ("detect_pii_entities", 100_000), ("contains_pii_entities", 100_000),
    ("detect_syntax", 5_000)])
def test_single_document_limits(comprehend, operation, limit):
    lang = {} if operation == "detect_dominant_language" else {"LanguageCode": "en"}
    with pytest.raises(comprehend.exceptions.TextSizeLimitExceededException) as err:
        getattr(comprehend, operation)(Text="a" * (limit + 1), **lang)
    assert f"{limit} bytes" in err.value.response["Error"]["Message"]
