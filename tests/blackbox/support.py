"""Helpers for the black-box and comparison tests: a tiny problem whose designs have known scores, a
fake model that plays every role (Researcher, Supervisor, design generator, OpenEvolve's mutator), and a
quick variant of the bundled routing task.

The simple problem's evaluator scores `solve(3)`: the design `return n + K` scores 3 + K; a design with
a syntax error is rejected before running; one that raises fails in the simulator (the benchmark).
"""

from __future__ import annotations

import itertools
import re
import threading
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path

from tests.fake_llm import reply, tool_call
from tests.problems.support import make_problem

REPO_ROOT = Path(__file__).resolve().parents[2]
PROGRAM = "initial_program.py"
MODEL = "openai:gpt-4o"  # priced, so dollars are recorded


def good(k: int) -> str:
    return f"Idea: add {k}.\n\n```python\ndef solve(n):\n    return n + {k}\n```\n"


SYNTAX_ERROR = "Idea: forgot a colon.\n\n```python\ndef solve(n)\n    return n\n```\n"
RAISES = "Idea: fail loudly.\n\n```python\ndef solve(n):\n    raise ValueError('boom')\n```\n"
NO_CODE = "I would rather describe the idea than write it."


def unique(name: str) -> str:
    """A run id no other test session uses: container names and the orchestrator's container cleanup
    go by run id, so two test sessions on one Docker engine must not share one."""
    return f"{name}-{uuid.uuid4().hex[:6]}"


def simple_problem(folder: Path) -> Path:
    return make_problem(folder / "simple")


class Roles:
    """A fake-model handler: Researcher (tool calls), Supervisor (approves), OpenEvolve (SEARCH/REPLACE
    edits of `return n + K`) and design generators (replies from `designs`, cycled)."""

    def __init__(
        self, designs: Iterable[str], edits: Iterable[int | str] = (), researcher_k: Iterable[int] = (7,)
    ) -> None:
        self.designs: Iterator[str] = itertools.cycle(list(designs))
        self.edits: Iterator[int | str] = itertools.cycle(list(edits) or [5])
        self.researcher_k = list(researcher_k)
        self.lock = threading.Lock()
        self.counts = {"researcher": 0, "supervisor": 0, "design": 0, "openevolve": 0}

    def __call__(self, request):  # type: ignore[no-untyped-def]
        with self.lock:
            if request.tool_names:
                self.counts["researcher"] += 1
                return self._researcher(request)
            if "You are the Supervisor" in request.system:
                self.counts["supervisor"] += 1
                return reply(
                    "The evidence supports the design.\nVERDICT: APPROVE", input_tokens=500, output_tokens=50
                )
            if "SEARCH/REPLACE" in request.last_user_text or "Current Program" in request.last_user_text:
                self.counts["openevolve"] += 1
                return self._edit(request.last_user_text)
            self.counts["design"] += 1
            return reply(next(self.designs), input_tokens=1000, output_tokens=200)

    def _edit(self, text: str):  # type: ignore[no-untyped-def]
        match = re.search(r"# Current Program\n```\w*\n(.*?)```", text, re.S)
        current = match.group(1) if match else ""
        line = next(
            (ln for ln in current.splitlines() if ln.strip().startswith(("return", "raise"))),
            "    return n + 1",
        )
        change = next(self.edits)
        new = f"    return n + {change}" if isinstance(change, int) else change
        return reply(f"Changing the constant.\n<<<<<<< SEARCH\n{line}\n=======\n{new}\n>>>>>>> REPLACE\n",
                     input_tokens=1000, output_tokens=200)  # fmt: skip

    def _researcher(self, request):  # type: ignore[no-untyped-def]
        """Write `return n + K` and benchmark it, for each K, until the budget refuses; then finish."""
        turn = request.assistant_turns
        steps = []
        for k in self.researcher_k:
            steps.append(f"printf 'def solve(n):\\n    return n + {k}\\n' > {PROGRAM}")
            steps.append("python glia_benchmark.py")
        if turn < len(steps):
            return reply(
                f"Step {turn + 1}.",
                [tool_call("bash", {"command": steps[turn]})],
                input_tokens=800,
                output_tokens=60,
            )
        summary = {
            "design": "Add a constant.",
            "evidence": "Benchmark runs.",
            "tried_and_rejected": "Nothing else.",
        }
        return reply("Done.", [tool_call("finish", summary)], input_tokens=800, output_tokens=60)


def quick_routing_task(folder: Path) -> Path:
    """The bundled routing task with a cheap trusted evaluation: one 100-second workload, one public seed,
    two baselines. The Researcher's benchmark (`./run_all.sh`, the full trace) is unchanged."""
    text = (REPO_ROOT / "tasks" / "llm_routing.md").read_text(encoding="utf-8")
    front, body = text.split("\n---\n", 1)
    front = front.replace("simulator: ../sim_repo_template", f"simulator: {REPO_ROOT / 'sim_repo_template'}")
    front = re.sub(
        r"  workloads:\n(    - .*\n)+",
        "  workloads:\n    - {name: main, qps: 7.5, duration: 100, seeds: [0]}\n",
        front + "\n",
    )
    front = front.replace("baselines: [random, round_robin, llq, lor]", "baselines: [llq, round_robin]")
    path = folder / "quick_routing.md"
    path.write_text(front.rstrip("\n") + "\n---\n" + body, encoding="utf-8")
    return path


ROUTER = "llmsim/global_schedulers/ai_global_scheduler.py"


def router_reply(body: str, idea: str) -> str:
    """A routing design reply whose `schedule()` routes each request with `choose(request)`."""
    code = f"""from __future__ import annotations

from llmsim.global_schedulers.base import GlobalScheduler


class AIGlobalScheduler(GlobalScheduler):
    name = "ai"

    def schedule(self):
{body}
"""
    return f"Idea: {idea}\n\n```python\n{code}```\n"


ALL_TO_ZERO = router_reply(
    "        return self.route_all(lambda request: min(self.replicas))", "send everything to one replica."
)
LEAST_ACTIVE = router_reply(
    "        return self.route_all(lambda request: min(self.replicas, key=lambda r: (self.replicas[r].num_active_requests, r)))",
    "fewest running requests.",
)
ROUTER_RAISES = router_reply("        raise RuntimeError('no idea')", "give up.")
ROUTER_FORBIDDEN = router_reply(
    "        return self.route_all(lambda request: request.num_decode_tokens % 4)",
    "peek at the output length.",
)
