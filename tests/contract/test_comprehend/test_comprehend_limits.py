"""AWS's size limits count UTF-8 bytes: the same assertions on local and moto."""
from __future__ import annotations

import pytest


@pytest.fixture
def comprehend(session):
    return session.client("comprehend")


def test_sentiment_over_5000_bytes_is_refused(comprehend):
    with pytest.raises(comprehend.exceptions.TextSizeLimitExceededException):
        comprehend.detect_sentiment(Text="good " * 1001, LanguageCode="en")


def test_sentiment_limit_counts_bytes_not_characters(session, comprehend):
    text = "é" * 3000  # 3,000 characters, 6,000 UTF-8 bytes
    assert len(text) == 3000 and len(text.encode("utf-8")) == 6000
    if session.backend == "moto":
        pytest.xfail("moto compares len(text) (characters) with the limit; AWS counts UTF-8 bytes")
    with pytest.raises(comprehend.exceptions.TextSizeLimitExceededException):
        comprehend.detect_sentiment(Text=text, LanguageCode="fr")


def test_key_phrases_over_100_kb_are_refused(comprehend):
    with pytest.raises(comprehend.exceptions.TextSizeLimitExceededException):
        comprehend.detect_key_phrases(Text="word " * 20_001, LanguageCode="en")


def test_sentiment_answer_has_aws_shape(comprehend):
    out = comprehend.detect_sentiment(Text="I love this wonderful film.", LanguageCode="en")
    assert out["Sentiment"] in ("POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED")
    assert set(out["SentimentScore"]) == {"Positive", "Negative", "Neutral", "Mixed"}
    assert all(0 <= v <= 1 for v in out["SentimentScore"].values())
