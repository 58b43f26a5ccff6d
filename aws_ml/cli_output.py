"""The ``--output`` formats of the ``aws-ml`` commands (the AWS CLI's)."""
from enum import Enum


class Output(str, Enum):
    json = "json"
    table = "table"
    text = "text"
