"""The SageMaker training-container contract, reproduced on the local file system.

A training container sees ``/opt/ml``: ``input/config/*.json`` (hyperparameters, resource
and input-data configuration), ``input/data/<channel>/`` (the downloaded channels),
``model/`` (what it saves there becomes ``model.tar.gz``), ``output/data/`` (becomes
``output.tar.gz``) and ``output/failure`` (its failure message). Here ``/opt/ml`` is the
job's directory. Framework containers (scikit-learn, XGBoost script mode) run the user's
entry point through the SageMaker training toolkit, which turns that directory into
``SM_*`` environment variables and ``--name value`` arguments; :func:`training_env`
reproduces the toolkit's (``sagemaker-training`` 5.x) ``Environment.to_env_vars`` and
``to_cmd_args`` key for key. A request with ``ContainerEntrypoint`` (the SageMaker SDK v3
``ModelTrainer``) runs that command instead, with ``/opt/ml`` mapped to the job directory.

Why not run the toolkit itself: it installs (it compiles a C extension and pulls gevent,
paramiko, scipy, protobuf and a pinned ``inotify_simple``), but its entry point waits for
the DNS name ``algo-1`` to resolve (up to 15 minutes) unless ``SM_STUDIO_LOCAL_MODE`` is
set, downloads the source directory with a plain ``boto3`` client (so never from the
local S3) and reads its paths at import time. Its contract is small and stable; it is
reproduced here and checked against the toolkit in ``tests/local`` when it is installed.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CONTAINER_ROOT = "/opt/ml"
"""Where a container sees its job directory; mapped to the local job directory."""

CURRENT_HOST = "algo-1"
"""The one host a local job runs on (AWS names hosts ``algo-1`` ... ``algo-N``)."""

INSTANCE_GROUP = "homogeneousCluster"

# <account>.dkr.ecr.<region>.amazonaws.com[.cn]/<repository>[:<tag>]
_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?"
    r"/(?P<repo>[a-z0-9._/-]+?)(?::(?P<tag>[A-Za-z0-9._-]+))?(?:@sha256:[0-9a-f]{64})?$")

FRAMEWORK_REPOSITORIES = {
    "sagemaker-scikit-learn": "sklearn",
    "sagemaker-xgboost": "xgboost",
    "blazingtext": "blazingtext",   # the built-in BlazingText image (no script mode)
}
"""ECR repositories of the framework images whose jobs run locally (any region/account)."""


class UnsupportedAlgorithm(Exception):
    """The job names an algorithm or image the local backend cannot run."""


@dataclass(frozen=True)
class Algorithm:
    """What runs in the job: a user script (``script``), built-in XGBoost (``xgboost``) or
    BlazingText (``blazingtext``), or
    the ``ContainerEntrypoint`` of the request (``entrypoint``)."""

    kind: str
    framework: str | None = None
    version: str | None = None
    image: str | None = None


def parse_image(image: str) -> tuple[str, str | None] | None:
    """``(repository, tag)`` of an ECR image URI, or ``None`` if it is not one."""
    m = _IMAGE.match(image.strip())
    return (m["repo"], m["tag"]) if m else None


def resolve_algorithm(spec: dict, hyperparameters: dict[str, str] | None) -> Algorithm:
    """Which local program plays the job's container (or :class:`UnsupportedAlgorithm`)."""
    image = spec.get("TrainingImage")
    if not image:
        name = spec.get("AlgorithmName")
        raise UnsupportedAlgorithm(
            f"algorithm {name!r}: the local SageMaker backend runs training images of the "
            f"{sorted(FRAMEWORK_REPOSITORIES)} repositories, not named algorithm resources")
    parsed = parse_image(image)
    framework = FRAMEWORK_REPOSITORIES.get(parsed[0]) if parsed else None
    if framework is None:
        raise UnsupportedAlgorithm(
            f"training image {image!r}: the local SageMaker backend runs the scikit-learn "
            f"and XGBoost framework images ({', '.join(sorted(FRAMEWORK_REPOSITORIES))}); "
            f"route sagemaker to another backend to run other images")
    version = parsed[1]
    if spec.get("ContainerEntrypoint"):
        # the image's command replaced, as ModelTrainer (SDK v3) does with its sm_drivers
        return Algorithm("entrypoint", framework, version, image)
    if framework == "blazingtext":
        return Algorithm("blazingtext", framework, version, image)
    hps = decode_hyperparameters(hyperparameters or {})
    if hps.get("sagemaker_program"):
        return Algorithm("script", framework, version, image)
    if framework == "xgboost":
        return Algorithm("xgboost", framework, version, image)
    raise UnsupportedAlgorithm(
        f"training image {image!r} needs the 'sagemaker_program' and "
        f"'sagemaker_submit_directory' hyperparameters (script mode)")


def decode_hyperparameters(hyperparameters: dict[str, str]) -> dict[str, Any]:
    """Hyperparameters as the toolkit reads them: each value JSON-decoded when it parses."""
    out: dict[str, Any] = {}
    for key, value in hyperparameters.items():
        try:
            out[key] = json.loads(value)
        except (TypeError, ValueError):
            out[key] = value
    return out


class JobDirs:
    """The ``/opt/ml`` tree of one job, rooted at ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.input = self.root / "input"
        self.config = self.input / "config"
        self.data = self.input / "data"
        self.model = self.root / "model"
        self.output = self.root / "output"
        self.output_data = self.output / "data"
        self.intermediate = self.output / "intermediate"
        self.failure = self.output / "failure"
        self.code = self.root / "code"

    def channel(self, name: str) -> Path:
        return self.data / name

    def create(self, channels: list[str]) -> None:
        for path in (self.config, self.model, self.output_data, self.code):
            path.mkdir(parents=True, exist_ok=True)
        for name in channels:
            self.channel(name).mkdir(parents=True, exist_ok=True)


def resource_config(resource: dict | None) -> dict:
    """``resourceconfig.json`` of the one local host."""
    instance_type = (resource or {}).get("InstanceType", "local")
    return {
        "current_host": CURRENT_HOST,
        "current_instance_type": instance_type,
        "current_group_name": INSTANCE_GROUP,
        "hosts": [CURRENT_HOST],
        "instance_groups": [{"instance_group_name": INSTANCE_GROUP,
                             "instance_type": instance_type, "hosts": [CURRENT_HOST]}],
        "network_interface_name": "eth0",
    }


def input_data_config(channels: list[dict], input_mode: str) -> dict:
    """``inputdataconfig.json``: per channel, its content type, mode and distribution."""
    out = {}
    for ch in channels:
        s3 = ch.get("DataSource", {}).get("S3DataSource", {})
        entry = {}
        if ch.get("ContentType"):
            entry["ContentType"] = ch["ContentType"]
        entry["TrainingInputMode"] = ch.get("InputMode") or input_mode
        entry["S3DistributionType"] = s3.get("S3DataDistributionType", "FullyReplicated")
        entry["RecordWrapperType"] = ch.get("RecordWrapperType", "None")
        out[ch["ChannelName"]] = entry
    return out


def write_config(dirs: JobDirs, hyperparameters: dict[str, str], resource: dict,
                 data_config: dict) -> None:
    """Write the three ``input/config`` files the container reads."""
    dirs.config.mkdir(parents=True, exist_ok=True)
    for name, content in (("hyperparameters.json", hyperparameters),
                          ("resourceconfig.json", resource),
                          ("inputdataconfig.json", data_config)):
        (dirs.config / name).write_text(json.dumps(content))


def _env_value(value: Any) -> str:
    # sagemaker_training.mapping.to_env_vars.format_value
    if isinstance(value, bytes):
        return value.decode("latin1")
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def to_cmd_args(hyperparameters: dict[str, Any]) -> list[str]:
    """Hyperparameters as the toolkit passes them: sorted ``--name value`` pairs."""
    args: list[str] = []
    for key in sorted(hyperparameters):
        value = hyperparameters[key]
        args.append(f"--{key}" if len(str(key)) > 1 else f"-{key}")
        if hasattr(value, "items"):
            args.append(",".join(f"{k}={v}" for k, v in sorted(value.items())))
        else:
            args.append("" if value is None else str(value))
    return args


def training_env(dirs: JobDirs, job_name: str, hyperparameters: dict[str, str],
                 resource: dict, data_config: dict, module_dir: str = "",
                 user_entry_point: str | None = None, num_cpus: int | None = None,
                 log_level: int = 20) -> tuple[dict[str, str], list[str]]:
    """The ``SM_*`` variables and command-line arguments the toolkit gives an entry point."""
    decoded = decode_hyperparameters(hyperparameters)
    hps = {k: v for k, v in decoded.items() if not k.startswith("sagemaker_")}
    sm = {k: v for k, v in decoded.items() if k.startswith("sagemaker_")}
    user_entry_point = user_entry_point or sm.get("sagemaker_program") or ""
    module_name = user_entry_point[:-3] if user_entry_point.endswith(".py") else user_entry_point
    channels = {name: str(dirs.channel(name)) for name in data_config}
    num_cpus = num_cpus or os.cpu_count() or 1
    args = to_cmd_args(hps)
    framework_params = {k: v for k, v in sm.items()
                        if k not in ("sagemaker_program", "sagemaker_submit_directory",
                                     "sagemaker_region", "sagemaker_job_name",
                                     "sagemaker_container_log_level")}
    groups = [{"instance_group_name": g["instance_group_name"],
               "instance_type": g["instance_type"], "hosts": g["hosts"]}
              for g in resource.get("instance_groups", [])]
    training = {
        "additional_framework_parameters": framework_params,
        "channel_input_dirs": channels,
        "current_host": resource["current_host"],
        "current_instance_group": resource.get("current_group_name", INSTANCE_GROUP),
        "current_instance_group_hosts": resource["hosts"],
        "current_instance_type": resource.get("current_instance_type", "local"),
        "distribution_hosts": [],  # no distribution instance groups (one host)
        "distribution_instance_groups": [],
        "framework_module": None,
        "hosts": resource["hosts"],
        "hyperparameters": hps,
        "input_config_dir": str(dirs.config),
        "input_data_config": data_config,
        "input_dir": str(dirs.input),
        "instance_groups": [g["instance_group_name"] for g in groups],
        "instance_groups_dict": {g["instance_group_name"]: g for g in groups},
        "is_hetero": False,
        "is_master": True,
        "is_modelparallel_enabled": None,
        "is_smddpmprun_installed": False,
        "is_smddprun_installed": False,
        "job_name": job_name,
        "log_level": log_level,
        "master_hostname": resource["hosts"][0],
        "model_dir": str(dirs.model),
        "module_dir": module_dir,
        "module_name": module_name,
        "network_interface_name": resource.get("network_interface_name", "eth0"),
        "num_cpus": num_cpus,
        "num_gpus": 0,
        "num_neurons": 0,
        "output_data_dir": str(dirs.output_data),
        "output_dir": str(dirs.output),
        "output_intermediate_dir": str(dirs.intermediate),
        "resource_config": resource,
        "topology": [],
        "user_entry_point": user_entry_point,
    }
    env: dict[str, Any] = {
        "hosts": resource["hosts"],
        "network_interface_name": training["network_interface_name"],
        "hps": hps,
        "user_entry_point": user_entry_point,
        "framework_params": framework_params,
        "resource_config": resource,
        "input_data_config": data_config,
        "output_data_dir": str(dirs.output_data),
        "channels": sorted(channels),
        "current_host": resource["current_host"],
        "current_instance_type": training["current_instance_type"],
        "current_instance_group": training["current_instance_group"],
        "current_instance_group_hosts": training["current_instance_group_hosts"],
        "instance_groups": training["instance_groups"],
        "instance_groups_dict": training["instance_groups_dict"],
        "distribution_instance_groups": [],
        "is_hetero": False,
        "module_name": module_name,
        "log_level": log_level,
        "framework_module": None,
        "input_dir": str(dirs.input),
        "input_config_dir": str(dirs.config),
        "output_dir": str(dirs.output),
        "num_cpus": num_cpus,
        "num_gpus": 0,
        "num_neurons": 0,
        "model_dir": str(dirs.model),
        "module_dir": module_dir,
        "training_env": training,
        "user_args": args,
        "output_intermediate_dir": str(dirs.intermediate),
    }
    for name, path in channels.items():
        env[f"channel_{name}"] = path
    for key, value in hps.items():
        env[f"hp_{key}"] = value
    return {f"SM_{str(k).upper()}": _env_value(v) for k, v in env.items()}, args
