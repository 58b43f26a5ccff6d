"""The facade's built-in BlazingText (``training.train(algorithm="blazingtext")``) on the
review sentences, on local and moto: the same job, metrics and a model an endpoint serves
with AWS's JSON shapes; and the image URIs as the SageMaker SDK gives them."""
from __future__ import annotations

import json

import pytest

from aws_ml import datasets, serving, training
from aws_ml.images import image_uri

pytest.importorskip("fasttext")


def test_image_uris_are_the_sdks():
    image_uris = pytest.importorskip("sagemaker.core.image_uris")
    for region in ("us-east-1", "eu-west-1", "ap-southeast-2", "cn-north-1"):
        assert image_uri("blazingtext", region) == image_uris.retrieve("blazingtext", region)
        assert image_uri("xgboost", region) == image_uris.retrieve("xgboost", region, "1.7-1")
        assert image_uri("sklearn", region) == image_uris.retrieve("sklearn", region, "1.2-1")
    with pytest.raises(ValueError, match="must be one of"):
        image_uri("linear-learner", "us-east-1")


def test_blazingtext_line_tokenises_like_the_aws_examples():
    assert training.blazingtext_line("POSITIVE", "A truly GREAT film, isn't it?") == \
        "__label__POSITIVE a truly great film , isn't it ?"
    assert training.blazingtext_line("very good", "ok").startswith("__label__very_good ")


def test_train_deploy_and_invoke(session):
    reviews = datasets.load("reviews/imdb_sentences")[["sentiment", "text"]]
    result = training.train(session, data=reviews, target="sentiment", algorithm="blazingtext",
                            hyperparameters={"epochs": 10}, progress=False)
    assert result.status == "Completed", result.failure_reason
    assert result.hyperparameters["mode"] == "supervised"
    assert result.metrics["validation:accuracy"] >= 0.7       # 200 held-out sentences
    name = serving.deploy_model(session, result, name="bt-reviews")
    try:
        answer = session.client("sagemaker-runtime").invoke_endpoint(
            EndpointName=name, ContentType="application/json",
            Body=json.dumps({"instances": ["a wonderful , moving film", "dull and far too long"],
                             "configuration": {"k": 2}}))
        out = json.loads(answer["Body"].read())
        assert [o["label"][0] for o in out] == ["__label__POSITIVE", "__label__NEGATIVE"]
        assert all(len(o["prob"]) == 2 and abs(sum(o["prob"]) - 1) < 1e-3 for o in out)
    finally:
        serving.delete(session, name)


def test_blazingtext_needs_one_text_column(local_session):
    claims = datasets.load("fraud/claims")
    with pytest.raises(ValueError, match="one text column"):
        training.train(local_session, data=claims, target="fraud", algorithm="blazingtext", progress=False)


def test_tuning_blazingtext_over_its_defaults(local_session):
    """The ranges replace the algorithm's default static hyperparameters (SageMaker refuses a
    name that is both); a name given both ways by the caller is refused before any job."""
    reviews = datasets.load("reviews/imdb_sentences")[["sentiment", "text"]].sample(400, random_state=0)
    result = training.tune(local_session, data=reviews, target="sentiment", algorithm="blazingtext",
                           ranges={"learning_rate": (0.1, 1.0), "epochs": (5, 15)}, strategy="Random",
                           objective="validation:accuracy", max_jobs=2, max_parallel=2, progress=False)
    assert result.status == "Completed" and len(result.trials) == 2
    assert all({"learning_rate", "epochs"} <= set(t["TunedHyperParameters"]) for t in result.trials)
    assert 0.5 <= result.best_value <= 1.0
    with pytest.raises(ValueError, match=r"\['epochs'\] are given both"):
        training.tune(local_session, data=reviews, target="sentiment", algorithm="blazingtext",
                      ranges={"epochs": (5, 15)}, hyperparameters={"epochs": 10},
                      objective="validation:accuracy", max_jobs=2, progress=False)
