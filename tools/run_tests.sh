#!/usr/bin/env bash
# The test suite, from nothing: creates or reuses .venv (tools/setup_env.sh), then runs pytest.
#   bash tools/run_tests.sh [pytest options]
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
bash tools/setup_env.sh
setup=$((SECONDS - start))
rc=0
.venv/bin/python -m pytest tests "$@" || rc=$?
echo "[run_tests] set-up ${setup} s, tests $((SECONDS - start - setup)) s, pytest exit ${rc}"
exit $rc
