#!/usr/bin/env bash
# Installs Debian's headless-capable Chromium for the browser tests (tests/browser/).
# Idempotent: does nothing when /usr/bin/chromium is already there. Fails loudly otherwise.
# Playwright drives this binary (executable_path=/usr/bin/chromium); never run
# `playwright install`, which downloads a browser build and cannot work offline.
set -euo pipefail

CHROMIUM=/usr/bin/chromium

if [[ -x "$CHROMIUM" ]]; then
    echo "setup_chromium: $("$CHROMIUM" --version 2>/dev/null || echo chromium) already installed"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "setup_chromium: ERROR: $CHROMIUM is missing and apt-get is not available" >&2
    exit 1
fi

SUDO=""
if [[ "$(id -u)" != "0" ]]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "setup_chromium: ERROR: need root (or sudo) to apt-get install chromium" >&2
        exit 1
    fi
fi

start=$(date +%s)
echo "setup_chromium: installing Debian's chromium package (apt-get; about 30 s, 125 MB)..."
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
if ! { $SUDO apt-get update -q && \
       $SUDO apt-get install -y -q --no-install-recommends chromium fonts-liberation; } >"$log" 2>&1; then
    cat "$log" >&2
    echo "setup_chromium: ERROR: apt-get could not install chromium (log above)" >&2
    rm -f "$log"
    exit 1
fi
rm -f "$log"

if [[ ! -x "$CHROMIUM" ]]; then
    echo "setup_chromium: ERROR: apt-get finished but $CHROMIUM is still missing" >&2
    exit 1
fi
echo "setup_chromium: $("$CHROMIUM" --version 2>/dev/null) installed in $(( $(date +%s) - start )) s"
