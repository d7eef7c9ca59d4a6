#!/usr/bin/env bash
# `make fuzz`: the Schemathesis CLI (every check, every phase, stateful included) against a live server
# on the embedded database in local mode.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=../.venv/bin
port=${FUZZ_PORT:-8765}
export FUZZ_USER="fuzz$(date +%s)"

# Event streams last a fifth of a second here: Schemathesis reads every answer to its end.
env -u DATABASE_URL -u BETTER_AUTH_URL -u BETTER_AUTH_SECRET -u JWT_JWKS_URL PORT="$port" EVENT_STREAM_MAX_SECONDS=0.2 \
  "$venv/python" -m taskapi.cli run > ../.data/fuzz-server.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT

FUZZ_TOKEN=$("$venv/python" -m taskapi.cli token --user "$FUZZ_USER")
export FUZZ_TOKEN
"$venv/schemathesis" --config-file tests/fuzz/schemathesis.toml run --checks all --wait-for-schema 30 \
  "http://127.0.0.1:$port/api/openapi.json"
