#!/usr/bin/env bash
# The batch-scheduling benchmark: the replica scheduler in
# llmsim/replica_schedulers/ai_replica_scheduler.py ("ai") under the LLQ router, on
# data/processed_traces/sharegpt_7.5.csv (1000 s at 7.5 QPS, 4 A10 replicas, Llama-3-8B).
#
#   ./run_batch.sh                 # replica scheduler ai
#   ./run_batch.sh sarathi         # a built-in one (sarathi: FCFS, the reference; vllm)
#   ./run_batch.sh --seed 3        # a fresh 7.5 QPS workload generated with seed 3
#
# Any other option of `python -m llmsim run` is passed through. The last line is `mean_e2e: <seconds>`.
set -euo pipefail
cd "$(dirname "$0")"

scheduler=ai
if [[ $# -gt 0 && "$1" != -* ]]; then
  scheduler="$1"
  shift
fi
has_workload=0
for arg in "$@"; do
  case "$arg" in
    --trace|--trace=*|--qps|--qps=*|--seed|--seed=*) has_workload=1 ;;
  esac
done
workload=()
if [[ $has_workload -eq 0 ]]; then
  workload=(--trace data/processed_traces/sharegpt_7.5.csv)
fi

exec "${PYTHON:-python3}" -m llmsim run --router llq --replica-scheduler "$scheduler" "${workload[@]}" "$@"
