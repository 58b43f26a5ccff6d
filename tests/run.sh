#!/usr/bin/env bash
# The test suite, as a new user and CI run it: installs what the tests need (the project
# with its test extras in .venv, Debian's Chromium for the browser tests), then runs pytest
# on 2 workers. Extra arguments go to pytest (e.g. `bash tests/run.sh -k s3`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/browser/setup_chromium.sh
bash tests/infra/setup_localstack.sh   # LocalStack in its own venv (.venv-localstack/)
python3 -m venv .venv
. .venv/bin/activate
python -m pip install -q --upgrade pip
python -m pip install -q -e '.[dev]'
python -m pytest -n 2 "$@"
