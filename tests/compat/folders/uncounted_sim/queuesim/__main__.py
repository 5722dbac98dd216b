"""python -m queuesim ARGS: one benchmark run (see queuesim.bench)."""

from queuesim.bench import main

main()
