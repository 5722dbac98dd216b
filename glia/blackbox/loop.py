"""`loop`: the generate-and-verify loop of "AI for Distributed Systems Design" (seed 000), our own code.

A policy generator (one model call) writes a design; syntax and rule checks reject it with the precise
error before any simulation is spent; the deterministic benchmark runs it in the sandbox; a context
manager folds the design's stated idea and its result (score, or the exact error) into the context of the
next generation, and keeps the best design so far in full. The context is rebuilt from the run's
candidate records for every call, so it stays bounded (the last `history` attempts) and a resumed run
continues with exactly the context it had.
"""

from __future__ import annotations

from glia.blackbox.prompts import attempt_line, loop_prompt, system_prompt
from glia.blackbox.session import MethodSession
from glia.blackbox.store import best_claim
from glia.llm.types import Message


def run_loop(session: MethodSession) -> str:
    """Generate, verify and summarise until something ends the method; returns the end reason."""
    system = system_prompt("loop")
    task, store = session.task, session.store
    while True:
        reason = session.stop_reason()
        if reason is not None:
            return reason
        records = store.records()
        best = best_claim(records, task.metric)
        shown = [r for r in (best, records[-1] if records else None) if r is not None and r.design_hash]
        designs = {r.design_hash: store.design(r.design_hash) for r in shown}
        prompt = loop_prompt(
            task, session.host.baselines, session.template, records, designs, best, session.settings.history
        )
        if records:
            session.events.user("Context update: " + attempt_line(records[-1], task.metric.name, best))
        generation = session.generate(system, [Message(role="user", content=prompt)])
        session.settle_reply(
            generation.text,
            generation,
            origin={"generation": session.generations, "best_before": best.n if best else None},
        )
