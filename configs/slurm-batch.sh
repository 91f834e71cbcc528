#!/usr/bin/env bash
# One shard of an inkgen batch per Slurm array task; no merge step is needed, because each shard
# writes its own manifest in OUT and every inkgen batch run reads them all (README "Batches").
#
#   sbatch --array=0-7 configs/slurm-batch.sh JOBS OUT [inkgen batch options...]
#   sbatch --array=0-7 configs/slurm-batch.sh segments.txt runs/batch --crops auto --mode maximize
#
# Submitting the same command again resumes: each task skips the jobs that any manifest records as
# done. The array may be resized between submissions. Afterwards:
#   inkgen batch JOBS --out OUT [same options] --status
#
# Array indices must be consecutive (--array=0-7 or 1-8, no :step and no list), so that task i of
# n takes shard i/n. Set INKGEN to the binary when it is not on PATH.
#SBATCH --job-name=inkgen-batch
#SBATCH --array=0-7
#SBATCH --gres=gpu:1
#SBATCH --cpus-per-task=4
#SBATCH --mem=16G
#SBATCH --time=12:00:00
#SBATCH --output=inkgen-batch-%A_%a.log
set -euo pipefail

if [ $# -lt 2 ]; then
  echo "usage: sbatch --array=0-N $0 JOBS OUT [inkgen batch options...]" >&2
  exit 2
fi
jobs=$1
out=$2
shift 2

if [ -z "${SLURM_ARRAY_TASK_ID:-}" ] || [ -z "${SLURM_ARRAY_TASK_COUNT:-}" ]; then
  echo "$0: not a Slurm array task (no SLURM_ARRAY_TASK_ID/COUNT); submit it with sbatch --array" >&2
  exit 2
fi
shard=$((SLURM_ARRAY_TASK_ID - ${SLURM_ARRAY_TASK_MIN:-0}))
if [ "$shard" -lt 0 ] || [ "$shard" -ge "$SLURM_ARRAY_TASK_COUNT" ]; then
  echo "$0: task $SLURM_ARRAY_TASK_ID is outside 0..$((SLURM_ARRAY_TASK_COUNT - 1)) after the" \
       "array's first index; use consecutive indices (--array=0-N)" >&2
  exit 2
fi

# Exit codes pass through: 0 all done, 1 some jobs failed (see the manifest), 130 cancelled
# (scancel sends SIGTERM: the running jobs are recorded as interrupted and run again next time).
exec "${INKGEN:-inkgen}" batch "$jobs" --out "$out" --shard "$shard/$SLURM_ARRAY_TASK_COUNT" "$@"
