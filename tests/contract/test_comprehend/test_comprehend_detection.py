"""Real-time detection on the local backend (moto answers these with canned data, so they
run on ``local`` only): language, sentiment, entities, key phrases, syntax, PII, batches."""
from __future__ import annotations

import pytest

from local_backends.core.errors import NotImplementedByBackend

def rounded(value, digits=6):
    """``value`` with its floats rounded (lingua's scores vary in their last bits)."""
    if isinstance(value, float):
        return round(value, digits)
    if isinstance(value, dict):
        return {k: rounded(v, digits) for k, v in value.items()}
    if isinstance(value, list):
        return [rounded(v, digits) for v in value]
    return value


ENGLISH = "The acting was superb and the story kept me hooked until the very end."


@pytest.mark.slow  # lingua loads its 75 languages' models on first use (~7 s)
def test_dominant_language_of_the_course_note_is_french(comprehend, course_note):
    languages = comprehend.detect_dominant_language(Text=course_note)["Languages"]
    assert languages[0]["LanguageCode"] == "fr"
    assert languages[0]["Score"] > 0.9
    assert all(0 <= lang["Score"] <= 1 for lang in languages)


@pytest.mark.slow  # lingua loads its 75 languages' models on first use (~7 s)
def test_dominant_language_of_a_review_sentence_is_english(comprehend, reviews):
    text = next(r["text"] for r in reviews if len(r["text"]) > 60)
    languages = comprehend.detect_dominant_language(Text=text)["Languages"]
    assert languages[0]["LanguageCode"] == "en"
    assert languages == sorted(languages, key=lambda lang: -lang["Score"])


def test_sentiment_accuracy_on_the_labelled_reviews(comprehend, reviews):
    right = 0
    for start in range(0, len(reviews), 25):
        chunk = reviews[start:start + 25]
        out = comprehend.batch_detect_sentiment(TextList=[r["text"] for r in chunk], LanguageCode="en")
        assert out["ErrorList"] == []
        for result in out["ResultList"]:
            right += result["Sentiment"] == chunk[result["Index"]]["sentiment"]
    accuracy = right / len(reviews)
    print(f"detect_sentiment accuracy on {len(reviews)} IMDb sentences: {accuracy:.3f}")
    assert accuracy >= 0.75


def test_sentiment_scores_are_probabilities_and_the_verdict_wins(comprehend):
    for text, language, verdict in [(ENGLISH, "en", "POSITIVE"),
                                    ("A dull, boring and badly acted film.", "en", "NEGATIVE"),
                                    ("Ce film est magnifique, je l'ai adoré.", "fr", "POSITIVE"),
                                    ("Quel navet, c'est nul et ennuyeux.", "fr", "NEGATIVE"),
                                    ("The train leaves at eight.", "en", "NEUTRAL")]:
        out = comprehend.detect_sentiment(Text=text, LanguageCode=language)
        scores = out["SentimentScore"]
        assert out["Sentiment"] == verdict, text
        assert all(0 <= v <= 1 for v in scores.values())
        assert sum(scores.values()) == pytest.approx(1.0)
        assert max(scores, key=scores.get) == verdict.capitalize()


def test_entities_of_the_course_note_name_sagemaker(comprehend, course_note):
    entities = comprehend.detect_entities(Text=course_note, LanguageCode="fr")["Entities"]
    sagemaker = [e for e in entities if "SageMaker" in e["Text"]]
    assert sagemaker and sagemaker[0]["Type"] == "COMMERCIAL_ITEM"
    for e in entities:  # offsets are in characters of the text sent
        assert course_note[e["BeginOffset"]:e["EndOffset"]] == e["Text"]
        assert 0 <= e["Score"] <= 1


def test_english_entities_dates_quantities_and_people(comprehend):
    text = "On March 3, 2024 Mr. John Smith moved 5 GB of reviews to Amazon S3 in Seattle."
    found = {(e["Text"], e["Type"]) for e in
             comprehend.detect_entities(Text=text, LanguageCode="en")["Entities"]}
    assert {("March 3, 2024", "DATE"), ("5 GB", "QUANTITY"), ("Mr. John Smith", "PERSON"),
            ("Amazon S3", "COMMERCIAL_ITEM")} <= found


def test_offsets_count_characters_not_bytes(comprehend):
    text = "Élodie a adoré le café à Montréal avec Amazon SageMaker."
    for e in comprehend.detect_entities(Text=text, LanguageCode="fr")["Entities"]:
        assert text[e["BeginOffset"]:e["EndOffset"]] == e["Text"]
    for t in comprehend.detect_syntax(Text=text, LanguageCode="fr")["SyntaxTokens"]:
        assert text[t["BeginOffset"]:t["EndOffset"]] == t["Text"]


def test_key_phrases_are_noun_phrases(comprehend):
    phrases = [p["Text"] for p in comprehend.detect_key_phrases(
        Text="I loved the soundtrack and the gorgeous photography.", LanguageCode="en")["KeyPhrases"]]
    assert "the soundtrack" in phrases and "the gorgeous photography" in phrases
    assert "I" not in phrases
    fr = [p["Text"] for p in comprehend.detect_key_phrases(
        Text="Les données sont stockées dans un bucket Amazon S3.", LanguageCode="fr")["KeyPhrases"]]
    assert "Les données" in fr


def test_syntax_tokens_carry_universal_tags(comprehend):
    tokens = comprehend.detect_syntax(Text="The cats didn't sleep.", LanguageCode="en")["SyntaxTokens"]
    assert [t["Text"] for t in tokens] == ["The", "cats", "did", "n't", "sleep", "."]
    assert [t["PartOfSpeech"]["Tag"] for t in tokens] == ["DET", "NOUN", "AUX", "PART", "VERB", "PUNCT"]
    assert [t["TokenId"] for t in tokens] == [1, 2, 3, 4, 5, 6]
    fr = comprehend.detect_syntax(Text="Le petit chat mange une souris.", LanguageCode="fr")["SyntaxTokens"]
    assert [t["PartOfSpeech"]["Tag"] for t in fr] == ["DET", "ADJ", "NOUN", "VERB", "DET", "NOUN", "PUNCT"]


def test_pii_entities_and_labels(comprehend):
    text = ("Write to jane.doe@example.com or call +1 206-555-0100; card 4111 1111 1111 1111, "
            "SSN 123-45-6789, key AKIAIOSFODNN7EXAMPLE, host 10.0.0.1.")
    entities = comprehend.detect_pii_entities(Text=text, LanguageCode="en")["Entities"]
    found = {(text[e["BeginOffset"]:e["EndOffset"]], e["Type"]) for e in entities}
    assert {("jane.doe@example.com", "EMAIL"), ("+1 206-555-0100", "PHONE"),
            ("4111 1111 1111 1111", "CREDIT_DEBIT_NUMBER"), ("123-45-6789", "SSN"),
            ("AKIAIOSFODNN7EXAMPLE", "AWS_ACCESS_KEY"), ("10.0.0.1", "IP_ADDRESS")} <= found
    labels = {l["Name"] for l in comprehend.contains_pii_entities(Text=text, LanguageCode="en")["Labels"]}
    assert {"EMAIL", "PHONE", "CREDIT_DEBIT_NUMBER", "SSN", "AWS_ACCESS_KEY", "IP_ADDRESS"} <= labels
    # a number that fails Luhn's check is no card number
    assert comprehend.contains_pii_entities(Text="order 4111 1111 1111 1112", LanguageCode="en")["Labels"] == []


def test_spanish_pii(comprehend):
    text = "Escriba a la Sra. Lucía Gómez en lucia@example.es antes del 3 de marzo."
    found = {(text[e["BeginOffset"]:e["EndOffset"]], e["Type"]) for e in
             comprehend.detect_pii_entities(Text=text, LanguageCode="es")["Entities"]}
    assert {("Lucía Gómez", "NAME"), ("lucia@example.es", "EMAIL")} <= found


@pytest.mark.parametrize("single,batch,key,language", [
    pytest.param("detect_dominant_language", "batch_detect_dominant_language", "Languages", None,
                 marks=pytest.mark.slow),
    ("detect_sentiment", "batch_detect_sentiment", None, "en"),
    ("detect_entities", "batch_detect_entities", "Entities", "en"),
    ("detect_key_phrases", "batch_detect_key_phrases", "KeyPhrases", "en"),
    ("detect_syntax", "batch_detect_syntax", "SyntaxTokens", "en"),
    ("detect_syntax", "batch_detect_syntax", "SyntaxTokens", "fr"),
])
def test_batch_results_equal_single_calls(comprehend, reviews, single, batch, key, language):
    texts = [r["text"] for r in reviews[:25]]
    if language == "fr":
        texts = ["Le chat dort sur le canapé.", "Amazon S3 stocke les objets à Paris."]
    lang = {} if language is None else {"LanguageCode": language}
    out = getattr(comprehend, batch)(TextList=texts, **lang)
    assert out["ErrorList"] == [] and [r["Index"] for r in out["ResultList"]] == list(range(len(texts)))
    for text, result in zip(texts, out["ResultList"]):
        alone = getattr(comprehend, single)(Text=text, **lang)
        alone.pop("ResponseMetadata")
        result.pop("Index")
        assert rounded(result) == rounded(alone)


def test_unsupported_language_is_aws_error(comprehend):
    with pytest.raises(comprehend.exceptions.UnsupportedLanguageException):
        comprehend.detect_pii_entities(Text="Bonjour", LanguageCode="fr")
    with pytest.raises(comprehend.exceptions.UnsupportedLanguageException):
        comprehend.contains_pii_entities(Text="Hallo", LanguageCode="de")


def test_language_code_outside_the_enum_is_validation_exception(comprehend):
    with pytest.raises(comprehend.exceptions.ClientError) as err:
        comprehend.detect_syntax(Text="hi", LanguageCode="ja")
    assert err.value.response["Error"]["Code"] == "ValidationException"


def test_language_aws_serves_without_a_local_model_fails_loudly(comprehend):
    with pytest.raises(NotImplementedByBackend, match="'ja'.*en, fr"):
        comprehend.detect_sentiment(Text="この映画は素晴らしい", LanguageCode="ja")
    with pytest.raises(NotImplementedByBackend, match="'de'"):
        comprehend.batch_detect_key_phrases(TextList=["Hallo Welt"], LanguageCode="de")


def test_operations_not_served_are_not_implemented(comprehend):
    with pytest.raises(NotImplementedByBackend):
        comprehend.detect_toxic_content(TextSegments=[{"Text": "hi"}], LanguageCode="en")
    with pytest.raises(NotImplementedByBackend):
        comprehend.detect_targeted_sentiment(Text="hi", LanguageCode="en")


@pytest.mark.parametrize("operation,kwargs", [
    ("detect_targeted_sentiment", {"Text": "hi", "LanguageCode": "en"}),
    ("batch_detect_targeted_sentiment", {"TextList": ["hi"], "LanguageCode": "en"}),
    ("detect_toxic_content", {"TextSegments": [{"Text": "hi"}], "LanguageCode": "en"}),
    ("start_topics_detection_job", {"InputDataConfig": {"S3Uri": "s3://docs/in/"},
                                    "OutputDataConfig": {"S3Uri": "s3://docs/out/"},
                                    "DataAccessRoleArn": "arn:aws:iam::123456789012:role/r"}),
    ("start_events_detection_job", {"InputDataConfig": {"S3Uri": "s3://docs/in/"},
                                    "OutputDataConfig": {"S3Uri": "s3://docs/out/"},
                                    "DataAccessRoleArn": "arn:aws:iam::123456789012:role/r", "LanguageCode": "en",
                                    "TargetEventTypes": ["BANKRUPTCY"]}),
    ("start_targeted_sentiment_detection_job", {"InputDataConfig": {"S3Uri": "s3://docs/in/"},
                                                "OutputDataConfig": {"S3Uri": "s3://docs/out/"},
                                                "DataAccessRoleArn": "arn:aws:iam::123456789012:role/r",
                                                "LanguageCode": "en"}),
])
def test_unserved_operations_name_themselves(comprehend, operation, kwargs):
    """Targeted sentiment, toxic content, topics and events have no local model: the call
    fails as not implemented, naming the operation, and never answers something made up."""
    with pytest.raises(NotImplementedByBackend) as err:
        getattr(comprehend, operation)(**kwargs)
    op_name = comprehend.meta.method_to_api_mapping[operation]
    assert err.value.operation == op_name and f"comprehend.{op_name}" in str(err.value)


def test_a_moto_session_serves_comprehend_locally_with_real_models(home):
    """moto answers DetectSentiment with canned data (NEUTRAL for any text) and runs no job
    or classifier: a moto session routes Comprehend to the local backend, with a notice."""
    from aws_ml import Session

    with Session(backend="moto", home=home, region="us-east-1") as s:
        assert s.backend_for("comprehend") == "local" and s.backend_for("s3") == "moto"
        c = s.client("comprehend")
        assert c.detect_sentiment(Text="I hate this awful, boring film.", LanguageCode="en")["Sentiment"] == "NEGATIVE"
        assert c.detect_dominant_language(Text="Bonjour à tous, merci d'être venus.")["Languages"][0]["LanguageCode"] == "fr"
