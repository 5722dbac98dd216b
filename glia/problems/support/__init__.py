"""Code that runs inside the sandboxes of an OpenEvolve-style problem (copied there as `glia_support`).

Standard library only, relative imports only: it runs with whatever Python the task image has.

* `benchmark`: the Researcher's benchmark (`python glia_benchmark.py`): the problem's evaluator on the
  current program, in process, reported to Glia's simulation ledger.
* `harness`: the trusted evaluation's command in the core sandbox: the same evaluator, given a stand-in
  for the program, which runs in a sandbox of its own (`glia_isolation.program_proxy`).
* `outcome`: what both make of an evaluator's answer (metrics, artifacts, the objective) and how they
  write `summary.json`; `settings`: the problem's settings Glia wrote at load time (`problem.json`);
  `ledger`: the ledger client.
"""
