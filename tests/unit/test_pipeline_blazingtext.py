"""BlazingText as the training algorithm of a pipeline (``training.algorithm: blazingtext``): a
small text pipeline whose labels come from simulated workers runs its eight sections on the
local backend — text channels in section 4, a BlazingText job in section 5, a JSON endpoint in
sections 6 and 7, BlazingText models scored, diagnosed and tuned in section 8 — and a file
asking BlazingText for what it cannot do fails before any work."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from aws_ml import Session, datasets, serving
from aws_ml.pipeline import PipelineFileError, load_pipeline, run

from .pipeline_support import changed, write_pipeline

pytest.importorskip("fasttext")

ROWS, BUDGET = 300, 150


def text_pipeline(folder: Path, **sections) -> dict:
    """300 review sentences, 150 labelled by three simulated workers, BlazingText."""
    d = datasets.load("reviews/imdb_sentences").sample(ROWS, random_state=3).reset_index(drop=True)
    folder.mkdir(parents=True, exist_ok=True)
    d.to_csv(folder / "reviews.csv", index=False)
    spec = {"name": "reviews-bt",
            "problem": {"objective": "Answer unhappy reviewers first", "question": "Is the sentence positive?",
                        "target": "label", "problem_type": "binary", "positive_class": "POSITIVE",
                        "metric": "f1", "threshold": 0.99},           # out of reach: section 8 iterates
            "data": {"sources": [{"name": "reviews", "path": "reviews.csv"}],
                     "labeling": {"task": "text-classification", "text_column": "text",
                                  "labels": ["NEGATIVE", "POSITIVE"], "budget": BUDGET,
                                  "simulated_workers": {"truth": "sentiment", "count": 3, "accuracy": 0.9,
                                                        "seed": 0}}},
            "evaluation": {},
            "features": {"record_id": "record_id", "numeric": [], "categorical": [], "text": ["text"],
                         "text_components": 10},
            "training": {"algorithm": "blazingtext", "hyperparameters": {"epochs": 10}},
            "deployment": {"endpoint_name": "{name}-endpoint"},
            "monitoring": {"requests": 100},
            # ranges over two of the algorithm's default static hyperparameters
            "tuning": {"run": "on_miss", "actions": ["tune"], "max_iterations": 1, "strategy": "random",
                       "max_jobs": 2, "max_parallel_jobs": 2,
                       "ranges": {"learning_rate": [0.1, 1.0], "word_ngrams": [1, 3]}}}
    spec.update(sections)
    return spec


def _lines(session, uri: str) -> list[str]:
    bucket, _, key = uri[5:].partition("/")
    return session.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read().decode().splitlines()


@pytest.mark.slow
def test_a_blazingtext_pipeline_runs_its_eight_sections(tmp_path):
    path = write_pipeline(tmp_path, text_pipeline(tmp_path))
    with Session(backend="local", home=tmp_path / "home", region="us-east-1") as session:
        try:
            result = run(path, session, progress=False)
            assert result.ok, [(s.name, s.status, s.message) for s in result.steps]
            assert [s.status for s in result.steps] == ["done"] * 8

            # section 4: __label__ lines of the class index, the same split as the CSV sets
            f = result.step("features").outputs
            assert f["label_encoding"] == {"NEGATIVE": 0, "POSITIVE": 1}
            arts = f["artifacts"]
            for part in ("train", "validation", "test"):
                text = _lines(session, arts[f"text_{part}"])
                csv = _lines(session, arts[part])
                assert len(text) == len(csv) == f["rows"][part]
                assert [line.split(" ", 1)[0] for line in text] == [f"__label__{row.split(',')[0]}" for row in csv]
            assert arts["text_train"].endswith("/features/text/train/train.txt")
            assert f["text_channels"]["column"] == "text"

            # section 5: a BlazingText job on the text channels, against the majority class
            t = result.step("training").outputs
            assert t["algorithm"] == "blazingtext" and t["image"].endswith("/blazingtext:1")
            assert t["channels"].endswith("/features/text/")
            hps = t["hyperparameters"]
            assert hps["mode"] == "supervised" and hps["buckets"] == "200000" and hps["word_ngrams"] == "2"
            assert 0.0 <= t["metrics"]["validation:accuracy"] <= 1.0
            assert 0.5 <= t["baselines"]["validation:accuracy"] <= 1.0

            # section 6: a JSON smoke test; section 7: the endpoint's answers as scores
            d = result.step("deployment").outputs
            assert d["content_type"] == "application/json" and d["algorithm"] == "blazingtext"
            assert d["smoke_test"]["prediction"].startswith('[{"label": ["__label__')
            m = result.step("monitoring").outputs
            assert m["evaluated"] and m["n"] == f["rows"]["test"]
            f1 = m["metrics"]["f1"]
            assert 0.0 <= f1 <= 1.0 and m["confusion_matrix"]
            assert m["drift"] is not None and "captured sentences" in m["drift"]["of"]

            # section 8: the model of section 5 scored from its model.bin, the same F1 as the
            # endpoint's on the same test sentences; one BlazingText tuning iteration
            o = result.step("tuning").outputs
            assert o["initial"]["value"] == pytest.approx(f1, abs=1e-9)
            assert "model.bin" in o["initial"]["evaluated_on"]
            its = o["iterations"]
            assert [it["action"] for it in its] == ["tune"] and not its[0].get("failed"), its
            assert o["objective"] == "validation:accuracy" and len(o["trials"]) == 2
            assert all(set(tr["hyperparameters"]) == {"learning_rate", "word_ngrams"} for tr in o["trials"])
            curve = its[0]["diagnosis"]["learning_curve"]
            assert len(curve) >= 3 and all(0.0 <= p["validation"] <= 1.0 for p in curve)
            assert 0.0 <= its[0]["value_after"] <= 1.0
            assert o["final"]["kind"] == "blazingtext"

            report = json.loads(Path(result.report_json).read_text())
            answers = {s["title"]: [a["answer"] for a in s["answers"]] for s in report["sections"]}
            training_answers = next(v for k, v in answers.items() if k.startswith("Model selection"))
            assert "BlazingText in supervised mode" in training_answers[0]
            assert "validation:accuracy" in training_answers[2]
        finally:
            for e in session.client("sagemaker").list_endpoints()["Endpoints"]:
                serving.delete(session, e["EndpointName"])


@pytest.mark.slow
def test_relabel_appends_text_lines_and_retrains_blazingtext(tmp_path):
    spec = text_pipeline(tmp_path, tuning={"run": "on_miss", "actions": ["relabel"], "max_iterations": 1,
                                           "relabel_items": 40})
    for section in ("evaluation", "deployment", "monitoring"):
        spec.pop(section)
    with Session(backend="local", home=tmp_path / "home", region="us-east-1") as session:
        result = run(write_pipeline(tmp_path, spec), session, progress=False)
        assert result.ok, [(s.name, s.status, s.message) for s in result.steps]
        o = result.step("tuning").outputs
        it = o["iterations"][0]
        assert it["action"] == "relabel" and it["labelled"] == 40 and not it.get("failed"), it
        rows = result.step("features").outputs["rows"]["train"]
        lines = _lines(session, f"s3://{result.bucket}/{result.prefix}/tuning/relabel-1/channels/train/train.txt")
        assert len(lines) == rows + 40 == it["train_rows"]
        assert all(line.startswith(("__label__0 ", "__label__1 ")) for line in lines)
        job = session.client("sagemaker").describe_training_job(TrainingJobName=it["job"])
        assert job["AlgorithmSpecification"]["TrainingImage"].endswith("/blazingtext:1")
        assert 0.0 <= it["value_after"] <= 1.0


BAD = [
    (("problem.problem_type", "regression"),
     "training.algorithm: expected 'xgboost' unless problem.problem_type is 'binary' or 'multiclass'"),
    (("features.text", ["text", "sentiment"]),
     "features.text: expected exactly one text column for training.algorithm 'blazingtext', got 2"),
    (("features.numeric", ["record_id"]), "features.numeric: expected [] (or null) with training.algorithm 'blazingtext'"),
    (("features.split", {"validation": 0}), "features.split.validation: expected a fraction in (0, 0.5]"),
    (("training.hyperparameters", {"max_depth": 3}),
     "training.hyperparameters.max_depth: expected a BlazingText hyperparameter of supervised mode"),
    (("training.hyperparameters", {"mode": "skipgram"}),
     "training.hyperparameters.mode: expected 'supervised' (text classification), got a string 'skipgram'"),
    (("tuning.ranges", {"eta": [0.05, 0.4]}),
     "tuning.ranges.eta: expected a BlazingText hyperparameter to tune with training.algorithm 'blazingtext'"),
    (("training.algorithm", "fasttext"), "training.algorithm: expected one of 'xgboost', 'blazingtext', got"),
]


@pytest.mark.parametrize("change, message", BAD, ids=[b[0][0] + "=" + str(b[0][1])[:12] for b in BAD])
def test_what_blazingtext_cannot_do_fails_before_any_work(tmp_path, change, message):
    spec = changed(text_pipeline(tmp_path), *change)
    path = write_pipeline(tmp_path, spec)
    with pytest.raises(PipelineFileError) as info:
        load_pipeline(path)
    text = str(info.value)
    assert "\n" not in text and text.startswith(f"{path}: {message}"), text
    with Session(backend="local", home=tmp_path / "home", region="us-east-1") as session:
        with pytest.raises(PipelineFileError):
            run(path, session, progress=False)
        assert session.client("s3").list_buckets()["Buckets"] == []          # nothing created


def test_no_features_section_is_refused_with_blazingtext(tmp_path):
    spec = text_pipeline(tmp_path)
    spec.pop("features")
    with pytest.raises(PipelineFileError, match=r": training\.algorithm: expected 'xgboost' without a features "):
        load_pipeline(write_pipeline(tmp_path, spec))
