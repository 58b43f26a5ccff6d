"""``python -m aws_ml``: the ``aws-ml`` command line."""
from aws_ml.cli import main

main()
