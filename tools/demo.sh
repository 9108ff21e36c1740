#!/usr/bin/env bash
# The main job, from nothing: set up .venv, make the multi-scale toy COCO set, train FCOS-R18
# with MUSE on the CPU, evaluate with pycocotools and print the COCO table.
#   bash tools/demo.sh [train.py options, e.g. --cfg-options train_cfg.max_iters=100]
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup_env.sh
PY=.venv/bin/python
CONFIG=configs/toy/muse_fcos_r18_toy_coco_multiscale.py
WORK_DIR=${WORK_DIR:-work_dirs/demo}
if [ ! -f data/toy_coco_multiscale/annotations/instances_val.json ]; then
  $PY tools/misc/make_toy_coco.py --variant multiscale
fi
$PY tools/train.py "$CONFIG" --work-dir "$WORK_DIR" "$@"
CKPT=$(cat "$WORK_DIR/last_checkpoint")
$PY tools/export.py "$CKPT" "$WORK_DIR/plain_detector.pth"
echo
echo "== demo done =="
echo "config:            $CONFIG"
echo "logs and metrics:  $WORK_DIR/$(ls -t "$WORK_DIR" | grep -E '^[0-9]{8}_[0-9]{6}$' | head -1)/"
echo "MUSE checkpoint:   $CKPT"
echo "plain mmdet ckpt:  $WORK_DIR/plain_detector.pth (evaluate with configs/toy/fcos_r18_toy_coco_multiscale.py)"
