"""The container contract a local job reproduces: files, SM_* variables, arguments, images."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from local_backends.core.errors import NotImplementedByBackend
from local_backends.sagemaker import container, xgboost_algo
from tests.contract.test_sagemaker.test_sagemaker_training_support import (
    put_sklearn_inputs, sklearn_request)

HPS = {"sagemaker_program": '"train.py"', "sagemaker_submit_directory": '"s3://b/code/sourcedir.tar.gz"',
       "sagemaker_container_log_level": "20", "sagemaker_region": '"us-east-1"', "epochs": "3",
       "lr": "0.1", "name": '"abc"', "flag": "true", "nested": '{"a": 1}', "raw": "not json", "C": "1.5"}


def _contract(tmp_path: Path):
    dirs = container.JobDirs(tmp_path / "job")
    resource = container.resource_config({"InstanceType": "ml.m5.large"})
    data = container.input_data_config(
        [{"ChannelName": "train", "ContentType": "text/csv", "DataSource": {"S3DataSource": {}}},
         {"ChannelName": "validation", "DataSource": {"S3DataSource": {}}}], "File")
    dirs.create(list(data))
    container.write_config(dirs, HPS, resource, data)
    env, args = container.training_env(dirs, "cmp-job", HPS, resource, data,
                                       module_dir="s3://b/code/sourcedir.tar.gz", num_cpus=2)
    return dirs, env, args


def test_config_files_and_environment(tmp_path):
    dirs, env, args = _contract(tmp_path)
    assert json.loads((dirs.config / "hyperparameters.json").read_text()) == HPS
    assert json.loads((dirs.config / "inputdataconfig.json").read_text()) == {
        "train": {"ContentType": "text/csv", "TrainingInputMode": "File",
                  "S3DistributionType": "FullyReplicated", "RecordWrapperType": "None"},
        "validation": {"TrainingInputMode": "File", "S3DistributionType": "FullyReplicated",
                       "RecordWrapperType": "None"}}
    resource = json.loads((dirs.config / "resourceconfig.json").read_text())
    assert resource["current_host"] == "algo-1" and resource["hosts"] == ["algo-1"]
    # the toolkit: JSON-decoded values, sorted, a single letter gets one dash, dicts as k=v
    assert args == ["-C", "1.5", "--epochs", "3", "--flag", "True", "--lr", "0.1", "--name", "abc",
                    "--nested", "a=1", "--raw", "not json"]
    assert env["SM_HPS"] == '{"C":1.5,"epochs":3,"flag":true,"lr":0.1,"name":"abc","nested":{"a":1},"raw":"not json"}'
    assert env["SM_HP_EPOCHS"] == "3" and env["SM_HP_NAME"] == "abc" and env["SM_HP_NESTED"] == '{"a":1}'
    assert env["SM_CHANNELS"] == '["train","validation"]'
    assert env["SM_CHANNEL_TRAIN"] == str(dirs.data / "train")
    assert env["SM_MODEL_DIR"] == str(dirs.model) and env["SM_OUTPUT_DATA_DIR"] == str(dirs.output_data)
    assert env["SM_INPUT_DIR"] == str(dirs.input) and env["SM_OUTPUT_DIR"] == str(dirs.output)
    assert env["SM_NUM_CPUS"] == "2" and env["SM_NUM_GPUS"] == "0"
    assert env["SM_CURRENT_HOST"] == "algo-1" and env["SM_HOSTS"] == '["algo-1"]'
    assert env["SM_USER_ENTRY_POINT"] == "train.py" and env["SM_MODULE_NAME"] == "train"
    assert env["SM_MODULE_DIR"] == "s3://b/code/sourcedir.tar.gz"
    assert env["SM_FRAMEWORK_PARAMS"] == "{}"  # sagemaker_* are not user hyperparameters
    assert json.loads(env["SM_USER_ARGS"]) == args
    training = json.loads(env["SM_TRAINING_ENV"])
    assert training["job_name"] == "cmp-job" and training["hyperparameters"]["epochs"] == 3


def test_environment_matches_the_sagemaker_training_toolkit(tmp_path):
    """Where the toolkit is installed, its own Environment gives the very same variables."""
    pytest.importorskip("sagemaker_training")
    dirs, env, args = _contract(tmp_path)
    code = ("import json, os\nfrom sagemaker_training import environment\n"
            "e = environment.Environment()\nprint(json.dumps([e.to_env_vars(), e.to_cmd_args()]))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True,
                         env={**os.environ, "SAGEMAKER_BASE_DIR": str(dirs.root), "TRAINING_JOB_NAME": "cmp-job"})
    toolkit_env, toolkit_args = json.loads(out.stdout.strip().splitlines()[-1])
    assert toolkit_args == args
    toolkit_env["SM_NUM_CPUS"] = env["SM_NUM_CPUS"]  # the machine's count there, 2 here
    training = json.loads(toolkit_env["SM_TRAINING_ENV"])
    training["num_cpus"] = 2
    assert json.loads(env.pop("SM_TRAINING_ENV")) == training
    toolkit_env.pop("SM_TRAINING_ENV")
    assert env == toolkit_env


@pytest.mark.parametrize("image", [
    "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3",
    "720646828776.dkr.ecr.eu-west-3.amazonaws.com/sagemaker-scikit-learn:1.4-2",
    "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
])
def test_framework_images_with_a_program_run_in_script_mode(image):
    algo = container.resolve_algorithm({"TrainingImage": image}, {"sagemaker_program": '"train.py"'})
    assert algo.kind == "script"


def test_xgboost_image_without_program_is_the_builtin_algorithm():
    algo = container.resolve_algorithm(
        {"TrainingImage": "433757028032.dkr.ecr.us-west-2.amazonaws.com/sagemaker-xgboost:1.7-1"},
        {"num_round": "10"})
    assert (algo.kind, algo.framework, algo.version) == ("xgboost", "xgboost", "1.7-1")


@pytest.mark.parametrize("spec,hps", [
    ({"TrainingImage": "123456789012.dkr.ecr.us-east-1.amazonaws.com/my-own-image:latest"}, {}),
    ({"TrainingImage": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1"}, {}),
    ({"AlgorithmName": "arn:aws:sagemaker:us-east-1:123456789012:algorithm/mine"}, {}),
])
def test_images_the_local_backend_cannot_run(spec, hps):
    with pytest.raises(container.UnsupportedAlgorithm):
        container.resolve_algorithm(spec, hps)


def test_create_with_an_unsupported_image_fails_loudly_and_stores_nothing(local_session):
    s3, sm = local_session.client("s3"), local_session.client("sagemaker")
    put_sklearn_inputs(s3, script="print(1)\n", rows=5)
    request = sklearn_request("own-image")
    request["AlgorithmSpecification"]["TrainingImage"] = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mine:1"
    with pytest.raises(NotImplementedByBackend, match="mine:1"):
        sm.create_training_job(**request)
    assert sm.list_training_jobs()["TrainingJobSummaries"] == []


def test_builtin_xgboost_hyperparameters():
    params, rounds, early = xgboost_algo.booster_params(
        {"num_round": "50", "max_depth": "5", "eta": "0.2", "objective": "binary:logistic",
         "eval_metric": "auc,logloss", "early_stopping_rounds": "5", "sagemaker_region": '"x"'})
    assert rounds == 50 and early == 5
    assert params == {"verbosity": 1, "max_depth": 5, "eta": 0.2, "objective": "binary:logistic",
                      "eval_metric": ["auc", "logloss"]}
    with pytest.raises(xgboost_algo.CustomerError, match="num_round"):
        xgboost_algo.booster_params({"max_depth": "5"})


def test_builtin_xgboost_metric_definitions_match_its_log_lines():
    import re
    line = "[4]#011train-logloss:0.12000#011validation-logloss:0.15500"
    found = {d["Name"]: float(m.group(1)) for d in xgboost_algo.metric_definitions()
             if (m := re.search(d["Regex"], line))}
    assert found == {"train:logloss": 0.12, "validation:logloss": 0.155}


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-3", "cn-north-1", "us-gov-west-1"])
def test_image_uris_of_the_sagemaker_sdk_are_recognised(region):
    """The images ``sagemaker``'s ``image_uris.retrieve`` gives, in any partition: the
    scikit-learn and XGBoost images run script mode, XGBoost alone is the built-in algorithm."""
    image_uris = pytest.importorskip("sagemaker.core.image_uris")
    sklearn = image_uris.retrieve("sklearn", region=region, version="1.2-1", py_version="py3",
                                  instance_type="ml.m5.large")
    xgboost = image_uris.retrieve("xgboost", region=region, version="1.7-1")
    script = {"sagemaker_program": '"train.py"'}
    for image, framework in ((sklearn, "sklearn"), (xgboost, "xgboost")):
        algo = container.resolve_algorithm({"TrainingImage": image}, script)
        assert (algo.kind, algo.framework) == ("script", framework)
    assert container.resolve_algorithm({"TrainingImage": xgboost}, {"num_round": "5"}).kind == "xgboost"
    with pytest.raises(container.UnsupportedAlgorithm, match="script mode"):
        container.resolve_algorithm({"TrainingImage": sklearn}, {})
