#!/usr/bin/env bash
# LocalStack (free edition, no Docker) in its OWN venv, .venv-localstack/, for the smoke tests
# in tests/infra/test_smoke_*.py. Its pins would fight the project's, so it never goes into .venv.
# Idempotent: does nothing when the pinned version is already there. Writes the install time
# (seconds) to .venv-localstack/INSTALL_SECONDS; exits non-zero when the install failed.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=.venv-localstack
PIN="localstack-core[runtime]==4.13.1"
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import importlib.metadata as m, sys; sys.exit(m.version("localstack-core") != "4.13.1")' 2>/dev/null; then
  echo "localstack: $VENV already has localstack-core 4.13.1"
  exit 0
fi
start=$(date +%s)
rm -rf "$VENV"
python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q "$PIN" 'cbor2<6' 'cryptography>=45.0.7,<47' 'pyopenssl==25.3.0' service-identity
"$VENV/bin/python" -c 'import localstack.runtime.main'  # fail here if the install is unusable
echo $(( $(date +%s) - start )) > "$VENV/INSTALL_SECONDS"
echo "localstack: installed in $(cat "$VENV/INSTALL_SECONDS") s"
