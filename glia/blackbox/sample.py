"""`sample`: the model as it is (the Glia paper's section 3.1 and Fig. 2).

Independent designs, each drawn from the same detailed prompt (the brief with the baseline scores, the
design's interface, the design file as it stands), each checked and benchmarked once, until the budget or
the generation cap ends it. Nothing from one design reaches the next: the distribution of their scores is
the result. The method's answer is the design with the best claimed score, re-evaluated by the trusted
evaluator like every method's.
"""

from __future__ import annotations

from glia.blackbox.prompts import sample_prompt, system_prompt
from glia.blackbox.session import MethodSession
from glia.llm.types import Message


def run_sample(session: MethodSession) -> str:
    """Draw and benchmark designs until something ends the method; returns the end reason."""
    prompt = sample_prompt(session.task, session.host.baselines, session.template)
    system = system_prompt("sample")
    while True:
        reason = session.stop_reason()
        if reason is not None:
            return reason
        generation = session.generate(system, [Message(role="user", content=prompt)])
        session.settle_reply(generation.text, generation, origin={"generation": session.generations})
