#!/usr/bin/env bash
# The standard benchmark: the router in llmsim/global_schedulers/ai_global_scheduler.py ("ai") on
# data/processed_traces/sharegpt_7.5.csv (1000 s at 7.5 QPS, 4 A10 replicas, Llama-3-8B, Sarathi).
#
#   ./run_all.sh                      # router ai on the standard trace
#   ./run_all.sh llq                  # another router (or: --router llq)
#   ./run_all.sh --trace data/processed_traces/sharegpt_8.5_seed2.csv
#   ./run_all.sh --seed 3             # a fresh 7.5 QPS workload generated with seed 3
#   ./run_all.sh --duration 200       # the first 200 s of the standard trace (a quick look)
#
# Any other option of `python -m llmsim run` is passed through (see `python -m llmsim run --help`).
# Prints the result folder, a summary, and last the mean end-to-end latency: `mean_e2e: <seconds>`.
set -euo pipefail
cd "$(dirname "$0")"

args=()
if [[ $# -gt 0 && "$1" != -* ]]; then
  args+=(--router "$1")
  shift
fi
has_router=0
has_workload=0
for arg in "$@"; do
  case "$arg" in
    --router|--router=*) has_router=1 ;;
    --trace|--trace=*|--qps|--qps=*|--seed|--seed=*) has_workload=1 ;;
  esac
done
if [[ ${#args[@]} -eq 0 && $has_router -eq 0 ]]; then
  args+=(--router ai)
fi
if [[ $has_workload -eq 0 ]]; then
  args+=(--trace data/processed_traces/sharegpt_7.5.csv)
fi

exec "${PYTHON:-python3}" -m llmsim run "${args[@]}" "$@"
