"""Scoring as the SageMaker scikit-learn and XGBoost containers do it, without HTTP.

A model directory is what ``model.tar.gz`` holds once extracted. The handler chain is the
SageMaker inference toolkit's: ``model_fn(model_dir)`` once at start-up, then per request
``input_fn(body, content_type)`` → ``predict_fn(data, model)`` → ``output_fn(prediction,
accept)`` (or one ``transform_fn(model, body, content_type, accept)``). Each function comes
from the user's entry point when it defines it (``SAGEMAKER_PROGRAM`` in
``SAGEMAKER_SUBMIT_DIRECTORY``, or ``code/inference.py`` inside the model archive, as the
newer containers accept), else from the defaults here. As in the containers, a user
``input_fn`` / ``transform_fn`` receives a ``str`` body for ``text/csv`` and
``application/json`` (bytes otherwise), and a user function that takes one parameter more
than the usual ones also receives the request context (:mod:`.context`: request headers
such as ``X-Amzn-SageMaker-Custom-Attributes``, response headers to set).

Defaults:

* models: ``xgboost-model`` (a booster, as the built-in XGBoost algorithm saves it: native
  format, or pickled by older containers), ``model.joblib`` / ``model.pkl`` / ``model.pickle``
  (a scikit-learn estimator, joblib or pickle);
* content types in: ``text/csv`` (no header), ``application/json`` (a list of rows, one row,
  or ``{"instances": [...]}``), ``application/x-npy``; out: the same three (``Accept``
  missing or ``*/*`` means ``SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT``, else ``text/csv`` for
  XGBoost and ``application/json`` for scikit-learn, as the two containers do).

:func:`invocations` is a pure function (mlflow's scoring server is built the same way): it
returns ``(body, content_type)`` or raises :class:`ScoringError` carrying the HTTP status
the container would answer (4XX for a bad request, 500 for an exception in the model).
"""
from __future__ import annotations

import importlib.util
import inspect
import io
import json
import os
import pickle
import sys
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .context import RequestContext

CSV = "text/csv"
JSON = "application/json"
NPY = "application/x-npy"
SUPPORTED = (CSV, JSON, NPY)

SKLEARN_FILES = ("model.joblib", "model.pkl", "model.pickle")
XGBOOST_FILE = "xgboost-model"


class ScoringError(Exception):
    """A request the model server answers with an error status (4XX or 5XX)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class ModelLoadError(Exception):
    """The model directory or entry point cannot be loaded (the endpoint fails)."""


@dataclass
class LoadedModel:
    """A model and the handler chain that scores it."""

    model: Any
    kind: str                                  # "sklearn", "xgboost", "blazingtext" or "custom"
    default_accept: str
    input_fn: Callable | None = None
    predict_fn: Callable | None = None
    output_fn: Callable | None = None
    transform_fn: Callable | None = None
    user_module: str | None = None
    n_features: int | None = field(default=None)
    arity: dict[str, int] = field(default_factory=dict)   # parameters of each user function


# -- loading ---------------------------------------------------------------------------------

def _import_entry_point(code_dir: Path, program: str):
    path = code_dir / program
    if not path.is_file():
        raise ModelLoadError(f"entry point {program!r} not found in {code_dir}")
    if str(code_dir) not in sys.path:
        sys.path.insert(0, str(code_dir))
    name = Path(program).stem
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise ModelLoadError(f"importing entry point {program!r} failed: "
                             f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}") from exc
    return module


def find_entry_point(model_dir: Path, code_dir: Path | None, program: str | None):
    """The user's module: ``program`` in ``code_dir``, else ``code/inference.py`` of the model."""
    if program and code_dir is not None:
        return _import_entry_point(code_dir, program)
    if program and (model_dir / "code" / program).is_file():
        return _import_entry_point(model_dir / "code", program)
    if (model_dir / "code" / "inference.py").is_file():
        return _import_entry_point(model_dir / "code", "inference.py")
    if program:
        raise ModelLoadError(f"entry point {program!r} not found (no submit directory and no "
                             f"code/{program} in the model archive)")
    return None


def _call_model_fn(fn: Callable, model_dir: Path):
    params = inspect.signature(fn).parameters
    if len(params) >= 2:           # model_fn(model_dir, context), as the inference toolkit allows
        return fn(str(model_dir), RequestContext({}, str(model_dir)))
    return fn(str(model_dir))


def default_model_fn(model_dir: Path) -> tuple[Any, str]:
    """The model of a directory and its kind (``xgboost`` or ``sklearn``)."""
    xgb_path = model_dir / XGBOOST_FILE
    if xgb_path.is_file():
        import xgboost as xgb
        booster = xgb.Booster()
        try:
            with warnings.catch_warnings():  # no extension: XGBoost guesses the format, and says so
                warnings.simplefilter("ignore", UserWarning)
                booster.load_model(str(xgb_path))
        except xgb.core.XGBoostError:
            with open(xgb_path, "rb") as f:   # the 0.90 containers pickled the booster
                booster = pickle.load(f)
        return booster, "xgboost"
    for name in SKLEARN_FILES:
        path = model_dir / name
        if path.is_file():
            import joblib
            return joblib.load(path), "sklearn"
    from . import blazingtext   # model.bin / vectors.bin: a BlazingText (fastText) binary
    if blazingtext.model_file(model_dir) is not None:
        return blazingtext.load(model_dir), "blazingtext"
    found = sorted(p.name for p in model_dir.iterdir()) if model_dir.is_dir() else []
    raise ModelLoadError(
        f"no model found in the model archive: expected {XGBOOST_FILE!r}, one of "
        f"{list(SKLEARN_FILES)} or a BlazingText {' / '.join(blazingtext.MODEL_FILES)} "
        f"(or an entry point with model_fn); it holds {found}")


def load_model(model_dir: str | Path, code_dir: str | Path | None = None,
               program: str | None = None) -> LoadedModel:
    """Load a model directory the way the container does at start-up."""
    model_dir = Path(model_dir)
    code_dir = Path(code_dir) if code_dir else None
    module = find_entry_point(model_dir, code_dir, program)
    fns = {name: getattr(module, name, None) for name in
           ("model_fn", "input_fn", "predict_fn", "output_fn", "transform_fn")} if module else {}
    if fns.get("model_fn"):
        try:
            model = _call_model_fn(fns["model_fn"], model_dir)
        except Exception as exc:
            raise ModelLoadError(f"model_fn failed: {type(exc).__name__}: {exc}\n"
                                 f"{traceback.format_exc()}") from exc
        kind = "custom"
    else:
        try:
            model, kind = default_model_fn(model_dir)
        except ModelLoadError:
            raise
        except Exception as exc:
            raise ModelLoadError(f"loading the model failed: {type(exc).__name__}: {exc}") from exc
    default_accept = os.environ.get("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT") or (
        CSV if kind == "xgboost" else JSON)
    n_features = None
    if kind == "sklearn":
        n_features = getattr(model, "n_features_in_", None)
    elif kind == "xgboost":
        n_features = model.num_features() or None
    if fns.get("transform_fn") and any(fns.get(n) for n in ("input_fn", "predict_fn", "output_fn")):
        raise ModelLoadError("Cannot use transform_fn implementation in conjunction with "
                             "input_fn, predict_fn, and/or output_fn implementation")
    arity = {name: _parameter_count(fn) for name, fn in fns.items() if fn is not None}
    return LoadedModel(model=model, kind=kind, default_accept=default_accept,
                       input_fn=fns.get("input_fn"), predict_fn=fns.get("predict_fn"),
                       output_fn=fns.get("output_fn"), transform_fn=fns.get("transform_fn"),
                       user_module=getattr(module, "__name__", None), n_features=n_features,
                       arity=arity)


def _parameter_count(fn: Callable) -> int:
    try:
        return len(inspect.signature(fn).parameters)
    except (TypeError, ValueError):   # a builtin without a signature: call it plainly
        return -1


# -- default decoders and encoders ---------------------------------------------------------------

def _media_type(value: str | None) -> str:
    return (value or "").split(";")[0].strip().lower()


def decode(body: bytes, content_type: str):
    """A 2-D float array from a request body (the containers' default decoders)."""
    import numpy as np

    ctype = _media_type(content_type)
    if ctype == CSV:
        text = body.decode("utf-8", errors="replace").strip()
        if not text:
            raise ScoringError(400, "Loading csv data failed: the request body is empty")
        rows = [line.split(",") for line in text.splitlines() if line.strip()]
        width = len(rows[0])
        for i, row in enumerate(rows):
            if len(row) != width:
                raise ScoringError(400, f"Loading csv data failed: line {i + 1} has {len(row)} "
                                        f"fields, line 1 has {width}; please ensure data is in "
                                        f"csv format without a header")
        try:
            return np.array(rows, dtype=np.float64)
        except ValueError as exc:
            raise ScoringError(400, f"Loading csv data failed with Exception, please ensure data "
                                    f"is in csv format without a header: {exc}") from None
    if ctype == JSON:
        try:
            obj = json.loads(body)
        except ValueError as exc:
            raise ScoringError(400, f"Loading json data failed: {exc}") from None
        if isinstance(obj, dict):
            obj = obj.get("instances", obj.get("inputs", obj.get("features")))
            if obj is None:
                raise ScoringError(400, "JSON object input needs an 'instances' member "
                                        "(a list of rows)")
        try:
            arr = np.array(obj, dtype=np.float64)
        except (ValueError, TypeError) as exc:
            raise ScoringError(400, f"JSON input is not a numeric array: {exc}") from None
        if arr.ndim == 1:
            arr = arr.reshape(1, -1)
        if arr.ndim != 2:
            raise ScoringError(400, f"JSON input must be a list of rows; got {arr.ndim} dimensions")
        return arr
    if ctype == NPY:
        try:
            arr = np.load(io.BytesIO(body), allow_pickle=False)
        except ValueError as exc:
            raise ScoringError(400, f"Loading npy data failed: {exc}") from None
        return arr.reshape(1, -1) if arr.ndim == 1 else arr
    raise ScoringError(415, f"Content type {content_type or '(none)'} is not supported by this "
                            f"model server: use one of {list(SUPPORTED)}")


def encode(prediction, accept: str) -> tuple[bytes, str]:
    """Response bytes for a prediction (array-like, or already bytes/str)."""
    import numpy as np

    if isinstance(prediction, (bytes, bytearray)):
        return bytes(prediction), accept
    if isinstance(prediction, str):
        return prediction.encode(), accept
    ctype = _media_type(accept)
    arr = np.asarray(prediction)
    if ctype == JSON:
        return json.dumps(arr.tolist()).encode(), JSON
    if ctype == CSV:
        if arr.ndim <= 1:
            lines = [_fmt(v) for v in arr.reshape(-1)]
        else:
            lines = [",".join(_fmt(v) for v in row) for row in arr]
        return ("\n".join(lines) + "\n").encode(), CSV
    if ctype == NPY:
        buf = io.BytesIO()
        np.save(buf, arr, allow_pickle=False)
        return buf.getvalue(), NPY
    raise ScoringError(406, f"Accept type {accept} is not supported by this model server: "
                            f"use one of {list(SUPPORTED)}")


def _fmt(value) -> str:
    return repr(value.item()) if hasattr(value, "item") else repr(value)


def _check_width(data, model: LoadedModel) -> None:
    width = data.shape[1] if getattr(data, "ndim", 0) == 2 else None
    if model.n_features and width is not None and width != model.n_features:
        raise ScoringError(400, f"The input has {width} features, but the model expects "
                                f"{model.n_features} features")


def default_predict(data, model: LoadedModel):
    if model.kind == "xgboost":
        import xgboost as xgb
        matrix = data if isinstance(data, xgb.DMatrix) else xgb.DMatrix(data)
        return model.model.predict(matrix)
    if model.kind == "sklearn" and hasattr(model.model, "predict_proba") and \
            os.environ.get("SAGEMAKER_SKLEARN_PREDICT", "predict") == "predict_proba":
        return model.model.predict_proba(data)
    return model.model.predict(data)


# -- the pure scoring function ------------------------------------------------------------------

def _user(fn_name: str, model: LoadedModel, context: RequestContext | None, *args):
    """Call a user function as the inference toolkit does: with the request context when it
    takes one parameter more than ``args``."""
    fn = getattr(model, fn_name)
    n = model.arity.get(fn_name, len(args))
    if n == len(args) + 1:
        args = (*args, context if context is not None else RequestContext({}))
    elif n not in (len(args), -1):
        raise ScoringError(500, f"{fn_name} takes {n} arguments but {len(args)} were given")
    try:
        return fn(*args)
    except ScoringError:
        raise
    except Exception as exc:
        raise ScoringError(500, f"{fn_name} raised {type(exc).__name__}: {exc}") from exc


def _user_body(body: bytes, content_type: str):
    """The body as user code gets it: text for CSV and JSON (the containers decode them)."""
    if _media_type(content_type) in (CSV, JSON):
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ScoringError(400, f"The request body is not UTF-8 {content_type}: {exc}") from None
    return body


def invocations(body: bytes, content_type: str | None, accept: str | None,
                model: LoadedModel, context: RequestContext | None = None) -> tuple[bytes, str]:
    """Score one request: ``(response body, response content type)`` or :class:`ScoringError`.

    ``context`` carries the request's headers to user functions that take it, and the
    response headers they set (``context.response_headers``).
    """
    accept = accept if accept and _media_type(accept) not in ("*/*", "") else model.default_accept
    if model.kind == "blazingtext" and model.transform_fn is None and model.input_fn is None:
        from . import blazingtext
        return blazingtext.invocations(body, content_type, accept, model.model)
    if not content_type:
        content_type = CSV if model.kind == "xgboost" else JSON
    if model.transform_fn is not None:
        result = _user("transform_fn", model, context, model.model, _user_body(body, content_type),
                       content_type, accept)
        if isinstance(result, tuple):
            out, ctype = result
            return (out.encode() if isinstance(out, str) else bytes(out)), ctype
        return encode(result, accept)
    if model.input_fn is not None:
        data = _user("input_fn", model, context, _user_body(body, content_type), content_type)
    else:
        data = decode(body, content_type)
        _check_width(data, model)
    if model.predict_fn is not None:
        prediction = _user("predict_fn", model, context, data, model.model)
    else:
        try:
            prediction = default_predict(data, model)
        except ValueError as exc:  # scikit-learn's wording for shape and value problems
            raise ScoringError(400, str(exc)) from None
        except Exception as exc:
            raise ScoringError(500, f"predict raised {type(exc).__name__}: {exc}") from exc
    if model.output_fn is None and model.kind == "xgboost" and _media_type(accept) == JSON:
        # the built-in algorithm's JSON answer: {"predictions": [{"score": p}, ...]}
        import numpy as np
        scores = np.asarray(prediction).tolist()
        return json.dumps({"predictions": [{"score": s} for s in scores]}).encode(), JSON
    if model.output_fn is not None:
        result = _user("output_fn", model, context, prediction, accept)
        if isinstance(result, tuple):
            out, ctype = result
            return (out.encode() if isinstance(out, str) else bytes(out)), ctype
        if isinstance(result, str):
            return result.encode(), accept
        if isinstance(result, (bytes, bytearray)):
            return bytes(result), accept
        return encode(result, accept)
    return encode(prediction, accept)
