#!/usr/bin/env bash
# Create or reuse ./.venv with the full muse-det stack (the standard PyTorch wheel, which runs
# on CPUs and CUDA GPUs, torchvision, mmcv with compiled ops, mmengine, mmdet, mmpretrain, this
# package in editable mode), at the exact versions of requirements/constraints.txt (the
# package itself states ranges; to add muse-det to an existing environment, see
# docs/get_started.md). Idempotent: a stamp of the requirement files skips the work when
# nothing changed. pip caches the compiled mmcv wheel, so a second fresh venv on the same
# machine reuses it (and rebuilds it if that wheel does not run with the installed torch).
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
CONSTRAINTS="-c requirements/constraints.txt"
log "installing torch and torchvision"
$PIP install -q $CONSTRAINTS torch torchvision -r requirements/runtime.txt
log "installing build tools"
$PIP install -q -r requirements/build.txt
# mmcv 2.1.0 ships only as an sdist on PyPI: build its ops against the installed torch (CUDA
# ops too where nvcc is found; CPU ops only otherwise). The wheel lands in pip's cache, so this
# takes ~8 min once per machine and seconds after. The check runs a real op, since a wheel
# built against another torch may import and still fail to load its extension.
mmcv_ops_work() {
  "$VENV/bin/python" - >/dev/null 2>&1 <<'PY'
import torch
from mmcv.ops import nms
boxes = torch.tensor([[0., 0., 10., 10.], [1., 1., 10., 10.], [20., 20., 30., 30.]])
_, keep = nms(boxes, torch.tensor([0.9, 0.8, 0.7]), 0.5)
assert keep.tolist() == [0, 2], keep
PY
}
mmcv_build() {
  MMCV_WITH_OPS=1 MAX_JOBS=${MAX_JOBS:-$(nproc)} $PIP install -q --no-build-isolation $CONSTRAINTS "$@" mmcv
}
if ! mmcv_ops_work; then
  log "installing mmcv 2.1.0 with compiled ops (about 8 minutes on 2 cores the first time)"
  mmcv_build
  if ! mmcv_ops_work; then
    log "the cached mmcv wheel does not run with this torch: rebuilding it"
    mmcv_build --no-cache-dir --force-reinstall --no-deps
    mmcv_ops_work || { echo "[setup_env] mmcv.ops.nms still fails after rebuilding mmcv against this torch; run: $VENV/bin/python -c 'from mmcv.ops import nms' to see why" >&2; exit 1; }
  fi
fi
log "installing mmengine, mmdet, mmpretrain and test tools"
$PIP install -q $CONSTRAINTS -r requirements/mminstall.txt -r requirements/cls.txt \
  -r requirements/tests.txt
if [ "$OPTIONAL" = 1 ]; then
  log "installing optional extras"
  $PIP install -q $CONSTRAINTS -r requirements/optional.txt
fi
if [ -f setup.py ]; then
  log "installing muse-det (editable)"
  $PIP install -q --no-build-isolation --no-deps -e .
fi
"$VENV/bin/python" -c "import torch, torchvision, mmcv, mmcv.ops, mmengine, mmdet, mmpretrain; print('[setup_env] torch', torch.__version__, 'torchvision', torchvision.__version__, 'mmcv', mmcv.__version__, 'mmengine', mmengine.__version__, 'mmdet', mmdet.__version__, 'mmpretrain', mmpretrain.__version__)"
echo "$stamp_src" > "$stamp_file"
