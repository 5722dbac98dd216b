"""Helpers for end-to-end runs: a quick variant of the routing task and a scripted Researcher that
keeps several contexts' conversations apart.

All contexts of a run use the same model names, so the fake server cannot tell them apart by model.
The script does it by conversation: a request with no assistant turn yet opens conversation n (in arrival
order), and every tool call id it sends back names its conversation and step (`c<n>-<phase>-s<k>`), so
the next request of that conversation, which repeats those ids, says where it is.
"""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import docker

from glia.workspace.docker_backend import MANAGED_LABEL, RUN_LABEL
from tests.fake_llm import fault, reply, tool_call

REPO_ROOT = Path(__file__).resolve().parents[2]
DESIGN = "llmsim/global_schedulers/ai_global_scheduler.py"
BENCHMARK = "python -m llmsim run --router ai --qps 7.5 --seed 0 --duration 100 | tail -1"
_CALL_ID = re.compile(r"c(\d+)-(\w+)-s(\d+)")


def write_quick_task(folder: Path) -> Path:
    """The routing task with one short workload, one seed and two baselines: seconds, not minutes."""
    text = (REPO_ROOT / "tasks" / "llm_routing.md").read_text(encoding="utf-8")
    front, body = text.split("\n---\n", 1)
    front = front.replace("simulator: ../sim_repo_template", f"simulator: {REPO_ROOT / 'sim_repo_template'}")
    front = re.sub(
        r"  workloads:\n(    - .*\n)+",
        "  workloads:\n    - {name: main, qps: 7.5, duration: 100, seeds: [0]}\n",
        front + "\n",
    )
    front = front.replace("baselines: [random, round_robin, llq, lor]", "baselines: [llq, round_robin]")
    front = front.replace("time_limit_s: 120", "time_limit_s: 60")
    front = quick_claims(front)
    path = folder / "quick_routing.md"
    path.write_text(front.rstrip("\n") + "\n---\n" + body, encoding="utf-8")
    return path


def quick_claims(front_matter: str) -> str:
    """Benchmark conditions that make the scripted `BENCHMARK` (100 generated seconds) a claim, so the
    tests need no 1000-second benchmark; any other router or duration is an experiment."""
    return re.sub(
        r"  conditions:\n(    .*\n)+", "  conditions:\n    router: ai\n    duration: 100\n", front_matter
    )


def router_command(pending_weight: int) -> str:
    return f"""cat > {DESIGN} <<'PY'
from llmsim.global_schedulers.base import GlobalScheduler


class AIGlobalScheduler(GlobalScheduler):
    name = "ai"

    def schedule(self):
        def load(rid):
            replica = self.replicas[rid]
            return ({pending_weight} * replica.num_pending_requests + replica.num_active_requests, rid)

        return self.route_all(lambda request: min(self.replicas, key=load))
PY
echo router written"""


FINISH_ARGS = {
    "design": "Least-loaded routing that weighs waiting requests more than running ones.",
    "evidence": "One benchmark run at 7.5 QPS.",
    "tried_and_rejected": "Random routing.",
}


class ConversationScript:
    """A Researcher handler: per conversation, the steps of the current phase, then `finish`.

    `phase` can be switched by the test (e.g. 'wait' -> 'work' for a resumed run). `fail` names
    conversations whose first request gets a permanent 401. A request without tools (the CLI's
    pre-flight probe) is answered "ok" and opens no conversation.
    """

    def __init__(
        self, phases: dict[str, Callable[[int], list[str]]], phase: str, fail: set[int] = frozenset()
    ):
        self.phases = phases
        self.phase = phase
        self.fail = set(fail)
        self.opened = 0
        self.lock = threading.Lock()

    def __call__(self, request) -> object:
        if not request.tool_names:  # `glia solve`'s pre-flight probe of the endpoint: no conversation
            return reply("ok")
        conversation, phase, step = self.position(request)
        if conversation is None:
            with self.lock:
                self.opened += 1
                conversation = self.opened
            if conversation in self.fail:
                return fault("auth")
        if phase != self.phase:
            step = 0
        commands = self.phases[self.phase](conversation)
        step += 1
        call_id = f"c{conversation}-{self.phase}-s{step}"
        if step > len(commands):
            return reply("Done: submitting.", [tool_call("finish", FINISH_ARGS, id=call_id)])
        return reply(f"Step {step}.", [tool_call("bash", {"command": commands[step - 1]}, id=call_id)])

    @staticmethod
    def position(request) -> tuple[int | None, str | None, int]:
        for message in reversed(request.messages):
            for call in message.get("tool_calls") or []:
                match = _CALL_ID.fullmatch(str(call.get("id", "")))
                if match:
                    return int(match.group(1)), match.group(2), int(match.group(3))
        return None, None, 0


def approve(request) -> object:
    return reply("The evidence supports the design.\nVERDICT: APPROVE")


def work_phase(conversation: int) -> list[str]:
    """Write a router (a different weight per conversation) and benchmark it once."""
    return [router_command(pending_weight=conversation + 1), BENCHMARK]


def run_containers(run_id: str) -> list[str]:
    client = docker.from_env()
    try:
        containers = client.containers.list(
            all=True, filters={"label": [f"{MANAGED_LABEL}=1", f"{RUN_LABEL}={run_id}"]}
        )
        return [c.name for c in containers]
    finally:
        client.close()


SUBPROCESS_RUNNER = """
import sys
from pathlib import Path
from glia.orchestrator import RunConfig, execute_run, prepare_run
from glia.task import BudgetLimits

task_path, root, run_id, base_url = sys.argv[1:5]
config = RunConfig(task_path=Path(task_path), strategy="mcg-par", contexts=2,
                   researcher_model="openai:researcher-model", supervisor_model="openai:supervisor-model",
                   base_url=base_url, budgets=BudgetLimits(steps=60, simulations=20),
                   workspaces_root=Path(root), run_id=run_id)
run_dir = prepare_run(config)
print("RUN_DIR", run_dir, flush=True)
result = execute_run(run_dir)
print("STATUS", result.status, flush=True)
"""


def python() -> str:
    return sys.executable
