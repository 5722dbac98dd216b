#!/usr/bin/env bash
# The autoscaling benchmark: the autoscaler in llmsim/autoscalers/ai_autoscaler.py ("ai") on one hour of
# load swinging from 7.5 to 22.5 QPS and back (a Poisson sinusoid, ShareGPT-like lengths), starting from
# 4 A10 replicas (Llama-3-8B, Sarathi, LLQ router), between 1 and 32 replicas, 82 s cold start.
#
#   ./run_autoscale.sh             # autoscaler ai
#   ./run_autoscale.sh threshold   # the production-style baseline
#   ./run_autoscale.sh --seed 3    # another draw of the same workload
#
# Any other option of `python -m llmsim run` is passed through (later options win). Score: gpu_hours in
# summary.json, subject to p95_slowdown <= 5.
set -euo pipefail
cd "$(dirname "$0")"

autoscaler=ai
if [[ $# -gt 0 && "$1" != -* ]]; then
  autoscaler="$1"
  shift
fi

exec "${PYTHON:-python3}" -m llmsim run --router llq --autoscaler "$autoscaler" \
  --arrivals sinusoid --qps-low 7.5 --qps-high 22.5 --period 3600 --duration 3600 --seed 0 \
  --num-replicas 4 --min-replicas 1 --max-replicas 32 --no-router-log "$@"
