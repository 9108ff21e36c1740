#!/usr/bin/env bash
# The test suite, from nothing: creates or reuses .venv (tools/setup_env.sh), then runs pytest.
#   bash tools/run_tests.sh [pytest options]
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup_env.sh
exec .venv/bin/python -m pytest tests "$@"
