"""The `finish` tool: the Researcher submits its design; the Supervisor may send it back to work."""

from __future__ import annotations

from glia.agents.supervisor import APPROVE
from glia.agents.tools.names import FINISH
from glia.agents.tools.registry import ToolHost, ToolOutcome
from glia.llm.types import ToolCall, ToolSpec
from glia.workspace.base import Limits


def finish_tool() -> ToolSpec:
    """The submit tool: the Researcher's account of its design, reviewed by the Supervisor."""
    return ToolSpec(
        name=FINISH,
        description=(
            "Submit your final design and end the research session. The design file as it is in the "
            "repository now is what gets evaluated. The Supervisor reviews your summary and may send "
            "you back to work with feedback."
        ),
        parameters={
            "type": "object",
            "properties": {
                "design": {"type": "string", "description": "What the design is and why it works."},
                "evidence": {
                    "type": "string",
                    "description": "The measurements that support it (runs, scores, comparisons).",
                },
                "tried_and_rejected": {
                    "type": "string",
                    "description": "Ideas you tried or considered and why you dropped them.",
                },
                "expected_score": {
                    "type": "number",
                    "description": "Optional: the score you expect the design to reach on the benchmark.",
                },
            },
            "required": ["design", "evidence", "tried_and_rejected"],
        },
    )


class FinishTool:
    """Asks the Supervisor (when its policy reviews finishes); the context ends when the finish stands,
    otherwise the review is the call's result and the turn's later calls are not run."""

    name = FINISH

    def spec(self, limits: Limits) -> ToolSpec:
        return finish_tool()

    def check(self, call: ToolCall) -> str | None:
        return None

    def run(self, host: ToolHost, call: ToolCall) -> ToolOutcome:
        summary = dict(call.arguments)
        review = host.consult(FINISH, summary) if host.policy.reviews_finish() else None
        accepted = review is None or review.verdict == APPROVE
        host.events.finish(summary=summary, accepted=accepted, reviewed=review is not None)
        if accepted:
            host.finish_summary = summary
            return ToolOutcome(end="finished")
        assert review is not None
        host.answer(call, review.message)
        return ToolOutcome(ends_turn=True, supervised=True)
