"""The built-in SageMaker BlazingText algorithm, as a program that reads the container contract.

Run as a file with ``SAGEMAKER_BASE_DIR`` pointing at the job's ``/opt/ml`` tree (as
:mod:`.xgboost_algo` is), it does what the ``blazingtext`` image does, on the ``fasttext``
module (BlazingText *is* fastText in ``supervised`` mode and Word2Vec in the others):

* ``mode=supervised`` (text classification): the ``train`` channel (and an optional
  ``validation`` one) holds text files of one sentence a line with its labels as words
  prefixed ``__label__``, or augmented-manifest JSON lines (``{"source": "...", "label":
  1}``, a list of labels for multi-label). It logs ``#train_accuracy: 0.9888`` /
  ``Number of train examples: N`` and ``#validation_accuracy: ...`` as the container does
  and saves ``model.bin`` (a fastText binary: ``fasttext.load_model`` reads it) and
  ``model.vec`` in the model directory.
* ``mode`` ``skipgram`` / ``cbow`` / ``batch_skipgram`` (Word2Vec): the ``train`` channel
  holds plain text, one sentence a line; it saves ``vectors.bin`` and ``vectors.txt`` (the
  word2vec text format Gensim reads).

Hyperparameters are the documented ones (every value a string); an unknown name or a bad
value fails the job with a ``ClientError`` written to ``output/failure``.

Local differences, on purpose: ``batch_skipgram`` trains fastText's skipgram (the
negative-sample-sharing mini-batches are a speed-up of the same model); ``evaluation``
(the WS-353 word-similarity test behind ``train:mean_rho``) is accepted but not run, since
the WS-353 data set does not ship here; with ``early_stopping`` each epoch count from
``min_epochs`` on is a fresh fastText run (fastText cannot pause between epochs), the best
on ``validation`` kept.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

SUPERVISED = "supervised"
WORD2VEC_MODES = ("skipgram", "cbow", "batch_skipgram")
MODES = (SUPERVISED, *WORD2VEC_MODES)
LABEL_PREFIX = "__label__"

# name -> (kind, default); kinds: pos_int, nonneg_int, pos_float, fraction, bool, mode
HYPERPARAMETERS: dict[str, tuple[str, object]] = {
    "mode": ("mode", None),
    "epochs": ("pos_int", 5),
    "learning_rate": ("pos_float", 0.05),
    "min_count": ("nonneg_int", 5),
    "vector_dim": ("pos_int", 100),
    "buckets": ("pos_int", 2000000),
    # supervised
    "word_ngrams": ("pos_int", 2),
    "early_stopping": ("bool", False),
    "patience": ("pos_int", 4),
    "min_epochs": ("pos_int", 5),
    # word2vec
    "window_size": ("pos_int", 5),
    "negative_samples": ("pos_int", 5),
    "sampling_threshold": ("fraction", 0.0001),
    "subwords": ("bool", False),
    "min_char": ("pos_int", 3),
    "max_char": ("pos_int", 6),
    "batch_size": ("pos_int", 11),
    "evaluation": ("bool", True),
}
"""The hyperparameters AWS documents for BlazingText, with their types and defaults."""

SUPERVISED_HPS = {"mode", "buckets", "early_stopping", "epochs", "learning_rate", "min_count",
                  "min_epochs", "patience", "vector_dim", "word_ngrams"}
WORD2VEC_HPS = {"mode", "batch_size", "buckets", "epochs", "evaluation", "learning_rate", "min_char",
                "min_count", "max_char", "negative_samples", "sampling_threshold", "subwords",
                "vector_dim", "window_size"}

_NUMBER = r"([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)"
SMALL_INPUT_BYTES = 10 * 1024 * 1024
"""Below this much training text one thread trains (deterministic for a given seed)."""


try:                                    # imported from the package
    from .algorithm_main import CustomerError, run
except ImportError:                     # run as a file: this folder is on sys.path
    from algorithm_main import CustomerError, run  # type: ignore[no-redef]


def metric_definitions() -> list[dict]:
    """The metric definitions SageMaker attaches to built-in BlazingText jobs: the tuning
    objectives ``validation:accuracy`` (supervised) and ``train:mean_rho`` (Word2Vec), and
    ``train:accuracy``."""
    return [
        {"Name": "train:accuracy", "Regex": rf"#train_accuracy: {_NUMBER}"},
        {"Name": "validation:accuracy", "Regex": rf"#validation_accuracy: {_NUMBER}"},
        {"Name": "train:mean_rho", "Regex": rf"#mean_rho: {_NUMBER}"},
    ]


# -- hyperparameters ---------------------------------------------------------------------------

def _convert(name: str, kind: str, raw) -> object:
    text = str(raw).strip()
    if kind == "mode":
        if text not in MODES:
            raise CustomerError(f"Hyperparameter mode: value {text!r} is not one of "
                                f"{list(MODES)}")
        return text
    if kind == "bool":
        low = text.lower()
        if low in ("true", "1"):
            return True
        if low in ("false", "0"):
            return False
        raise CustomerError(f"Hyperparameter {name}: value {text!r} is not a boolean "
                            f"(True or False)")
    if kind in ("pos_int", "nonneg_int"):
        try:
            value = int(text)
        except ValueError:
            try:
                f = float(text)
            except ValueError:
                f = None
            if f is None or not f.is_integer():
                raise CustomerError(f"Hyperparameter {name}: value {text!r} is not an "
                                    f"integer") from None
            value = int(f)
        if kind == "pos_int" and value <= 0:
            raise CustomerError(f"Hyperparameter {name}: value {value} must be a positive integer")
        if kind == "nonneg_int" and value < 0:
            raise CustomerError(f"Hyperparameter {name}: value {value} must be a non-negative integer")
        return value
    try:
        value = float(text)
    except ValueError:
        raise CustomerError(f"Hyperparameter {name}: value {text!r} is not a number") from None
    if not value > 0 or value != value or value == float("inf"):
        raise CustomerError(f"Hyperparameter {name}: value {text} must be positive")
    if kind == "fraction" and value >= 1:
        raise CustomerError(f"Hyperparameter {name}: value {text} must be a fraction in (0, 1)")
    return value


def parse_hyperparameters(hyperparameters: dict[str, str]) -> dict:
    """Typed hyperparameters with defaults, or :class:`CustomerError`."""
    given = {k: v for k, v in hyperparameters.items()
             if not k.startswith("sagemaker_") and k != "_tuning_objective_metric"}
    unknown = sorted(set(given) - set(HYPERPARAMETERS))
    if unknown:
        raise CustomerError(f"Unknown hyperparameter(s) {unknown} for the BlazingText algorithm; "
                            f"allowed: {sorted(HYPERPARAMETERS)}")
    if "mode" not in given:
        raise CustomerError("Missing required hyperparameter: mode (one of "
                            f"{list(MODES)})")
    out = {name: default for name, (_, default) in HYPERPARAMETERS.items()}
    for name, raw in given.items():
        out[name] = _convert(name, HYPERPARAMETERS[name][0], raw)
    if out["max_char"] < out["min_char"]:
        raise CustomerError(f"Hyperparameter max_char ({out['max_char']}) must not be less than "
                            f"min_char ({out['min_char']})")
    out["_given"] = sorted(given)
    return out


# -- input ---------------------------------------------------------------------------------------

def _files(channel_dir: Path) -> list[Path]:
    files = sorted(p for p in channel_dir.rglob("*") if p.is_file() and not p.name.startswith("."))
    if not files:
        raise CustomerError(f"No data found in channel {channel_dir.name!r} ({channel_dir})")
    return files


def _label_words(value, where: str) -> list[str]:
    values = value if isinstance(value, list) else [value]
    if not values:
        raise CustomerError(f"{where}: the label list is empty")
    out = []
    for v in values:
        if isinstance(v, (dict, list)) or v is None or (isinstance(v, str) and not v.strip()):
            raise CustomerError(f"{where}: label {v!r} is not a number or a string")
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        text = str(v).strip().replace(" ", "_")
        out.append(text if text.startswith(LABEL_PREFIX) else LABEL_PREFIX + text)
    return out


def _label_attribute(record: dict, attribute_names: list[str] | None, where: str) -> str:
    if attribute_names:
        others = [a for a in attribute_names if a != "source"]
        if "source" not in attribute_names or len(others) != 1:
            raise CustomerError(f"AttributeNames {attribute_names} of an augmented manifest for "
                                f"BlazingText must be 'source' and one label attribute")
        return others[0]
    if "label" in record:
        return "label"
    candidates = [k for k in record if k != "source" and not k.endswith("-metadata")]
    if len(candidates) != 1:
        raise CustomerError(f"{where}: cannot tell the label attribute among {candidates}; give "
                            f"the channel's AttributeNames as ['source', '<label attribute>']")
    return candidates[0]


def _manifest_lines(path: Path, attribute_names: list[str] | None, supervised: bool) -> list[str]:
    """fastText lines from an augmented manifest (JSON lines with ``source`` and a label)."""
    out = []
    label_attr = None
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            where = f"{path.name} line {n}"
            try:
                record = json.loads(line)
            except ValueError as exc:
                raise CustomerError(f"{where}: not a JSON line of an augmented manifest: {exc}") from None
            if not isinstance(record, dict) or not isinstance(record.get("source"), str):
                raise CustomerError(f"{where}: an augmented manifest line needs a 'source' string")
            text = " ".join(record["source"].split())
            if not supervised:
                out.append(text)
                continue
            if label_attr is None:
                label_attr = _label_attribute(record, attribute_names, where)
            if label_attr not in record:
                raise CustomerError(f"{where}: the label attribute {label_attr!r} is missing")
            out.append(" ".join(_label_words(record[label_attr], where)) + " " + text)
    return out


def _is_manifest(path: Path) -> bool:
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.strip():
                stripped = line.strip()
                if not stripped.startswith("{"):
                    return False
                try:
                    return isinstance(json.loads(stripped), dict)
                except ValueError:
                    return False
    return False


def prepare_channel(channel_dir: Path, config: dict, supervised: bool, out_path: Path) -> dict:
    """Concatenate one channel into ``out_path`` (fastText reads one file); augmented-manifest
    files become ``__label__`` lines. Returns counts of lines and labelled lines."""
    attribute_names = config.get("AttributeNames")
    lines = 0
    labelled = 0
    with open(out_path, "w", encoding="utf-8") as out:
        for path in _files(channel_dir):
            if _is_manifest(path):
                for text in _manifest_lines(path, attribute_names, supervised):
                    out.write(text + "\n")
                    lines += 1
                    labelled += 1 if supervised else 0
                continue
            with open(path, encoding="utf-8", errors="replace") as f:
                for line in f:
                    text = line.strip()
                    if not text:
                        continue
                    out.write(text + "\n")
                    lines += 1
                    if supervised and any(w.startswith(LABEL_PREFIX) for w in text.split()):
                        labelled += 1
    if lines == 0:
        raise CustomerError(f"Channel {channel_dir.name!r} holds no text")
    if supervised and labelled == 0:
        raise CustomerError(f"Channel {channel_dir.name!r} has no labelled line: in supervised mode "
                            f"each line needs its labels as words prefixed '{LABEL_PREFIX}'")
    return {"lines": lines, "labelled": labelled}


# -- output --------------------------------------------------------------------------------------

def save_vectors(model, path: Path) -> None:
    """Word vectors in the word2vec text format (``<count> <dim>`` then a word a line)."""
    words = model.get_words(on_unicode_error="replace")
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"{len(words)} {model.get_dimension()}\n")
        for word in words:
            vec = model.get_word_vector(word)
            f.write(word + " " + " ".join(f"{x:.5g}" for x in vec) + " \n")


# -- training ------------------------------------------------------------------------------------

def _threads(path: Path) -> int:
    if path.stat().st_size < SMALL_INPUT_BYTES:
        return 1
    return max(1, min(os.cpu_count() or 1, 16))


def _accuracy(model, path: Path) -> tuple[int, float]:
    n, precision, _ = model.test(str(path))
    return int(n), float(precision)


def train_supervised(hp: dict, train_file: Path, val_file: Path | None, model_dir: Path) -> None:
    import fasttext

    for name in hp["_given"]:
        if name not in SUPERVISED_HPS:
            print(f"Hyperparameter {name} is not used in supervised mode: ignored", flush=True)
    params = dict(input=str(train_file), lr=hp["learning_rate"], dim=hp["vector_dim"],
                  wordNgrams=hp["word_ngrams"], minCount=hp["min_count"], bucket=hp["buckets"],
                  loss="softmax", thread=_threads(train_file), verbose=0, seed=0)
    if hp["early_stopping"] and val_file is None:
        raise CustomerError("early_stopping needs a 'validation' channel")
    start = time.time()

    def fit(epochs: int):
        try:
            return fasttext.train_supervised(epoch=epochs, **params)
        except (ValueError, RuntimeError) as exc:
            raise CustomerError(f"Training failed: {exc}") from None

    if hp["early_stopping"]:
        best, best_acc, waited = None, -1.0, 0
        first = min(hp["min_epochs"], hp["epochs"])
        for epochs in range(first, hp["epochs"] + 1):
            model = fit(epochs)
            _, acc = _accuracy(model, val_file)
            print(f"-------------- End of epoch: {epochs}", flush=True)
            print(f"Validation accuracy: {acc:.6f}", flush=True)
            if acc > best_acc:
                print("Validation accuracy improved! Storing best weights...", flush=True)
                best, best_acc, waited = model, acc, 0
            else:
                waited += 1
                print(f"Validation accuracy has not improved for {waited} epoch(s) "
                      f"(patience {hp['patience']})", flush=True)
                if waited >= hp["patience"]:
                    print(f"Reached patience. Terminating training at epoch {epochs}; the best "
                          f"model is kept.", flush=True)
                    break
        model = best
    else:
        model = fit(hp["epochs"])
    seconds = time.time() - start
    words, labels = model.get_words(), model.get_labels()
    print(f"Number of words:  {len(words)}", flush=True)
    print(f"Number of labels: {len(labels)}", flush=True)
    print("Training finished.", flush=True)
    print(f"Total training time in seconds: {seconds:.2f}", flush=True)
    print("", flush=True)
    n, acc = _accuracy(model, train_file)
    print(f"#train_accuracy: {acc:.4f}", flush=True)
    print(f"Number of train examples: {n}", flush=True)
    if val_file is not None:
        n, acc = _accuracy(model, val_file)
        print("", flush=True)
        print(f"#validation_accuracy: {acc:.4f}", flush=True)
        print(f"Number of validation examples: {n}", flush=True)
    model_dir.mkdir(parents=True, exist_ok=True)
    model.save_model(str(model_dir / "model.bin"))
    save_vectors(model, model_dir / "model.vec")


def train_word2vec(hp: dict, train_file: Path, model_dir: Path) -> None:
    import fasttext

    mode = hp["mode"]
    for name in hp["_given"]:
        if name not in WORD2VEC_HPS:
            print(f"Hyperparameter {name} is not used in {mode} mode: ignored", flush=True)
    if mode == "batch_skipgram":
        print(f"batch_skipgram: trained as skipgram (batch_size {hp['batch_size']} only changes "
              f"the speed of the container's mini-batches)", flush=True)
    minn, maxn = (hp["min_char"], hp["max_char"]) if hp["subwords"] else (0, 0)
    start = time.time()
    try:
        model = fasttext.train_unsupervised(
            input=str(train_file), model="cbow" if mode == "cbow" else "skipgram",
            lr=hp["learning_rate"], dim=hp["vector_dim"], ws=hp["window_size"], epoch=hp["epochs"],
            minCount=hp["min_count"], minn=minn, maxn=maxn, neg=hp["negative_samples"],
            bucket=hp["buckets"], t=hp["sampling_threshold"], thread=_threads(train_file),
            verbose=0)   # seed: fastText's default (0)
    except (ValueError, RuntimeError) as exc:
        raise CustomerError(f"Training failed: {exc}") from None
    seconds = time.time() - start
    print(f"Number of words:  {len(model.get_words())}", flush=True)
    print("Training finished.", flush=True)
    print(f"Total training time in seconds: {seconds:.2f}", flush=True)
    if hp["evaluation"]:
        print("Evaluation on WS-353 skipped: the word-similarity data set is not available to "
              "the local backend (no train:mean_rho)", flush=True)
    model_dir.mkdir(parents=True, exist_ok=True)
    model.save_model(str(model_dir / "vectors.bin"))
    save_vectors(model, model_dir / "vectors.txt")


def train(base: Path) -> None:
    """Train from the contract tree at ``base``; raises :class:`CustomerError` on bad input."""
    config = base / "input" / "config"
    hyperparameters = json.loads((config / "hyperparameters.json").read_text())
    data_config = json.loads((config / "inputdataconfig.json").read_text())
    hp = parse_hyperparameters(hyperparameters)
    supervised = hp["mode"] == SUPERVISED
    if "train" not in data_config:
        raise CustomerError("Channel 'train' is required for the BlazingText algorithm")
    allowed = {"train", "validation"} if supervised else {"train"}
    extra = sorted(set(data_config) - allowed)
    if extra:
        raise CustomerError(f"Channel(s) {extra} are not supported in {hp['mode']} mode "
                            f"(supported: {sorted(allowed)})")
    print(f"[blazingtext] mode {hp['mode']}: "
          f"{json.dumps({k: v for k, v in hp.items() if not k.startswith('_')}, sort_keys=True)}",
          flush=True)
    data = base / "input" / "data"
    model_dir = base / "model"
    with tempfile.TemporaryDirectory(prefix=".blazingtext-", dir=base) as tmp:
        train_file = Path(tmp) / "train.txt"
        counts = prepare_channel(data / "train", data_config["train"], supervised, train_file)
        print(f"Found {counts['lines']} sentences in the 'train' channel", flush=True)
        val_file = None
        if supervised and "validation" in data_config:
            val_file = Path(tmp) / "validation.txt"
            counts = prepare_channel(data / "validation", data_config["validation"], True, val_file)
            print(f"Found {counts['lines']} sentences in the 'validation' channel", flush=True)
        if supervised:
            train_supervised(hp, train_file, val_file, model_dir)
        else:
            train_word2vec(hp, train_file, model_dir)


def main() -> int:
    return run(train)


if __name__ == "__main__":
    sys.exit(main())
