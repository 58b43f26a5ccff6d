"""The Ground Truth worker portal in a real headless Chromium, used as a person would: sign
in, open a text-classification task and click a category, open a bounding-box task on a digit
image and drag a box, choose several categories, select a span of text and tag it as an entity;
the answers land in the jobs' worker responses in S3."""
from __future__ import annotations

import json

import pytest

from aws_ml import Session
from local_backends.s3.presign import stop_server
from local_backends.sagemaker.labeling.portal import serve_portal, stop_portal
from tests.contract.test_sagemaker.test_sagemaker_labeling_support import (BUCKET, REGION, SENTIMENTS, create_team,
                                                                          digit_images, job_request, list_keys,
                                                                          put_labels, put_text_manifest)


@pytest.fixture(scope="module")
def portal(tmp_path_factory):
    """A local state root with two jobs for one human worker, and the portal serving it."""
    home = tmp_path_factory.mktemp("labeling-portal") / "home"
    with Session(backend="local", home=home, region=REGION) as s:
        s3, sm = s.client("s3"), s.client("sagemaker")
        s3.create_bucket(Bucket=BUCKET)
        team = create_team(sm)
        worker = s.router.backend("sagemaker", REGION).add_worker("labelers", "Ada Lovelace", "ada@example.com")
        texts = [{"source": "An utterly delightful film, I loved every minute."}, {"source": "Dull."}]
        sm.create_labeling_job(**job_request(s3, "web-text", "TextMultiClass", team, put_text_manifest(s3, texts),
                                             put_labels(s3, SENTIMENTS)))
        images = digit_images(s3, n=2, side=128)
        manifest = put_text_manifest(s3, [{"source-ref": r["source-ref"]} for r in images], key="input/digits.manifest")
        sm.create_labeling_job(**job_request(s3, "web-boxes", "BoundingBox", team, manifest,
                                             put_labels(s3, ["digit"], key="input/box-labels.json")))
        sm.create_labeling_job(**job_request(
            s3, "web-ner", "NamedEntityRecognition", team,
            put_text_manifest(s3, [{"source": "Ada Lovelace lived in London."}], key="input/ner.manifest"),
            put_labels(s3, ["PERSON", "PLACE"], key="input/ner-labels.json")))
        sm.create_labeling_job(**job_request(
            s3, "web-multi", "TextMultiClassMultiLabel", team,
            put_text_manifest(s3, [{"source": "Great music, weak plot."}], key="input/multi.manifest"),
            put_labels(s3, ["music", "plot", "acting"], key="input/multi-labels.json")))
        url = serve_portal(home)
        try:
            yield {"url": url, "worker": worker, "s3": s3, "images": images}
        finally:
            stop_portal(home)
            stop_server(home)


def open_page(browser, url):
    page = browser.new_page()
    problems: dict[str, list[str]] = {"console": [], "page": [], "network": []}
    page.on("console", lambda m: problems["console"].append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems["page"].append(str(e)))

    def guard(route):
        if route.request.url.startswith("http://127.0.0.1:"):
            route.continue_()
        else:                      # nothing may come from the internet (assets.crowd.aws included)
            problems["network"].append(route.request.url)
            route.abort()

    page.route("**/*", guard)
    page.goto(url, wait_until="load")
    return page, problems


def worker_responses(s3, job: str) -> list[dict]:
    out = []
    for key in list_keys(s3, f"output/{job}/annotations/worker-response/iteration-1/"):
        out += json.loads(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())["answers"]
    return out


def test_label_text_by_clicking_a_category(browser, portal):
    page, problems = open_page(browser, f"{portal['url']}/workers/{portal['worker']}")
    try:
        page.click('a.start[data-job="web-text"]')
        page.wait_for_selector("crowd-classifier .crowd-choice")
        assert "delightful" in page.inner_text("crowd-classifier .crowd-target")
        page.click("crowd-form button[type=submit]")               # nothing chosen: refused
        assert "Choose a category" in page.inner_text("crowd-classifier .crowd-error")
        page.click('crowd-classifier .crowd-choice[data-label="POSITIVE"]')
        assert page.get_attribute('.crowd-choice[data-label="POSITIVE"]', "aria-pressed") == "true"
        with page.expect_navigation():
            page.click("crowd-form button[type=submit]")
        page.wait_for_selector("crowd-classifier .crowd-choice")   # the next task
        assert "Dull." in page.inner_text("crowd-classifier .crowd-target")
    finally:
        page.close()
    (answer,) = worker_responses(portal["s3"], "web-text")
    assert answer["workerId"] == portal["worker"]
    assert answer["answerContent"] == {"crowd-classifier": {"label": "POSITIVE"}}
    assert problems == {"console": [], "page": [], "network": []}


def test_draw_a_bounding_box_by_dragging(browser, portal, artifacts):
    page, problems = open_page(browser, f"{portal['url']}/workers/{portal['worker']}")
    try:
        page.click('a.start[data-job="web-boxes"]')
        page.wait_for_function("() => { const i = document.querySelector('crowd-bounding-box img');"
                               " return i && i.complete && i.naturalWidth === 128; }")
        box = page.locator("crowd-bounding-box img").bounding_box()
        target = portal["images"][0]["box"]                         # the digit's inked pixels (128 px image)
        k = box["width"] / 128
        x0, y0 = box["x"] + target["left"] * k, box["y"] + target["top"] * k
        x1, y1 = x0 + target["width"] * k, y0 + target["height"] * k
        page.mouse.move(x0, y0)
        page.mouse.down()
        page.mouse.move((x0 + x1) / 2, (y0 + y1) / 2, steps=5)
        page.mouse.move(x1, y1, steps=5)
        page.mouse.up()
        assert page.locator("crowd-bounding-box .crowd-box").count() == 1
        page.screenshot(path=str(artifacts / "labeling_portal_bounding_box.png"), full_page=True)
        with page.expect_navigation():
            page.click("crowd-form button[type=submit]")
    finally:
        page.close()
    (answer,) = worker_responses(portal["s3"], "web-boxes")
    content = answer["answerContent"]["boundingBox"]
    assert content["inputImageProperties"] == {"height": 128, "width": 128}
    (drawn,) = content["boundingBoxes"]
    assert drawn["label"] == "digit"
    for key in ("left", "top", "width", "height"):
        assert abs(drawn[key] - target[key]) <= 3, (key, drawn, target)
    assert problems == {"console": [], "page": [], "network": []}


def test_choose_several_categories(browser, portal):
    page, problems = open_page(browser, f"{portal['url']}/workers/{portal['worker']}")
    try:
        page.click('a.start[data-job="web-multi"]')
        page.wait_for_selector("crowd-classifier-multi-select .crowd-choice")
        page.click('crowd-classifier-multi-select .crowd-choice[data-label="music"]')
        page.click('crowd-classifier-multi-select .crowd-choice[data-label="plot"]')
        page.click('crowd-classifier-multi-select .crowd-choice[data-label="acting"]')
        page.click('crowd-classifier-multi-select .crowd-choice[data-label="acting"]')     # and unchoose one
        with page.expect_navigation():
            page.click("crowd-form button[type=submit]")
    finally:
        page.close()
    (answer,) = worker_responses(portal["s3"], "web-multi")
    assert sorted(answer["answerContent"]["crowd-classifier-multi-select"]["labels"]) == ["music", "plot"]
    assert problems == {"console": [], "page": [], "network": []}


def test_mark_entities_by_selecting_text(browser, portal, artifacts):
    text = "Ada Lovelace lived in London."
    page, problems = open_page(browser, f"{portal['url']}/workers/{portal['worker']}")
    try:
        page.click('a.start[data-job="web-ner"]')
        page.wait_for_selector("crowd-entity-annotation .crowd-ner-text")
        box = page.locator("crowd-entity-annotation .crowd-ner-text")
        assert box.inner_text() == text
        page.mouse.dblclick(*_word_centre(page, "London"))                      # a person double-clicks the word
        page.click('crowd-entity-annotation .crowd-choice[data-label="PLACE"]')
        assert page.inner_text('crowd-entity-annotation .crowd-entity[data-label="PLACE"]') == "London"
        page.screenshot(path=str(artifacts / "labeling_portal_entities.png"), full_page=True)
        with page.expect_navigation():
            page.click("crowd-form button[type=submit]")
    finally:
        page.close()
    (answer,) = worker_responses(portal["s3"], "web-ner")
    (entity,) = answer["answerContent"]["crowd-entity-annotation"]["entities"]
    assert entity["label"] == "PLACE" and text[entity["startOffset"]:entity["endOffset"]] == "London"
    assert problems == {"console": [], "page": [], "network": []}


def _word_centre(page, word: str) -> tuple[float, float]:
    """The page coordinates of the middle of ``word`` in the entity text box."""
    x, y = page.evaluate("""word => {
        const node = document.querySelector('crowd-entity-annotation .crowd-ner-text').firstChild;
        const start = node.textContent.indexOf(word), range = document.createRange();
        range.setStart(node, start); range.setEnd(node, start + word.length);
        const r = range.getBoundingClientRect();
        return [r.left + r.width / 2, r.top + r.height / 2];
    }""", word)
    return x, y
