#!/usr/bin/env bash
# Create or reuse ./.venv with the full muse-det stack (CPU torch, mmcv with compiled ops,
# mmengine, mmdet, this package in editable mode). Idempotent: a stamp of the requirement
# files skips the work when nothing changed. pip caches the compiled mmcv wheel, so a second
# fresh venv on the same machine reuses it.
#
# requirements/optional.txt (matplotlib, tensorboard, faster-coco-eval: wheels, seconds) is
# installed by default so the tests that use them run; --no-optional skips it.
#
#   VENV=.venv PYTHON=python3 bash tools/setup_env.sh [--no-optional]
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
OPTIONAL=1
case "${1:-}" in
  "") ;;
  --with-optional) OPTIONAL=1 ;;  # the default; kept for older callers
  --no-optional) OPTIONAL=0 ;;
  *) echo "usage: bash tools/setup_env.sh [--no-optional]" >&2; exit 2 ;;
esac

stamp_src=$(cat requirements/*.txt setup.py tools/setup_env.sh | sha1sum | cut -d' ' -f1)-$OPTIONAL
stamp_file="$VENV/.muse_det_stamp"
if [ -f "$stamp_file" ] && [ "$(cat "$stamp_file")" = "$stamp_src" ]; then
  echo "[setup_env] $VENV is up to date"
  exit 0
fi

log() { echo "[setup_env] $(date +%H:%M:%S) $*"; }
if [ ! -x "$VENV/bin/python" ]; then
  log "creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi
PIP="$VENV/bin/python -m pip"
export PIP_DISABLE_PIP_VERSION_CHECK=1
log "installing torch (CPU build)"
$PIP install -q -r requirements/runtime.txt
log "installing build tools"
$PIP install -q -r requirements/build.txt
# mmcv 2.1.0 ships only as an sdist on PyPI: build its ops against the installed torch.
# The wheel lands in pip's cache, so this takes ~8 min once per machine and seconds after.
if ! "$VENV/bin/python" -c "import mmcv, mmcv.ops" >/dev/null 2>&1; then
  log "building mmcv 2.1.0 with compiled ops (about 8 minutes on 2 cores the first time)"
  MMCV_WITH_OPS=1 MAX_JOBS=${MAX_JOBS:-$(nproc)} $PIP install -q --no-build-isolation mmcv==2.1.0
fi
log "installing mmengine, mmdet and test tools"
$PIP install -q -r requirements/mminstall.txt -r requirements/tests.txt
if [ "$OPTIONAL" = 1 ]; then
  log "installing optional extras"
  $PIP install -q -r requirements/optional.txt
fi
if [ -f setup.py ]; then
  log "installing muse-det (editable)"
  $PIP install -q --no-build-isolation --no-deps -e .
fi
"$VENV/bin/python" -c "import torch, mmcv, mmcv.ops, mmengine, mmdet; print('[setup_env] torch', torch.__version__, 'mmcv', mmcv.__version__, 'mmengine', mmengine.__version__, 'mmdet', mmdet.__version__)"
echo "$stamp_src" > "$stamp_file"
