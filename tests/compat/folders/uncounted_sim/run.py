"""One benchmark run: python run.py --policy NAME --seed N [--output-root DIR] [--experiment NAME].

It knows nothing of Glia: it reports no runs to any ledger."""

from queuesim.bench import main

main()
