"""The model server's scoring without HTTP: ``invocations(body, content_type, accept, model)``
with the containers' default handlers and with a user's entry point; the Starlette app
through its test client."""
from __future__ import annotations

import io
import json
import warnings

import numpy as np
import pytest

from local_backends.sagemaker.model_server import ModelLoadError, ScoringError, invocations, load_model

pytest.importorskip("sklearn")


@pytest.fixture(scope="module")
def sklearn_dir(tmp_path_factory):
    import joblib
    from sklearn.linear_model import LogisticRegression
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 4))
    y = (x[:, 0] + x[:, 1] > 0).astype(int)
    d = tmp_path_factory.mktemp("sk")
    clf = LogisticRegression().fit(x, y)
    joblib.dump(clf, d / "model.joblib")
    return d, clf, x


@pytest.fixture(scope="module")
def xgb_dir(tmp_path_factory):
    xgb = pytest.importorskip("xgboost")
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 3))
    booster = xgb.train({"objective": "binary:logistic"}, xgb.DMatrix(x, label=x[:, 0] > 0), 4)
    d = tmp_path_factory.mktemp("xgb")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # no extension: the built-in algorithm's file name
        booster.save_model(str(d / "xgboost-model"))
    return d, booster, x


def test_sklearn_csv_json_npy(sklearn_dir):
    d, clf, x = sklearn_dir
    model = load_model(d)
    assert model.kind == "sklearn" and model.default_accept == "application/json"
    csv = "\n".join(",".join(map(repr, r)) for r in x[:3].tolist()).encode()
    out, ctype = invocations(csv, "text/csv", None, model)
    assert ctype == "application/json" and json.loads(out) == clf.predict(x[:3]).tolist()
    out, ctype = invocations(json.dumps({"instances": x[:2].tolist()}).encode(),
                             "application/json", "text/csv", model)
    assert ctype == "text/csv" and out.decode().split() == [str(v) for v in clf.predict(x[:2])]
    buf = io.BytesIO()
    np.save(buf, x[:2])
    out, ctype = invocations(buf.getvalue(), "application/x-npy", "application/x-npy", model)
    assert np.load(io.BytesIO(out)).tolist() == clf.predict(x[:2]).tolist()


@pytest.mark.parametrize("body,ctype,status,words", [
    (b"1,2,3,4", "image/png", 415, "not supported"),
    (b"1,2\n3", "text/csv", 400, "fields"),
    (b"a,b,c,d", "text/csv", 400, "csv format"),
    (b"1,2,3", "text/csv", 400, "expects 4 features"),
    (b"{not json", "application/json", 400, "json"),
    (b"", "text/csv", 400, "empty"),
])
def test_bad_requests_are_4xx(sklearn_dir, body, ctype, status, words):
    model = load_model(sklearn_dir[0])
    with pytest.raises(ScoringError) as err:
        invocations(body, ctype, None, model)
    assert err.value.status == status and words in err.value.message


def test_bad_accept_is_406(sklearn_dir):
    with pytest.raises(ScoringError) as err:
        invocations(b"1,2,3,4", "text/csv", "image/png", load_model(sklearn_dir[0]))
    assert err.value.status == 406


def test_xgboost_builtin_conventions(xgb_dir):
    import xgboost as xgb
    d, booster, x = xgb_dir
    model = load_model(d)
    assert model.kind == "xgboost" and model.default_accept == "text/csv"
    out, ctype = invocations(b"\n".join(",".join(map(repr, r)).encode() for r in x[:2].tolist()),
                             "text/csv", "*/*", model)
    expected = booster.predict(xgb.DMatrix(x[:2]))
    assert ctype == "text/csv"
    assert [float(v) for v in out.decode().split()] == pytest.approx(expected.tolist())
    out, ctype = invocations(json.dumps(x[:2].tolist()).encode(), "application/json",
                             "application/json", model)
    assert [p["score"] for p in json.loads(out)["predictions"]] == pytest.approx(expected.tolist())


def test_user_entry_point_and_its_errors(sklearn_dir, tmp_path):
    d, clf, x = sklearn_dir
    code = tmp_path / "code"
    code.mkdir()
    (code / "serve.py").write_text(
        "import json, os, joblib\n"
        "def model_fn(model_dir):\n    return joblib.load(os.path.join(model_dir, 'model.joblib'))\n"
        "def input_fn(body, content_type):\n"
        "    rows = json.loads(body)['rows']\n"
        "    if not rows: raise ValueError('no rows given')\n"
        "    return rows\n"
        "def predict_fn(data, model):\n    return model.predict_proba(data)[:, 1]\n"
        "def output_fn(prediction, accept):\n"
        "    return json.dumps({'p': [round(float(p), 6) for p in prediction]}), 'application/json'\n")
    model = load_model(d, code, "serve.py")
    assert model.kind == "custom"
    out, ctype = invocations(json.dumps({"rows": x[:2].tolist()}).encode(), "application/json",
                             None, model)
    assert json.loads(out)["p"] == [round(float(p), 6) for p in clf.predict_proba(x[:2])[:, 1]]
    with pytest.raises(ScoringError) as err:
        invocations(json.dumps({"rows": []}).encode(), "application/json", None, model)
    assert err.value.status == 500 and "ValueError: no rows given" in err.value.message


def test_inference_py_inside_the_archive(sklearn_dir, tmp_path):
    import shutil
    d, clf, x = sklearn_dir
    model_dir = tmp_path / "model"
    shutil.copytree(d, model_dir)
    (model_dir / "code").mkdir()
    (model_dir / "code" / "inference.py").write_text(
        "def predict_fn(data, model):\n    return model.predict(data) + 10\n")
    model = load_model(model_dir)
    out, _ = invocations(b"0,0,0,0", "text/csv", "application/json", model)
    assert json.loads(out) == [int(clf.predict(np.zeros((1, 4)))[0]) + 10]


def test_a_directory_without_model_fails_clearly(tmp_path):
    (tmp_path / "weights.bin").write_bytes(b"x")
    with pytest.raises(ModelLoadError, match="no model found.*weights.bin"):
        load_model(tmp_path)


def test_the_app_over_asgi(sklearn_dir):
    pytest.importorskip("httpx")
    from starlette.testclient import TestClient

    from local_backends.sagemaker.model_server.app import LATENCY_HEADER, make_app
    d, clf, x = sklearn_dir
    with TestClient(make_app(load_model(d))) as client:
        assert client.get("/ping").status_code == 200
        r = client.post("/invocations", content=b"0.1,0.2,0.3,0.4", headers={"Content-Type": "text/csv"})
        assert r.status_code == 200 and int(r.headers[LATENCY_HEADER]) >= 0
        r = client.post("/invocations", content=b"0.1", headers={"Content-Type": "text/csv"})
        assert r.status_code == 400 and "features" in r.text


ATTRS_ENTRY_POINT = (
    "import os, joblib\n"
    "def model_fn(model_dir, context):\n"
    "    assert context.system_properties['model_dir'] == model_dir\n"
    "    return joblib.load(os.path.join(model_dir, 'model.joblib'))\n"
    "def input_fn(body, content_type, context):\n"
    "    assert isinstance(body, str), type(body)      # the containers decode CSV and JSON\n"
    "    return [[float(v) for v in line.split(',')] for line in body.splitlines()]\n"
    "def predict_fn(data, model):\n"
    "    return model.predict(data)\n"
    "def output_fn(prediction, accept, context):\n"
    "    attrs = context.get_request_header(0, 'X-Amzn-SageMaker-Custom-Attributes') or ''\n"
    "    context.set_response_header(0, 'X-Amzn-SageMaker-Custom-Attributes', 'seen=' + attrs)\n"
    "    if 'fail' in attrs: raise RuntimeError('the caller asked for a failure')\n"
    "    return ','.join(str(int(p)) for p in prediction), 'text/csv'\n")


def test_handlers_that_take_the_context_read_and_set_headers(sklearn_dir, tmp_path):
    from local_backends.sagemaker.model_server.context import RequestContext
    d, clf, x = sklearn_dir
    code = tmp_path / "code"
    code.mkdir()
    (code / "attrs_handler.py").write_text(ATTRS_ENTRY_POINT)
    model = load_model(d, code, "attrs_handler.py")
    ctx = RequestContext({"X-Amzn-SageMaker-Custom-Attributes": "trace=7"})
    body = "\n".join(",".join(map(repr, r)) for r in x[:3].tolist()).encode()
    out, ctype = invocations(body, "text/csv", None, model, ctx)
    assert (out.decode(), ctype) == (",".join(str(v) for v in clf.predict(x[:3])), "text/csv")
    assert ctx.response_headers == {"x-amzn-sagemaker-custom-attributes": "seen=trace=7"}
    out, _ = invocations(body, "text/csv", None, model)        # no context given: an empty one
    assert out.decode() == ",".join(str(v) for v in clf.predict(x[:3]))
    with pytest.raises(ScoringError) as err:
        invocations(body, "text/csv", None, model, RequestContext({"x-amzn-sagemaker-custom-attributes": "fail"}))
    assert err.value.status == 500 and "RuntimeError: the caller asked for a failure" in err.value.message


def test_transform_fn_with_input_fn_is_refused_as_the_toolkit_does(sklearn_dir, tmp_path):
    code = tmp_path / "code"
    code.mkdir()
    (code / "both.py").write_text("def transform_fn(m, b, c, a):\n    return b\n"
                                  "def input_fn(b, c):\n    return b\n")
    with pytest.raises(ModelLoadError, match="transform_fn .* in conjunction"):
        load_model(sklearn_dir[0], code, "both.py")


def test_custom_attributes_cross_the_app(sklearn_dir, tmp_path):
    pytest.importorskip("httpx")
    from starlette.testclient import TestClient

    from local_backends.sagemaker.model_server.app import CUSTOM_ATTRIBUTES, make_app
    d, clf, x = sklearn_dir
    code = tmp_path / "code"
    code.mkdir()
    (code / "attrs_handler.py").write_text(ATTRS_ENTRY_POINT)
    with TestClient(make_app(load_model(d, code, "attrs_handler.py"))) as client:
        r = client.post("/invocations", content=b"0.1,0.2,0.3,0.4",
                        headers={"Content-Type": "text/csv", CUSTOM_ATTRIBUTES: "a=1"})
        assert r.status_code == 200 and r.headers[CUSTOM_ATTRIBUTES] == "seen=a=1"
        r = client.post("/invocations", content=b"0.1,0.2,0.3,0.4",
                        headers={"Content-Type": "text/csv", CUSTOM_ATTRIBUTES: "fail"})
        assert r.status_code == 500 and "the caller asked for a failure" in r.text
