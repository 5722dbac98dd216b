#!/bin/sh
# One benchmark run: sh run.sh --policy NAME --seed N (see queuesim/bench.py).
cd "$(dirname -- "$0")" || exit 1
exec python3 -m queuesim.bench "$@"
