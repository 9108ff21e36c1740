#!/usr/bin/env bash
# Evaluate on a slurm cluster, one task per GPU, any number of nodes.
#
#   [GPUS=16] [GPUS_PER_NODE=8] [CPUS_PER_TASK=5] [SRUN_ARGS="--quotatype=auto"] \
#       bash tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [test.py options]
#
# CONFIG, CHECKPOINT and the config's data paths are read relative to the directory you run
# this from. srun starts GPUS tasks across ceil(GPUS / GPUS_PER_NODE) nodes; MMEngine reads
# the slurm variables (SLURM_PROCID, SLURM_NTASKS, SLURM_NODELIST) and sets up NCCL itself.
set -euo pipefail
TOOLS=$(cd "$(dirname "$0")" && pwd)
usage() { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; }
case "${1:-}" in -h | --help) usage; exit 0 ;; esac
if [ $# -lt 4 ]; then
  usage >&2
  echo "error: PARTITION, JOB_NAME, CONFIG and CHECKPOINT are required" >&2
  exit 2
fi
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
CHECKPOINT=$4
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-""}
PYTHON=${PYTHON:-python}
# shellcheck disable=SC2086 (SRUN_ARGS holds several options)
PYTHONPATH="$TOOLS/..${PYTHONPATH:+:$PYTHONPATH}" \
srun -p "$PARTITION" --job-name="$JOB_NAME" --gres=gpu:"$GPUS_PER_NODE" --ntasks="$GPUS" \
    --ntasks-per-node="$GPUS_PER_NODE" --cpus-per-task="$CPUS_PER_TASK" --kill-on-bad-exit=1 \
    $SRUN_ARGS \
    "$PYTHON" -u "$TOOLS/test.py" "$CONFIG" "$CHECKPOINT" --launcher=slurm "${@:5}"
