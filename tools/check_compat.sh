#!/usr/bin/env bash
# Builds, from nothing, an environment with the oldest stack muse-det supports (an MMDetection
# 3.3 environment as users have it: torch 2.4, mmcv 2.1.0 built against it, mmengine, mmdet,
# mmpretrain), installs muse-det into it with plain `pip install` and runs the fast tests there.
#
# It checks four things and exits non-zero if any fails:
#   1. `pip install muse-det[cls,tests]` leaves the environment's torch, torchvision, mmcv,
#      mmengine, mmdet and mmpretrain as they were (`pip freeze` before and after, in $VENV);
#   2. muse-det imports and reports the stack (mmcv.ops runs a real op);
#   3. the fast tests pass on this stack ($FAST_TESTS, slow tests deselected);
#   4. OpenMMLab's mim trains and tests a toy config through the packaged tools
#      (`mim train muse_det CONFIG`, `mim test muse_det CONFIG --checkpoint CKPT`; SKIP_MIM=1
#      skips it).
#
#   bash tools/check_compat.sh                      # the default older stack, into .venv-compat
#   VENV=/tmp/v TORCH=2.4.1 TORCHVISION=0.19.1 bash tools/check_compat.sh [pytest options]
#   bash tools/check_compat.sh --stack-only         # step 0 only: the environment, no muse-det
#
# The stack is built once (about 15 minutes on 2 cores, mostly mmcv's ops); a stamp of the
# versions reuses it, so a second run only reinstalls muse-det and reruns the tests. Delete
# $VENV to start from nothing again.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
VENV=${VENV:-$REPO/.venv-compat}
PYTHON=${PYTHON:-python3}
TORCH=${TORCH:-2.4.1}
TORCHVISION=${TORCHVISION:-0.19.1}
MMENGINE=${MMENGINE:-0.10.4}
MMCV=${MMCV:-2.1.0}
MMDET=${MMDET:-3.3.0}
MMPRETRAIN=${MMPRETRAIN:-1.2.0}
# Quick tests that still build real models and read real checkpoints: the information
# estimators, the configs, checkpoint safety (weights-only loading on this torch), the errors.
FAST_TESTS=${FAST_TESTS:-tests/test_information tests/test_configs
  tests/test_engine/test_checkpoint_safety.py tests/test_runtime/test_bad_inputs.py
  tests/test_runtime/test_errors.py tests/test_tools/test_launchers.py
  tests/test_utils/test_import_registers_only.py tests/test_utils/test_versions.py}
STACK_ONLY=0
if [ "${1:-}" = --stack-only ]; then STACK_ONLY=1; shift; fi
export PIP_DISABLE_PIP_VERSION_CHECK=1

log() { echo "[check_compat] $(date +%H:%M:%S) $*"; }
PIP="$VENV/bin/python -m pip"
stack="torch==$TORCH torchvision==$TORCHVISION mmcv==$MMCV mmengine==$MMENGINE mmdet==$MMDET mmpretrain==$MMPRETRAIN"
stamp_file="$VENV/.compat_stack"

# 0. The user's environment, without muse-det.
if [ -f "$stamp_file" ] && [ "$(cat "$stamp_file")" = "$stack" ]; then
  log "reusing $VENV ($stack)"
else
  rm -rf "$VENV"
  log "creating $VENV"
  "$PYTHON" -m venv "$VENV"
  log "installing torch $TORCH, torchvision $TORCHVISION"
  $PIP install -q "torch==$TORCH" "torchvision==$TORCHVISION"
  $PIP install -q -r "$REPO/requirements/build.txt"
  # Built against this torch: --no-cache-dir so that a wheel cached for another torch is not
  # reused (it would import and fail to load its ops).
  log "building mmcv $MMCV with ops against torch $TORCH (about 12 minutes on 2 cores)"
  MMCV_WITH_OPS=1 MAX_JOBS=${MAX_JOBS:-$(nproc)} \
    $PIP install -q --no-build-isolation --no-cache-dir "mmcv==$MMCV"
  log "installing mmengine $MMENGINE, mmdet $MMDET, mmpretrain $MMPRETRAIN"
  $PIP install -q "mmengine==$MMENGINE" "mmdet==$MMDET" "mmpretrain==$MMPRETRAIN"
  echo "$stack" > "$stamp_file"
fi
[ "$STACK_ONLY" = 1 ] && { log "stack ready: $stack"; exit 0; }

# 1. muse-det into that environment, as a user installs it: plain pip, dependencies resolved.
# Installed from a copy of the tracked files, so that building the wheel does not replace the
# checkout's muse_det/.mim symlinks (an editable install's) with copies.
src=$(mktemp -d)
trap 'rm -rf "$src"' EXIT
git -C "$REPO" ls-files -z | (cd "$REPO" && tar --null -T - -cf -) | tar -C "$src" -xf -
$PIP freeze --exclude muse-det | sort > "$VENV/freeze-before.txt"
log "pip install muse-det[cls,tests] into $VENV"
$PIP uninstall -q -y muse-det >/dev/null 2>&1 || true
$PIP install -q "$src[cls,tests]"
$PIP freeze --exclude muse-det | sort > "$VENV/freeze-after.txt"
if diff "$VENV/freeze-before.txt" "$VENV/freeze-after.txt" > "$VENV/freeze.diff"; then
  log "pip freeze: unchanged by installing muse-det"
else
  log "pip freeze: installing muse-det changed (< before, > after):"
  cat "$VENV/freeze.diff"
fi
for pkg in torch torchvision mmcv mmengine mmdet mmpretrain; do
  if grep -qi "^$pkg==" "$VENV/freeze.diff"; then
    echo "[check_compat] FAIL: installing muse-det changed $pkg" >&2
    exit 1
  fi
done

# 2. Import and the fast tests, against the installed package (run from the checkout for its
# tests and configs; `pytest`, not `python -m pytest`, so the checkout is not on sys.path).
# from $VENV, so that a muse_det folder in the current directory is not imported instead
(cd "$VENV" && "$VENV/bin/python" -) <<'PY'
import os, torch
import mmcv, mmengine, mmdet, mmpretrain
from mmcv.ops import nms
import muse_det
assert 'site-packages' in muse_det.__file__, muse_det.__file__
_, keep = nms(torch.tensor([[0., 0., 10., 10.], [1., 1., 10., 10.]]), torch.tensor([.9, .8]), .5)
assert keep.tolist() == [0], keep
print(f'[check_compat] muse-det {muse_det.__version__} from {os.path.dirname(muse_det.__file__)}; '
      f'torch {torch.__version__}, mmcv {mmcv.__version__}, mmengine {mmengine.__version__}, '
      f'mmdet {mmdet.__version__}, mmpretrain {mmpretrain.__version__}')
PY
log "fast tests: $(echo $FAST_TESTS)"
rc=0
# shellcheck disable=SC2086
(cd "$REPO" && "$VENV/bin/pytest" -p no:cacheprovider -m "not slow" $FAST_TESTS "$@") || rc=$?
log "stack: $stack; pytest exit $rc"

# 3. mim, last: openmim's own dependencies (openxlab) pin older setuptools and requests, so it
# is installed without them; its train and test commands need none of them.
mim_rc=skipped
if [ "${SKIP_MIM:-0}" != 1 ]; then
  $PIP install -q --no-deps openmim
  $PIP install -q click colorama model-index pandas requests tabulate
  run=$(mktemp -d)
  log "mim train/test muse_det on a toy set in $run"
  mim_rc=0
  (
    cd "$run"
    "$VENV/bin/python" "$REPO/tools/misc/make_toy_coco.py" --variant multiscale --num-train 8 \
      --num-val 4 --log-every 0
    "$VENV/bin/mim" train muse_det configs/toy/muse_fcos_r18_toy_coco_multiscale.py --gpus 0 \
      --work-dir work_dirs/mim --cfg-options train_cfg.max_iters=4 train_cfg.val_interval=4
    "$VENV/bin/mim" test muse_det configs/toy/muse_fcos_r18_toy_coco_multiscale.py --gpus 0 \
      --checkpoint work_dirs/mim/iter_4.pth
  ) || mim_rc=$?
  log "mim exit $mim_rc"
fi
log "summary: stack $stack; pip install kept torch/mmcv: yes; pytest exit $rc; mim exit $mim_rc"
[ "$rc" = 0 ] && { [ "$mim_rc" = 0 ] || [ "$mim_rc" = skipped ]; }
