"""A run's record, defined once: its transcript events, run.json, the lock, and the one reader.

- `transcript`: writing and parsing `ctx-K/transcript.jsonl` (the only line parser);
- `events`: the typed events of a transcript (`parse_event`), versioned;
- `run`: the shape of run.json (`RUN_VERSION`, the entries the orchestrator writes and their typed reading);
- `outcome`: how a context ended (`ContextOutcome`, the one type for it);
- `lock`: one writer per run (`RunLock`, `probe_lock`);
- `view`: the one reader (`read_run` -> `RunView`) behind the live table, notes, `show`, `runs` and the report;
- `audit`: what the report says about honesty (claimed against trusted, files changed outside the design,
  statistical ties);
- `reconcile`: recovery after an unclean stop, from the durable record.

Modules are imported directly (`from glia.record.view import read_run`); this package imports nothing, so
the low-level writers (the ledger, the transcript) can use it without cycles.
"""
