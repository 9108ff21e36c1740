#!/usr/bin/env bash
# Evaluate on a slurm cluster, one task per GPU, any number of nodes.
#   [GPUS=16] [GPUS_PER_NODE=8] [CPUS_PER_TASK=5] [SRUN_ARGS="--quotatype=auto"] \
#       bash tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [test.py options]
# srun starts GPUS tasks across ceil(GPUS / GPUS_PER_NODE) nodes; MMEngine reads the slurm
# variables (SLURM_PROCID, SLURM_NTASKS, SLURM_NODELIST) and sets up NCCL itself.
set -euo pipefail
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
CHECKPOINT=$4
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-""}
PYTHON=${PYTHON:-python}
cd "$(dirname "$0")/.."
PYTHONPATH="$(pwd):${PYTHONPATH:-}" \
srun -p "$PARTITION" --job-name="$JOB_NAME" --gres=gpu:"$GPUS_PER_NODE" --ntasks="$GPUS" \
    --ntasks-per-node="$GPUS_PER_NODE" --cpus-per-task="$CPUS_PER_TASK" --kill-on-bad-exit=1 \
    $SRUN_ARGS \
    $PYTHON -u tools/test.py "$CONFIG" "$CHECKPOINT" --launcher=slurm "${@:5}"
