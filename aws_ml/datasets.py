"""The datasets bundled with aws_ml (shipped unchanged, with their licences), and the
scikit-learn bundled data sets exposed the same way.

* ``fraud``: auto-insurance claims and customers joined on ``policy_id`` (5,000 rows each;
  label ``fraud``, 3.3 % positive). From the Amazon SageMaker examples (MIT licence).
* ``reviews``: 1,000 IMDb review sentences labelled POSITIVE / NEGATIVE (UCI "Sentiment
  Labelled Sentences", CC BY 4.0, Kotzias et al., KDD 2015).
* ``sklearn/diabetes``: 442 diabetes patients, ten baseline measurements (not scaled) and
  ``progression``, a quantitative measure of disease progression one year later (a
  regression target); id column ``patient_id``. Efron et al. (2004), as shipped in
  scikit-learn (``sklearn.datasets.load_diabetes``; BSD-3-Clause).
* ``sklearn/wine``: 178 wines, thirteen chemical measurements and ``cultivar`` (0, 1 or 2,
  a multiclass target); id column ``wine_id``. UCI Wine (CC BY 4.0), as shipped in
  scikit-learn (``sklearn.datasets.load_wine``).

The scikit-learn sets are read from the files scikit-learn installs (no network) and
written once, as CSV, to the data-set cache: ``AWS_ML_DATASETS``, else
``$XDG_CACHE_HOME/aws_ml/datasets``, else ``~/.cache/aws_ml/datasets``. The file is
written atomically and its bytes do not depend on when or where it was written, so a
pipeline's cache key (a hash of the file) is the same on every machine.
"""
from __future__ import annotations

import os
import tempfile
from importlib import resources
from pathlib import Path

_FILES = {
    "fraud/claims": "fraud/claims.csv",
    "fraud/customers": "fraud/customers.csv",
    "reviews/imdb_sentences": "reviews/imdb_sentences.csv",
}
# name -> (sklearn loader, its keyword arguments, id column, target column)
_SKLEARN = {
    "sklearn/diabetes": ("load_diabetes", {"scaled": False}, "patient_id", "progression"),
    "sklearn/wine": ("load_wine", {}, "wine_id", "cultivar"),
}


def cache_dir() -> Path:
    """Where the scikit-learn data sets are written as CSV (see the module's docstring)."""
    if os.environ.get("AWS_ML_DATASETS"):
        return Path(os.environ["AWS_ML_DATASETS"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "aws_ml" / "datasets"


def _sklearn_frame(name: str):
    """The scikit-learn data set ``name`` as a DataFrame: the id column first, column names
    made safe for Athena and Feature Store (letters, digits and ``_``), the target last."""
    import re

    import sklearn.datasets

    loader, kwargs, id_column, target = _SKLEARN[name]
    bunch = getattr(sklearn.datasets, loader)(as_frame=True, **kwargs)
    frame = bunch.frame.rename(columns={"target": target})
    frame.columns = [re.sub(r"[^0-9a-zA-Z_]+", "_", str(c)).strip("_") for c in frame.columns]
    frame.insert(0, id_column, range(1, len(frame) + 1))
    return frame


def _sklearn_path(name: str) -> Path:
    path = cache_dir() / f"{name.replace('/', '_')}.csv"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    body = _sklearn_frame(name).to_csv(index=False, lineterminator="\n", float_format="%.10g").encode()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(body)
        os.replace(tmp, path)           # concurrent writers end with one complete file
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def path(name: str) -> Path:
    """The local path of a bundled file: ``fraud/claims``, ``fraud/customers``,
    ``reviews/imdb_sentences``, ``sklearn/diabetes`` or ``sklearn/wine`` (the last two
    written to :func:`cache_dir` on first use)."""
    if name in _SKLEARN:
        return _sklearn_path(name)
    try:
        rel = _FILES[name]
    except KeyError:
        raise ValueError(f"The 'name' parameter of path must be one of {names()}. "
                         f"Got {name!r} instead.") from None
    return Path(str(resources.files("aws_ml") / "data" / rel))


def load(name: str):
    """A bundled table as a pandas DataFrame (``pip install 'aws-ml[data]'``)."""
    import pandas as pd

    return pd.read_csv(path(name))


def names() -> list[str]:
    """The names :func:`path` and :func:`load` accept."""
    return sorted([*_FILES, *_SKLEARN])
