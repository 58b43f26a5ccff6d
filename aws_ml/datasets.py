"""The datasets bundled with aws_ml (shipped unchanged, with their licences).

* ``fraud``: auto-insurance claims and customers joined on ``policy_id`` (5,000 rows each;
  label ``fraud``, 3.3 % positive). From the Amazon SageMaker examples (MIT licence).
* ``reviews``: 1,000 IMDb review sentences labelled POSITIVE / NEGATIVE (UCI "Sentiment
  Labelled Sentences", CC BY 4.0, Kotzias et al., KDD 2015).
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path

_FILES = {
    "fraud/claims": "fraud/claims.csv",
    "fraud/customers": "fraud/customers.csv",
    "reviews/imdb_sentences": "reviews/imdb_sentences.csv",
}


def path(name: str) -> Path:
    """The local path of a bundled file: ``fraud/claims``, ``fraud/customers`` or
    ``reviews/imdb_sentences``."""
    try:
        rel = _FILES[name]
    except KeyError:
        raise ValueError(f"The 'name' parameter of path must be one of {sorted(_FILES)}. "
                         f"Got {name!r} instead.") from None
    return Path(str(resources.files("aws_ml") / "data" / rel))


def load(name: str):
    """A bundled table as a pandas DataFrame (``pip install 'aws-ml[data]'``)."""
    import pandas as pd

    return pd.read_csv(path(name))


def names() -> list[str]:
    return sorted(_FILES)
