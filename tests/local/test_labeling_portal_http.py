"""The worker portal over HTTP (Starlette's test client) and the Liquid templates with Ground
Truth's filters; the browser test drives the same portal in Chromium."""
from __future__ import annotations

import json
import urllib.request
import warnings

import pytest

with warnings.catch_warnings():   # starlette 1.x announces a move from httpx to httpx2
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from local_backends.s3.presign import stop_server
from local_backends.sagemaker.labeling import templates
from local_backends.sagemaker.labeling.portal import make_app
from tests.contract.test_sagemaker.test_sagemaker_labeling_support import (BUCKET, REGION, SENTIMENTS, create_team,
                                                                          digit_images, job_request, list_keys,
                                                                          put_labels, put_text_manifest, read_lines)


def test_liquid_filters_as_ground_truth_has_them():
    page = templates.render(
        '<a data-x="{{ task.input.labels | to_json | escape }}">{{ task.input.text }}</a>'
        '{{ task.input.html | skip_autoescape }}{{ task.input.html | skip_encoding }}'
        '<img src="{{ task.input.taskObject | grant_read_access }}">{% if task.input.flag %}yes{% endif %}',
        {"labels": ["a<b", "c"], "text": "<script>x</script>", "html": "<i>ok</i>",
         "taskObject": "s3://b/k.png", "flag": True},
        presign=lambda uri: "https://signed/" + uri[5:])
    assert 'data-x="[&#34;a&lt;b&#34;, &#34;c&#34;]"' in page          # to_json, escaped once
    assert "&lt;script&gt;" in page                                     # autoescaped by default
    assert page.count("<i>ok</i>") == 2 and 'src="https://signed/b/k.png"' in page and page.endswith("yes")
    with pytest.raises(templates.TemplateError):
        templates.render("{% if %}", {})


def test_grant_read_access_gives_a_url_the_local_s3_serves(local_session):
    from local_backends.sagemaker.labeling.portal.app import Portal
    s3 = local_session.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    row = digit_images(s3, n=1)[0]
    try:
        url = Portal(local_session.home).presigner(REGION)(row["source-ref"])
        assert url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(url, timeout=10) as resp:
            assert resp.read()[:8] == b"\x89PNG\r\n\x1a\n"
    finally:
        stop_server(local_session.home)      # the presign server is a detached process


def test_portal_lists_renders_and_stores_answers(local_session):
    s3, sm = local_session.client("s3"), local_session.client("sagemaker")
    s3.create_bucket(Bucket=BUCKET)
    backend = local_session.router.backend("sagemaker", REGION)
    team = create_team(sm)
    worker = backend.add_worker("labelers", "Grace Hopper", "grace@example.com")
    rows = [{"source": "A <b>bold</b> claim"}, {"source": "Another one"}]
    sm.create_labeling_job(**job_request(s3, "portal-text", "TextMultiClass", team, put_text_manifest(s3, rows),
                                         put_labels(s3, SENTIMENTS)))
    client = TestClient(make_app(local_session.home))
    assert "Grace Hopper" in client.get("/").text
    home = client.get(f"/workers/{worker}").text
    assert "portal-text" in home and "Start working" in home

    page = client.get(f"/workers/{worker}/jobs/{REGION}/portal-text").text
    assert 'src="/static/crowd-html-elements.js" defer' in page and "assets.crowd.aws" not in page
    assert "A &lt;b&gt;bold&lt;/b&gt; claim" in page and "window.__CROWD_PORTAL__" in page
    assert client.get("/static/crowd-html-elements.js").status_code == 200

    bad = client.post(f"/workers/{worker}/jobs/{REGION}/portal-text/tasks/0", json={"crowd-classifier": {"label": "?"}})
    assert bad.status_code == 400 and "not one of the job's labels" in bad.json()["message"]
    assert client.post(f"/workers/{worker}/jobs/{REGION}/portal-text/tasks/1",
                       json={"crowd-classifier": {"label": "POSITIVE"}}).status_code == 409   # not assigned
    ok = client.post(f"/workers/{worker}/jobs/{REGION}/portal-text/tasks/0",
                     json={"crowd-classifier": {"label": "POSITIVE"}})
    assert ok.status_code == 200 and ok.json()["next"].endswith("/portal-text")
    client.get(f"/workers/{worker}/jobs/{REGION}/portal-text")
    client.post(f"/workers/{worker}/jobs/{REGION}/portal-text/tasks/1", json={"crowd-classifier": {"label": "NEGATIVE"}})
    assert 'data-state="done"' in client.get(f"/workers/{worker}/jobs/{REGION}/portal-text").text

    d = sm.describe_labeling_job(LabelingJobName="portal-text")
    assert d["LabelingJobStatus"] == "Completed"
    assert [x["label-metadata"]["class-name"] for x in read_lines(s3, d["LabelingJobOutput"]["OutputDatasetS3Uri"])] \
        == ["POSITIVE", "NEGATIVE"]
    (key,) = list_keys(s3, "output/portal-text/annotations/worker-response/iteration-1/0/")
    answer = json.loads(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())["answers"][0]
    assert answer["workerId"] == worker and answer["answerContent"] == {"crowd-classifier": {"label": "POSITIVE"}}
    assert answer["workerMetadata"]["identityData"]["identityProviderType"] == "Cognito"


def test_portal_module_entry_point_parses_arguments():
    from local_backends.sagemaker.labeling.portal.__main__ import main
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
