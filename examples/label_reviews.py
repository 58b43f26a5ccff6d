"""Sections 1-2 on review sentences: collect them into S3, label them with Ground Truth
(three simulated annotators, each right 70 % of the time), compare the consolidated labels
with each annotator, then a text-insight report through Comprehend.

    python examples/label_reviews.py [output.html]

Runs on the local backend (simulated workers exist only there); on AWS, give
``label_dataframe`` a real ``workteam_arn=`` and ``role_arn=`` instead of ``workers=``.
"""
import sys
from pathlib import Path

from aws_ml import Session, datasets
from aws_ml.labeling import collect, label_dataframe
from aws_ml.text_insight import text_insight

reviews = datasets.load("reviews/imdb_sentences").sample(200, random_state=0)
report = Path(sys.argv[1] if len(sys.argv) > 1 else "reviews_text_insight.html")

with Session(backend="local") as session:
    collected = collect(session, reviews, "reviews-data", "raw/reviews", text_column="text",
                        attributes=["sentiment"])
    print(f"collected {collected.n_objects} review sentences; manifest {collected.manifest_uri}")

    result = label_dataframe(
        session, reviews, text_column="text", categories=["NEGATIVE", "POSITIVE"],
        job_name="reviews-sentiment", bucket="reviews-data",
        workers="simulated:count=3,accuracy=0.7,truth=sentiment,seed=0")
    print(f"labeling job {result.job_name}: {result.status}, {result.label_counters}")

    truth = reviews["sentiment"]
    consolidated = (result.df["label"] == truth).mean()
    print(f"consolidated labels: {consolidated:.1%} accurate "
          f"(mean confidence {result.df['confidence'].mean():.2f})")
    answers = result.worker_labels()
    for worker in answers.columns:
        print(f"  {worker}: {(answers[worker] == truth.loc[answers.index]).mean():.1%} accurate")

    insight = text_insight(session, reviews["text"])
    print(f"languages: {insight.languages}")
    print(f"sentiment: {insight.sentiment} "
          f"({insight.sentiment_agreement(truth):.1%} agree with the labels)")
    print("top key phrases:", ", ".join(f"{k['text']} ({k['count']})" for k in insight.key_phrases[:8]))
    print(f"report: {insight.to_html(report)}")
