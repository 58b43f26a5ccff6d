"""The built-in BlazingText algorithm on the local backend: training jobs through boto3 on the
real review sentences (supervised, Word2Vec, bad hyperparameters, tuning on
``validation:accuracy``), the model served on an endpoint with AWS's JSON shapes, and the
algorithm and scoring functions on their own (augmented manifest input, 4XX bodies)."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from aws_ml import Session
from local_backends.sagemaker import blazingtext_algo, container
from tests.contract.test_sagemaker.test_sagemaker_training_support import (
    BUCKET, ROLE, read_tar, wait_done)
from tests.contract.test_sagemaker.test_sagemaker_tuning_support import all_trials, wait_tuning

fasttext = pytest.importorskip("fasttext")
pytestmark = pytest.mark.slow

IMAGE = "811284229777.dkr.ecr.us-east-1.amazonaws.com/blazingtext:1"
"""What ``sagemaker.image_uris.retrieve("blazingtext", "us-east-1")`` returns."""
ALGO = Path(blazingtext_algo.__file__)
# small enough to train in a second and keep model.bin a few MB (the AWS defaults, 2M buckets
# of 100 dimensions with word bigrams, make an 800 MB model.bin)
FAST = {"mode": "supervised", "epochs": "20", "learning_rate": "0.5", "min_count": "1",
        "vector_dim": "30", "buckets": "20000", "word_ngrams": "2"}


def tokenize(text: str) -> str:
    """Lower case, punctuation split off: the preprocessing BlazingText expects."""
    return " ".join(re.findall(r"[a-z0-9']+|[^\sa-z0-9']", text.lower()))


@pytest.fixture(scope="module")
def reviews():
    """``(train lines, validation lines, validation records)`` of the review sentences."""
    from aws_ml import datasets
    data = datasets.load("reviews/imdb_sentences").sample(frac=1.0, random_state=0)
    records = [(tokenize(t), s) for t, s in zip(data["text"], data["sentiment"])]
    lines = [f"__label__{s} {t}" for t, s in records]
    cut = int(len(lines) * 0.8)
    return lines[:cut], lines[cut:], records[cut:]


@pytest.fixture(scope="module")
def session(tmp_path_factory, reviews):
    home = tmp_path_factory.mktemp("bt_home")
    with Session(backend="local", home=home, region="us-east-1") as s:
        s3 = s.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        train, validation, _ = reviews
        s3.put_object(Bucket=BUCKET, Key="bt/train/reviews.train", Body="\n".join(train).encode())
        s3.put_object(Bucket=BUCKET, Key="bt/validation/reviews.validation",
                      Body="\n".join(validation).encode())
        s3.put_object(Bucket=BUCKET, Key="bt/text/corpus.txt",
                      Body="\n".join(line.split(" ", 1)[1] for line in train).encode())
        yield s


def _channel(name: str, prefix: str) -> dict:
    return {"ChannelName": name, "ContentType": "text/plain",
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{BUCKET}/{prefix}",
                                            "S3DataDistributionType": "FullyReplicated"}}}


def _request(name: str, hyperparameters: dict, channels: list[dict]) -> dict:
    return {
        "TrainingJobName": name, "RoleArn": ROLE, "HyperParameters": hyperparameters,
        "AlgorithmSpecification": {"TrainingImage": IMAGE, "TrainingInputMode": "File"},
        "InputDataConfig": channels,
        "OutputDataConfig": {"S3OutputPath": f"s3://{BUCKET}/output"},
        "ResourceConfig": {"InstanceType": "ml.c5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 5},
        "StoppingCondition": {"MaxRuntimeInSeconds": 600},
    }


def _artifact(session, uri: str) -> dict[str, bytes]:
    bucket, key = uri[5:].split("/", 1)
    return read_tar(session.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())


def _job_log(session, job: str) -> list[str]:
    logs = session.client("logs")
    group = "/aws/sagemaker/TrainingJobs"
    (stream,) = logs.describe_log_streams(logGroupName=group, logStreamNamePrefix=f"{job}/")["logStreams"]
    events = logs.get_log_events(logGroupName=group, logStreamName=stream["logStreamName"],
                                 startFromHead=True)["events"]
    return [e["message"] for e in events]


@pytest.fixture(scope="module")
def supervised_job(session):
    sm = session.client("sagemaker")
    sm.create_training_job(**_request("reviews-bt", dict(FAST), [
        _channel("train", "bt/train/"), _channel("validation", "bt/validation/")]))
    job = wait_done(sm, "reviews-bt", timeout=300)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    return job


# -- the image and its algorithm -------------------------------------------------------------------

def test_image_resolves_to_blazingtext():
    algorithm = container.resolve_algorithm({"TrainingImage": IMAGE}, {"mode": "supervised"})
    assert algorithm.kind == "blazingtext" and algorithm.version == "1"
    other = "685385470294.dkr.ecr.eu-west-1.amazonaws.com/blazingtext:latest"
    assert container.resolve_algorithm({"TrainingImage": other}, {}).kind == "blazingtext"


def test_hyperparameters_are_checked():
    hp = blazingtext_algo.parse_hyperparameters({"mode": "cbow", "subwords": "True",
                                                 "_tuning_objective_metric": "train:mean_rho"})
    assert hp["mode"] == "cbow" and hp["subwords"] is True and hp["epochs"] == 5
    assert hp["learning_rate"] == 0.05 and hp["buckets"] == 2000000 and hp["word_ngrams"] == 2
    bad = [({}, "Missing required hyperparameter: mode"),
           ({"mode": "bogus"}, "mode: value 'bogus' is not one of"),
           ({"mode": "supervised", "epochs": "0"}, "epochs: value 0 must be a positive integer"),
           ({"mode": "supervised", "epochs": "two"}, "epochs: value 'two' is not an integer"),
           ({"mode": "supervised", "learning_rate": "-1"}, "learning_rate: value -1 must be positive"),
           ({"mode": "supervised", "early_stopping": "maybe"}, "early_stopping: value 'maybe' is not a boolean"),
           ({"mode": "skipgram", "sampling_threshold": "2"}, "must be a fraction"),
           ({"mode": "skipgram", "min_char": "5", "max_char": "3"}, "max_char (3) must not be less"),
           ({"mode": "supervised", "num_round": "3"}, "Unknown hyperparameter(s) ['num_round']")]
    for hps, message in bad:
        with pytest.raises(blazingtext_algo.CustomerError) as err:
            blazingtext_algo.parse_hyperparameters(hps)
        assert message in str(err.value), (hps, str(err.value))


def test_metric_definitions_match_the_container_log():
    defs = {d["Name"]: re.compile(d["Regex"]) for d in blazingtext_algo.metric_definitions()}
    assert set(defs) == {"train:accuracy", "validation:accuracy", "train:mean_rho"}
    assert float(defs["train:accuracy"].search("#train_accuracy: 0.9888").group(1)) == 0.9888
    assert float(defs["validation:accuracy"].search("#validation_accuracy: 0.9228").group(1)) == 0.9228
    assert defs["validation:accuracy"].search("Validation accuracy: 0.922455") is None


def _run_algo(base: Path, hyperparameters: dict, channels: dict[str, str],
              data_config: dict | None = None) -> subprocess.CompletedProcess:
    for name, text in channels.items():
        (base / "input" / "data" / name).mkdir(parents=True)
        (base / "input" / "data" / name / "part-0").write_text(text)
    (base / "input" / "config").mkdir(parents=True)
    (base / "input" / "config" / "hyperparameters.json").write_text(json.dumps(hyperparameters))
    config = data_config or {name: {"TrainingInputMode": "File"} for name in channels}
    (base / "input" / "config" / "inputdataconfig.json").write_text(json.dumps(config))
    return subprocess.run([sys.executable, str(ALGO)], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "SAGEMAKER_BASE_DIR": str(base)})


def test_augmented_manifest_input(tmp_path, reviews):
    """Supervised mode reads Ground Truth's augmented manifest lines (``source`` + label)."""
    _, _, records = reviews
    train = "\n".join(json.dumps({"source": t, "sentiment": int(s == "POSITIVE"),
                                  "sentiment-metadata": {"class-name": s}}) for t, s in records[:150])
    val = "\n".join(json.dumps({"source": t, "sentiment": [int(s == "POSITIVE")]}) for t, s in records[150:])
    config = {ch: {"TrainingInputMode": "File", "AttributeNames": ["source", "sentiment"]}
              for ch in ("train", "validation")}
    out = _run_algo(tmp_path, FAST, {"train": train, "validation": val}, config)
    assert out.returncode == 0, out.stderr
    assert re.search(r"^#validation_accuracy: [0-9.]+$", out.stdout, re.M)
    model = fasttext.load_model(str(tmp_path / "model" / "model.bin"))
    assert sorted(model.get_labels()) == ["__label__0", "__label__1"]


def test_supervised_without_labels_fails(tmp_path):
    out = _run_algo(tmp_path, {"mode": "supervised"}, {"train": "no labels here\nnor here\n"})
    assert out.returncode == 1
    failure = (tmp_path / "output" / "failure").read_text()
    assert failure.startswith("ClientError: Channel 'train' has no labelled line")


# -- training jobs through boto3 -------------------------------------------------------------------

def test_supervised_job_on_reviews(session, supervised_job):
    job = supervised_job
    final = {m["MetricName"]: m["Value"] for m in job["FinalMetricDataList"]}
    assert set(final) == {"train:accuracy", "validation:accuracy"}
    print(f"BlazingText validation:accuracy on the review sentences: {final['validation:accuracy']}")
    assert final["validation:accuracy"] >= 0.65
    assert final["train:accuracy"] >= final["validation:accuracy"]
    assert {d["Name"] for d in job["AlgorithmSpecification"]["MetricDefinitions"]} >= {"validation:accuracy"}

    files = _artifact(session, job["ModelArtifacts"]["S3ModelArtifacts"])
    assert set(files) == {"model.bin", "model.vec"}
    header = files["model.vec"].split(b"\n", 1)[0].split()
    assert int(header[1]) == 30 and int(header[0]) > 1000

    messages = _job_log(session, "reviews-bt")
    assert "Number of train examples: 800" in messages
    assert "Number of validation examples: 200" in messages
    assert any(re.fullmatch(r"#validation_accuracy: [0-9.]+", m) for m in messages)


def test_model_bin_loads_in_fasttext(session, supervised_job, tmp_path, reviews):
    files = _artifact(session, supervised_job["ModelArtifacts"]["S3ModelArtifacts"])
    (tmp_path / "model.bin").write_bytes(files["model.bin"])
    model = fasttext.load_model(str(tmp_path / "model.bin"))
    assert sorted(model.get_labels()) == ["__label__NEGATIVE", "__label__POSITIVE"]
    _, _, records = reviews
    labels, _ = model.predict([t for t, _ in records])
    accuracy = sum(lab[0] == f"__label__{s}" for lab, (_, s) in zip(labels, records)) / len(records)
    assert accuracy >= 0.65


def test_bad_mode_fails_with_its_reason(session):
    sm = session.client("sagemaker")
    sm.create_training_job(**_request("bt-bad-mode", {"mode": "unsupervised"},
                                      [_channel("train", "bt/train/")]))
    job = wait_done(sm, "bt-bad-mode", timeout=120)
    assert job["TrainingJobStatus"] == "Failed"
    assert job["FailureReason"] == (
        "AlgorithmError: ClientError: Hyperparameter mode: value 'unsupervised' is not one of "
        "['supervised', 'skipgram', 'cbow', 'batch_skipgram']")


def test_skipgram_job_writes_vectors(session):
    sm = session.client("sagemaker")
    sm.create_training_job(**_request("reviews-skipgram", {
        "mode": "skipgram", "epochs": "3", "min_count": "2", "vector_dim": "20", "subwords": "True",
        "min_char": "3", "max_char": "5", "buckets": "20000"}, [_channel("train", "bt/text/")]))
    job = wait_done(sm, "reviews-skipgram", timeout=300)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    files = _artifact(session, job["ModelArtifacts"]["S3ModelArtifacts"])
    assert set(files) == {"vectors.bin", "vectors.txt"}
    lines = files["vectors.txt"].decode().splitlines()
    count, dim = map(int, lines[0].split())
    assert dim == 20 and count == len(lines) - 1 > 100
    word, *values = lines[1].split()
    assert len(values) == 20
    assert "FinalMetricDataList" not in job   # no WS-353 locally: no train:mean_rho


def test_word2vec_rejects_a_validation_channel(session):
    sm = session.client("sagemaker")
    sm.create_training_job(**_request("bt-cbow-val", {"mode": "cbow"}, [
        _channel("train", "bt/text/"), _channel("validation", "bt/validation/")]))
    job = wait_done(sm, "bt-cbow-val", timeout=120)
    assert job["TrainingJobStatus"] == "Failed"
    assert "Channel(s) ['validation'] are not supported in cbow mode" in job["FailureReason"]


def test_tuning_on_validation_accuracy(session):
    sm = session.client("sagemaker")
    definition = {
        "StaticHyperParameters": {k: v for k, v in FAST.items() if k != "learning_rate"},
        "AlgorithmSpecification": {"TrainingImage": IMAGE, "TrainingInputMode": "File"},
        "RoleArn": ROLE,
        "InputDataConfig": [_channel("train", "bt/train/"), _channel("validation", "bt/validation/")],
        "OutputDataConfig": {"S3OutputPath": f"s3://{BUCKET}/tuning"},
        "ResourceConfig": {"InstanceType": "ml.c5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 5},
        "StoppingCondition": {"MaxRuntimeInSeconds": 300},
    }
    sm.create_hyper_parameter_tuning_job(
        HyperParameterTuningJobName="bt-tune",
        HyperParameterTuningJobConfig={
            "Strategy": "Random", "RandomSeed": 3,
            "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": "validation:accuracy"},
            "ResourceLimits": {"MaxNumberOfTrainingJobs": 2, "MaxParallelTrainingJobs": 1},
            "ParameterRanges": {"ContinuousParameterRanges": [
                {"Name": "learning_rate", "MinValue": "0.1", "MaxValue": "0.8"}]}},
        TrainingJobDefinition=definition)
    job = wait_tuning(sm, "bt-tune", timeout=300)
    assert job["HyperParameterTuningJobStatus"] == "Completed", job.get("FailureReason")
    trials = all_trials(sm, "bt-tune")
    assert len(trials) == 2 and all(t["TrainingJobStatus"] == "Completed" for t in trials)
    best = job["BestTrainingJob"]["FinalHyperParameterTuningJobObjectiveMetric"]
    assert best["MetricName"] == "validation:accuracy" and best["Value"] >= 0.65


# -- serving ---------------------------------------------------------------------------------------

def test_endpoint_answers_in_aws_shape(session, supervised_job):
    sm, rt = session.client("sagemaker"), session.client("sagemaker-runtime")
    sm.create_model(ModelName="reviews-bt", ExecutionRoleArn=ROLE, PrimaryContainer={
        "Image": IMAGE, "ModelDataUrl": supervised_job["ModelArtifacts"]["S3ModelArtifacts"]})
    sm.create_endpoint_config(EndpointConfigName="reviews-bt-cfg", ProductionVariants=[{
        "VariantName": "AllTraffic", "ModelName": "reviews-bt", "InstanceType": "ml.m5.large",
        "InitialInstanceCount": 1}])
    sm.create_endpoint(EndpointName="reviews-bt", EndpointConfigName="reviews-bt-cfg")
    try:
        sm.get_waiter("endpoint_in_service").wait(EndpointName="reviews-bt",
                                                  WaiterConfig={"Delay": 0.2, "MaxAttempts": 600})
        body = {"instances": [tokenize("The movie was excellent, I loved it."),
                              tokenize("A terrible, boring waste of time.")]}
        resp = rt.invoke_endpoint(EndpointName="reviews-bt", Body=json.dumps(body),
                                  ContentType="application/json", Accept="application/json")
        assert resp["ContentType"].startswith("application/json")
        out = json.loads(resp["Body"].read())
        assert [sorted(o) for o in out] == [["label", "prob"]] * 2
        assert [o["label"] for o in out] == [["__label__POSITIVE"], ["__label__NEGATIVE"]]
        assert all(len(o["prob"]) == 1 and 0.5 <= o["prob"][0] <= 1 for o in out)

        body["configuration"] = {"k": 2}
        out = json.loads(rt.invoke_endpoint(EndpointName="reviews-bt", Body=json.dumps(body),
                                            ContentType="application/json")["Body"].read())
        assert all(sorted(o["label"]) == ["__label__NEGATIVE", "__label__POSITIVE"] for o in out)
        assert all(o["prob"][0] >= o["prob"][1] and abs(sum(o["prob"]) - 1) < 1e-3 for o in out)

        lines = '{"source": "a great film"}\n{"source": "awful acting", "k": 2}\n'
        resp = rt.invoke_endpoint(EndpointName="reviews-bt", Body=lines,
                                  ContentType="application/jsonlines", Accept="application/jsonlines")
        got = [json.loads(line) for line in resp["Body"].read().decode().splitlines()]
        assert [len(g["label"]) for g in got] == [1, 2]

        for bad in (b"not json", b'{"sentences": ["x"]}', b'{"instances": [1, 2]}',
                    b'{"instances": ["x"], "configuration": {"k": 0}}'):
            with pytest.raises(rt.exceptions.ModelError) as err:
                rt.invoke_endpoint(EndpointName="reviews-bt", Body=bad, ContentType="application/json")
            assert err.value.response["Error"]["OriginalStatusCode"] == "400", bad
    finally:
        sm.delete_endpoint(EndpointName="reviews-bt")


# -- the scoring functions on their own --------------------------------------------------------------

def test_word_vectors_are_served(tmp_path, reviews):
    from local_backends.sagemaker.model_server.handlers import ScoringError, invocations, load_model
    train, _, _ = reviews
    text = [line.split(" ", 1)[1] for line in train]
    (tmp_path / "train.txt").write_text("\n".join(text) + "\n")
    model = fasttext.train_unsupervised(str(tmp_path / "train.txt"), model="cbow", dim=8, epoch=2,
                                        minCount=2, minn=0, maxn=0, verbose=0, thread=1)
    (tmp_path / "model").mkdir()
    model.save_model(str(tmp_path / "model" / "vectors.bin"))
    loaded = load_model(tmp_path / "model")
    assert loaded.kind == "blazingtext" and not loaded.model.supervised
    body, ctype = invocations(json.dumps({"instances": ["movie", "zzzunseen"]}).encode(),
                              "application/json", None, loaded)
    out = json.loads(body)
    assert ctype == "application/json"
    assert [o["word"] for o in out] == ["movie", "zzzunseen"] and list(out[0]) == ["vector", "word"]
    assert len(out[0]["vector"]) == 8 and any(out[0]["vector"])
    assert out[1]["vector"] == [0.0] * 8     # out of the vocabulary, no subwords: zeros
    with pytest.raises(ScoringError) as err:
        invocations(b"movie", "text/csv", None, loaded)
    assert err.value.status == 415


def test_scoring_errors_are_4xx(tmp_path, reviews):
    from local_backends.sagemaker.model_server.handlers import ScoringError, invocations, load_model
    train, _, _ = reviews
    (tmp_path / "train.txt").write_text("\n".join(train[:200]) + "\n")
    model = fasttext.train_supervised(str(tmp_path / "train.txt"), verbose=0, thread=1, epoch=5)
    (tmp_path / "model").mkdir()
    model.save_model(str(tmp_path / "model" / "model.bin"))
    loaded = load_model(tmp_path / "model")
    assert loaded.kind == "blazingtext" and loaded.model.supervised
    body, _ = invocations(b'{"instances": ["line one\\nline two"]}', "application/json", "text/csv", loaded)
    assert len(json.loads(body)) == 1        # one instance, newlines inside it are spaces
    cases = [(b"{", 400), (b"[]", 400), (b'{"instances": []}', 400), (b'{"instances": "x"}', 400),
             (b'{"instances": ["x"], "configuration": {"k": "two"}}', 400),
             (b'{"instances": ["x"], "configuration": [2]}', 400), (b"\xff\xfe", 400)]
    for raw, status in cases:
        with pytest.raises(ScoringError) as err:
            invocations(raw, "application/json", None, loaded)
        assert err.value.status == status, raw
    with pytest.raises(ScoringError) as err:
        invocations(b'{"text": "x"}\n', "application/jsonlines", None, loaded)
    assert err.value.status == 400 and '"source"' in err.value.message


# -- the same job on moto: recorded there, run here with run_locally ----------------------------------

@pytest.mark.parametrize("backend", ["local", "moto"])
def test_run_locally_on_each_backend(backend, tmp_path, reviews):
    """Moto records a BlazingText job and runs nothing; ``run_locally`` runs it here and puts
    ``model.bin`` in that backend's S3. The caller attaches the built-in metric definitions
    (``CreateTrainingJob`` does on the local backend)."""
    from local_backends.sagemaker.training_runner import run_locally
    train, validation, _ = reviews
    with Session(backend=backend, home=tmp_path / "home", region="us-east-1") as s:
        s3 = s.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key="bt/train/reviews.train", Body="\n".join(train).encode())
        s3.put_object(Bucket=BUCKET, Key="bt/validation/reviews.validation",
                      Body="\n".join(validation).encode())
        request = _request("bt-here", dict(FAST), [_channel("train", "bt/train/"),
                                                   _channel("validation", "bt/validation/")])
        if backend == "moto":
            s.client("sagemaker").create_training_job(**request)
            assert s.client("sagemaker").describe_training_job(
                TrainingJobName="bt-here")["AlgorithmSpecification"]["TrainingImage"] == IMAGE
        request["AlgorithmSpecification"]["MetricDefinitions"] = blazingtext_algo.metric_definitions()
        result = run_locally(s, request, work_dir=tmp_path / "job")
        assert (result.status, result.secondary) == ("Completed", "Completed"), result.failure_reason
        final = {m["MetricName"]: m["Value"] for m in result.final_metrics}
        assert final["validation:accuracy"] >= 0.65
        body = s3.get_object(Bucket=BUCKET, Key="output/bt-here/output/model.tar.gz")["Body"].read()
        assert set(read_tar(body)) == {"model.bin", "model.vec"}
