#!/usr/bin/env bash
# Distributed training with torchrun (DDP through MMEngine), on one or more nodes.
#
#   bash tools/dist_train.sh CONFIG NUM_PROCESSES [train.py options]
#
# CONFIG, --work-dir and the config's data paths are read relative to the directory you
# run this from, as with tools/train.py. Multi-node: NNODES=2 NODE_RANK=0 MASTER_ADDR=host0
# bash tools/dist_train.sh CONFIG 8 ...; PORT (29500) and PYTHON (python) may be set too.
# Without CUDA the processes use gloo on the CPU; with CUDA, NCCL, one GPU per process.
set -euo pipefail
TOOLS=$(cd "$(dirname "$0")" && pwd)
usage() { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; }
case "${1:-}" in -h | --help) usage; exit 0 ;; esac
if [ $# -lt 2 ]; then
  usage >&2
  echo "error: CONFIG and NUM_PROCESSES are required" >&2
  exit 2
fi
CONFIG=$1
GPUS=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
PYTHON=${PYTHON:-python}
PYTHONPATH="$TOOLS/..${PYTHONPATH:+:$PYTHONPATH}" \
"$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" --node_rank="$NODE_RANK" --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$GPUS" --master_port="$PORT" \
    "$TOOLS/train.py" "$CONFIG" --launcher pytorch "${@:3}"
