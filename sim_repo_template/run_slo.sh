#!/usr/bin/env bash
# The SLO-routing benchmark: the router in llmsim/global_schedulers/ai_global_scheduler.py ("ai") on
# 8 H100 replicas serving Llama-3.3-70B FP8, for 45 closed-loop users sending prefill-heavy
# (code-completion) requests back to back for 600 s.
#
#   ./run_slo.sh                   # router ai
#   ./run_slo.sh llq               # a baseline router (round_robin, llq, lor, random)
#   ./run_slo.sh --seed 3          # another draw of the same users
#
# Any other option of `python -m llmsim run` is passed through (later options win). Score:
# throughput_rps in summary.json, subject to p90_ttft <= 1.5.
set -euo pipefail
cd "$(dirname "$0")"

router=ai
if [[ $# -gt 0 && "$1" != -* ]]; then
  router="$1"
  shift
fi

exec "${PYTHON:-python3}" -m llmsim run --router "$router" \
  --arrivals closed_loop --users 45 --think-time 0 --lengths prefill_heavy --duration 600 --seed 0 \
  --model llama-3.3-70b-fp8 --device h100 --num-replicas 8 "$@"
