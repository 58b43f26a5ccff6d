"""Text classification with SageMaker's built-in BlazingText, on the local backend: train on
800 review sentences, compare with the majority class, deploy, and classify new sentences
through sagemaker-runtime as on AWS.

    python examples/classify_text.py
"""
import json

from aws_ml import Session, datasets, serving, training

session = Session(backend="local")               # the same code runs on "moto" and "aws"
reviews = datasets.load("reviews/imdb_sentences")[["sentiment", "text"]]

result = training.train(session, data=reviews, target="sentiment", algorithm="blazingtext",
                        hyperparameters={"epochs": 10, "word_ngrams": 2}, progress=False)
majority = reviews["sentiment"].value_counts(normalize=True).max()
print(f"training job {result.job_name}: {result.status}, validation accuracy "
      f"{result.metrics['validation:accuracy']:.3f} (majority class: {majority:.3f})")

name = serving.deploy_model(session, result, name="review-sentiment")
sentences = ["A wonderful film, beautifully acted.", "Boring, and far too long."]
answer = session.client("sagemaker-runtime").invoke_endpoint(
    EndpointName=name, ContentType="application/json",
    Body=json.dumps({"instances": [training.blazingtext_tokens(s) for s in sentences], "configuration": {"k": 1}}))
for sentence, out in zip(sentences, json.loads(answer["Body"].read())):
    print(f"{out['label'][0].removeprefix('__label__'):>8} {out['prob'][0]:.2f}  {sentence}")

serving.delete(session, name)
session.close()
