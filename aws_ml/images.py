"""The ECR image URIs of the SageMaker algorithms and frameworks aws_ml runs, per region,
as the SageMaker Python SDK's ``image_uris.retrieve`` gives them (without needing the SDK).

The registry accounts (``data/image_registries.json``) were copied from the SDK's
``image_uri_config`` (sagemaker 3.27): each algorithm has its own account per region.

>>> image_uri("xgboost", "eu-west-1")
'141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:1.7-1'
>>> image_uri("blazingtext", "us-east-1")
'811284229777.dkr.ecr.us-east-1.amazonaws.com/blazingtext:1'
"""
from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

# name -> (ECR repository, tag)
IMAGES = {
    "xgboost": ("sagemaker-xgboost", "1.7-1"),
    "sklearn": ("sagemaker-scikit-learn", "1.2-1-cpu-py3"),
    "blazingtext": ("blazingtext", "1"),
}


@lru_cache(maxsize=1)
def _registries() -> dict[str, dict[str, str]]:
    return json.loads(resources.files("aws_ml").joinpath("data/image_registries.json").read_text())


def image_uri(name: str, region: str) -> str:
    """The training and inference image of ``name`` (``xgboost``, ``sklearn`` or
    ``blazingtext``) in ``region``."""
    if name not in IMAGES:
        raise ValueError(f"The 'name' parameter must be one of {sorted(IMAGES)}. Got {name!r} instead.")
    repository, tag = IMAGES[name]
    accounts = _registries()[repository]
    if region not in accounts:
        raise ValueError(f"{repository} has no image in region {region!r} "
                         f"(regions: {', '.join(sorted(accounts))})")
    domain = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"{accounts[region]}.dkr.ecr.{region}.{domain}/{repository}:{tag}"
