"""A context's ledger wired to a real Docker workspace, for the budget attacks in test_budget_*.py.

It is the context's wiring without the agents: the ledger serves its socket, the workspace bind-mounts
it and sets GLIA_LEDGER for every command, the repository (the simulator template) lives inside the
container, and every simulation start snapshots the tree into a host history exported as data.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from glia.agents.cpu_backstop import CpuPolicy
from glia.agents.ledger import SimulationLedger
from glia.budget import Budget
from glia.metric import Metric
from glia.record.transcript import Transcript, read_events
from glia.task import BudgetLimits
from glia.workspace import Limits, create_workspace
from glia.workspace.base import ExecResult
from glia.workspace.history import History
from glia.workspace.tree import DEFAULT_EXCLUDES, tree_from_folder

TEMPLATE = Path(__file__).resolve().parents[2] / "sim_repo_template"
EXCLUDES = (*DEFAULT_EXCLUDES, "simulator_results")
# The routing task's benchmark: the design on the standard trace, its duration, the default cluster.
ROUTING_BENCHMARK = {
    "router": "ai",
    "workload": "trace:data/processed_traces/sharegpt_7.5.csv",
    "duration": 1000,
    "router_seed": 0,
    "replica_scheduler": "sarathi",
    "num_replicas": 4,
    "model": "llama-3-8b",
    "device": "a10",
    "chunk_size": 8192,
    "batch_cap": 128,
    "block_size": 16,
    "num_blocks": 2254,
    "watermark_fraction": 0.01,
}
QUICK = "./run_all.sh --duration 20"  # a short experiment: about a tenth of a second of simulation


@dataclass
class Command:
    """One bash call as the context runs it: the result, the note the Researcher got, the time taken."""

    result: ExecResult
    note: str | None
    seconds: float

    @property
    def output(self) -> str:
        return self.result.output


@dataclass
class SandboxedLedger:
    """A started workspace plus its ledger; `bash` runs a command with the call attribution."""

    root: Path
    image: str
    simulations: int | None = None
    cpu_policy: CpuPolicy | None = None  # given: the CPU backstop watches the sandbox, as in a context
    commands: list[Command] = field(default_factory=list)

    def __post_init__(self) -> None:
        ctx = self.root / "ctx-1"
        ctx.mkdir(parents=True)
        self.budget = Budget(BudgetLimits(simulations=self.simulations))
        self.transcript = Transcript(ctx / "transcript.jsonl")
        template = tree_from_folder(TEMPLATE, EXCLUDES)
        self.history = History.create(ctx / "history.git", template)
        self.snapshot_seconds: list[float] = []
        self.ledger = SimulationLedger(
            self.budget, self.transcript, self._snapshot, Metric("mean_e2e", "minimize"), ROUTING_BENCHMARK
        )
        self.socket = self.ledger.listen()
        self.workspace = create_workspace(
            "docker",
            ctx / "outputs",
            f"budget-test-{uuid.uuid4().hex[:8]}",
            "ctx-1",
            image=self.image,
            limits=Limits(memory="2g", cpus=2.0, default_timeout_s=120.0),
            ledger_socket=self.socket,
        )
        self.workspace.start()
        self.workspace.write_files(template)
        if self.cpu_policy is not None:
            self.ledger.watch_cpu(self.workspace.cpu_seconds, self.cpu_policy)
        self._calls = 0
        self._closed = False

    def _snapshot(self, message: str) -> str:
        began = time.monotonic()
        tree = self.workspace.export_tree(EXCLUDES)
        sha = self.history.commit(tree, message)
        self.snapshot_seconds.append(time.monotonic() - began)
        return sha

    def bash(self, command: str, timeout_s: float = 120.0) -> Command:
        self._calls += 1
        self.ledger.begin_command(f"call_{self._calls}")
        began = time.monotonic()
        try:
            result = self.workspace.exec(command, timeout_s=timeout_s)
        finally:
            note = self.ledger.end_command()
        done = Command(result, note, time.monotonic() - began)
        self.commands.append(done)
        return done

    def events(self, kind: str) -> list[dict]:
        return [e for e in read_events(self.transcript.path) if e["type"] == kind]

    def close(self) -> None:
        """Close the workspace, then the ledger (runs cut short are recorded); safe to call twice."""
        if self._closed:
            return
        self._closed = True
        try:
            self.workspace.close()
        finally:
            self.ledger.close()
            self.transcript.close()
