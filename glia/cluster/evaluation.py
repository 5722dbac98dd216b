"""Trusted evaluation spread over a cluster: the simulations of one evaluation run on many nodes at once.

A *lane* is one `PairHost` actor (`glia.cluster.pair`) on one node: a core and a design sandbox sharing
that node's channel volume, two of its declared slots, one simulation at a time; a lane for a built-in
design (a baseline router: no design sandbox) is the core alone and takes one slot, so a baseline's
evaluation runs twice as many simulations at once. `SpreadSandboxes` is
the evaluator's `EvaluationSandboxes` interface over several lanes: each lane is driven by the
evaluator's own `EvaluationSandboxes` (the same files written, the same design host, the same
commands), through `RemoteMember` proxies, and each of the evaluator's job threads keeps one lane, so a
simulation's command, listing, reads and clean-up all go to the sandboxes that ran it. Everything
comes back as data and is verified here, on the driver, exactly as for a local evaluation; each
command's log is written into the run folder, and `nodes.json` in the evaluation's folder says how
many simulations ran on which node.

`LanePool` keeps lanes between the evaluations of a run (restarted, not recreated: container creation
is the slow part), and gives an idle one back whenever a context waits for a slot. A lane whose node
died is dropped and its node left out; the evaluator then runs the evaluation again on the lanes left.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import structlog

from glia.cluster.actors import actor_class
from glia.cluster.host import RESOURCE, NodeRefused
from glia.cluster.pair import UNITS, PairHost, units_for
from glia.cluster.placement import PLACEMENT
from glia.cluster.workspace import (
    CALL_MARGIN_S,
    QUICK_CALL_S,
    SandboxLost,
    call_actor,
    exec_result,
    kill_actor,
)
from glia.run_store import write_json_atomic
from glia.workspace.base import ExecResult, WorkspaceError
from glia.workspace.containers import REPO_DIR
from glia.workspace.engine import DEFAULT_IMAGE
from glia.workspace.output import CommandLogs
from glia.workspace.tree import Tree

log = structlog.get_logger(__name__)

NODES_FILE = "nodes.json"  # in an evaluation's folder: which node ran how many simulations
DEFAULT_EXEC_S = 600.0


def cluster_lanes(units: int = 1) -> int:
    """How many lanes of `units` slots the cluster's nodes declare room for. The evaluator's default
    width is that of one-slot lanes (a baseline's); an evaluation of a hosted design opens fewer, as
    many pairs as are free (`LanePool.take`)."""
    return max(1, sum(slots // units for slots in PLACEMENT.nodes().values()))


class Lane:
    """One pair actor on one node; the `SandboxPool` interface that `EvaluationSandboxes` asks for."""

    def __init__(
        self, node: str, run_id: str, image: str, time_limit_s: float, number: int, units: int
    ) -> None:
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        self.node, self.image, self.number, self.units = node, image, number, units
        self.broken = False  # lost (or refused): closed when given back, never reused
        self.refused = False
        self.where: dict[str, Any] = {}
        self.actor = (
            actor_class(PairHost)
            .options(
                num_cpus=0,
                resources={RESOURCE: units},
                max_concurrency=8,  # the core's command and the design host's at once
                max_restarts=0,
                scheduling_strategy=NodeAffinitySchedulingStrategy(node, soft=False),
            )
            .remote(run_id, image, time_limit_s)
        )

    def call(self, method: str, *args: Any, timeout_s: float = QUICK_CALL_S) -> Any:
        try:
            return call_actor(self.actor, method, *args, timeout_s=timeout_s, node=self.where.get("ip"))
        except SandboxLost:
            self.broken = True
            raise

    def acquire(self, folder: Path, hosted: bool) -> tuple[RemoteMember, RemoteMember | None]:
        """The node's sandboxes, fresh, their logs written under `folder` here."""
        if units_for(hosted) > self.units:  # a one-slot lane never starts a second sandbox
            raise WorkspaceError(
                f"lane {self.number} holds {self.units} slot(s): no room for a design sandbox"
            )
        try:
            self.where = self.call("acquire", hosted)
        except NodeRefused as refused:  # no engine or no image there: left out, never a bad design
            self.broken, self.refused = True, True
            PLACEMENT.refuse(self.node, str(refused), self.image if refused.image_only else "*")
            raise
        outputs = folder / "outputs" / f"lane-{self.number}"
        core = RemoteMember(self, "core", outputs / "core")
        return core, RemoteMember(self, "design", outputs / "design") if hosted else None

    def discard(self) -> None:
        try:
            self.call("discard")
        except WorkspaceError:
            self.broken = True

    def close(self) -> None:
        if not self.broken:
            try:
                self.call("close")
            except Exception as exc:  # noqa: BLE001 - best effort; containers self-destruct
                log.warning("cluster.lane_close_failed", node=self.node, error=str(exc)[:300])
        kill_actor(self.actor)
        PLACEMENT.release(self.node, self.units)
        if self.broken and not self.refused:
            PLACEMENT.refuse(self.node, "the node died during a trusted evaluation")


class RemoteMember:
    """The core or the design sandbox of a lane, as the Workspace calls of `EvaluationSandboxes`."""

    backend = "ray"
    workdir = REPO_DIR

    def __init__(self, lane: Lane, role: str, outputs_dir: Path) -> None:
        self.lane, self.role = lane, role
        self._logs = CommandLogs(outputs_dir)

    def log_to(self, outputs_dir: Path) -> None:
        self._logs = CommandLogs(outputs_dir)

    def exec(
        self, command: str, timeout_s: float | None = None, env: Mapping[str, str] | None = None
    ) -> ExecResult:
        limit = (timeout_s or DEFAULT_EXEC_S) + CALL_MARGIN_S
        answer = self.lane.call("exec", self.role, command, timeout_s, dict(env or {}), timeout_s=limit)
        return exec_result(answer, self._logs)

    def write_files(self, tree: Tree, *, replace: bool = False) -> None:
        self.lane.call("write_files", self.role, tree, replace)

    def read_file(self, relpath: str, max_bytes: int) -> bytes:
        data = self.lane.call("read_file", self.role, relpath, max_bytes)
        if not isinstance(data, bytes) or len(data) > max_bytes:
            raise WorkspaceError(f"{relpath}: the node sent more than {max_bytes} bytes")
        return data

    def is_alive(self) -> bool:
        try:
            return bool(self.lane.call("is_alive", self.role, timeout_s=60))
        except WorkspaceError:
            return False

    def close(self) -> None:
        """The lane owns the sandbox (kept for the next evaluation)."""


class LanePool:
    """The lanes of one evaluator, kept between its evaluations; an idle one is given back on demand."""

    def __init__(self, run_id: str, image: str | None, time_limit_s: float) -> None:
        self.run_id, self.image, self.time_limit_s = run_id, image or DEFAULT_IMAGE, time_limit_s
        self._idle: list[Lane] = []
        self._made = 0
        self._lock = threading.Lock()
        PLACEMENT.reclaimable(self._reclaim_one, self)

    def take(self, wanted: int, units: int = UNITS) -> list[Lane]:
        """Up to `wanted` lanes of `units` slots: kept ones first, then new ones where slots are free now;
        at least one, waiting for it when the cluster is full. Kept lanes of the other size are closed
        first, so their slots count as free."""
        with self._lock:
            fitting = [lane for lane in self._idle if lane.units == units]
            other = [lane for lane in self._idle if lane.units != units]
            lanes, self._idle = fitting[:wanted], fitting[wanted:]
        _close_all(other)
        while len(lanes) < wanted:
            node = PLACEMENT.try_acquire(self.image, units)
            if node is None:
                break
            lanes.append(self._new(node, units))
        if not lanes:
            lanes.append(self._new(PLACEMENT.acquire(self.image, units=units), units))
        return lanes

    def _new(self, node: str, units: int) -> Lane:
        with self._lock:
            self._made += 1
            number = self._made
        return Lane(node, self.run_id, self.image, self.time_limit_s, number, units)

    def give_back(self, lanes: list[Lane]) -> None:
        for lane in lanes:
            if lane.broken:
                lane.close()
            else:
                with self._lock:
                    self._idle.append(lane)

    def _reclaim_one(self) -> bool:
        with self._lock:
            if not self._idle:
                return False
            lane = self._idle.pop()
        lane.close()
        return True

    def discard(self) -> None:
        """Close the idle lanes (the evaluator saw a core die); the next evaluation starts new ones."""
        with self._lock:
            lanes, self._idle = self._idle, []
        _close_all(lanes)

    def close(self) -> None:
        PLACEMENT.reclaimable(None, self)
        self.discard()


def _close_all(lanes: list[Lane]) -> None:
    if lanes:  # each on its own node: all at once
        with ThreadPoolExecutor(len(lanes), thread_name_prefix="glia-lane-close") as closing:
            list(closing.map(Lane.close, lanes))


class SpreadSandboxes:
    """`EvaluationSandboxes` over several lanes on several nodes; each job thread keeps one lane."""

    def __init__(
        self, task: Any, folder: Path, *, workers: int, pool: LanePool | None = None, **options: Any
    ):
        from glia.evaluation.sandboxes import EvaluationSandboxes

        self._options = {"task": task, "folder": folder, **options}
        self.folder = folder
        self.wanted = max(1, workers)
        self.workers = self.wanted
        self._own_pool = pool is None
        self.pool = pool or LanePool(options["run_id"], options.get("image"), options["time_limit_s"])
        probe = EvaluationSandboxes(task, folder, workers=1, **options)
        self.isolation = probe.isolation
        self.units = units_for(probe.hosted)  # a built-in design's lane is its core alone: one slot
        self.lanes: list[Lane] = []
        self.members: list[Any] = []
        self._free: list[int] = []
        self._bound: dict[int, int] = {}  # job thread -> member index
        self._runs: list[int] = []
        self._lock = threading.Lock()

    def open(self) -> SpreadSandboxes:
        """Open a lane per wanted simulation slot; lanes whose node refused or died are dropped (their
        nodes left out) and the evaluation goes on with the others, or with new ones elsewhere."""
        from glia.evaluation.sandboxes import EvaluationSandboxes

        while True:
            lanes = self.pool.take(self.wanted, self.units)
            members = [EvaluationSandboxes(workers=1, pool=lane, **self._options) for lane in lanes]
            with ThreadPoolExecutor(len(members), thread_name_prefix="glia-lane-open") as opening:
                errors = list(opening.map(_open_quietly, members))
            opened = [i for i, error in enumerate(errors) if error is None]
            self.pool.give_back([lane for i, lane in enumerate(lanes) if i not in opened])
            if opened:
                break
            hard = [error for error in errors if not isinstance(error, NodeRefused | SandboxLost)]
            if hard:
                raise hard[0]
        self.lanes = [lanes[i] for i in opened]
        self.members = [members[i] for i in opened]
        self.workers = len(self.members)
        self._free, self._runs = list(range(len(self.members))), [0] * len(self.members)
        nodes = len({lane.node for lane in self.lanes})
        log.info("cluster.evaluation_spread", lanes=len(self.lanes), nodes=nodes)
        return self

    def close(self) -> None:
        self._write_nodes()
        self.pool.give_back(self.lanes)
        self.lanes, self.members = [], []
        if self._own_pool:
            self.pool.close()

    def __enter__(self) -> SpreadSandboxes:
        try:
            return self.open()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _mine(self) -> Any:
        """The member (lane) of the calling job thread, taken from the free ones on its first call."""
        thread = threading.get_ident()
        with self._lock:
            if thread not in self._bound:
                if not self._free:
                    raise WorkspaceError("more evaluation threads than lanes")  # the evaluator sizes them
                self._bound[thread] = self._free.pop()
            return self._bound[thread]

    def run(self, command: str, kill_after_s: float) -> Any:
        index = self._mine()
        with self._lock:
            self._runs[index] += 1
        return self.members[index].run(command, kill_after_s)

    def read(self, relpath: str, max_bytes: int) -> bytes:
        return self.members[self._mine()].read(relpath, max_bytes)

    def list_folder(self, relpath: str) -> list[str]:
        return self.members[self._mine()].list_folder(relpath)

    def remove(self, relpath: str) -> None:
        self.members[self._mine()].remove(relpath)

    def core_alive(self) -> bool:
        return bool(self.members) and all(member.core_alive() for member in self.members)

    def _write_nodes(self) -> None:
        """One row per lane; an evaluation run again (a lane's node died) adds its rows after the first
        attempt's, so the record shows both the lost lane and where the simulations were redone."""
        if not self.lanes:
            return
        path = self.folder / NODES_FILE
        earlier = _read_rows(path)
        attempt = 1 + max((row.get("attempt", 1) for row in earlier), default=0)
        rows = [
            {"attempt": attempt, "lane": lane.number, "node_id": lane.node, "ip": lane.where.get("ip"),
             "host": lane.where.get("host"), "slots": lane.units, "simulations": runs,
             "lost": lane.broken}
            for lane, runs in zip(self.lanes, self._runs, strict=False)
        ]  # fmt: skip
        try:
            write_json_atomic(path, earlier + rows)
        except OSError as exc:
            log.warning("cluster.nodes_file_failed", error=str(exc))


def _read_rows(path: Path) -> list[dict[str, Any]]:
    """The rows an earlier attempt of this evaluation wrote (this process wrote them: plain JSON)."""
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [row for row in rows if isinstance(row, dict)] if isinstance(rows, list) else []


def _open_quietly(member: Any) -> BaseException | None:
    try:
        member.open()
    except Exception as exc:  # noqa: BLE001 - sorted by SpreadSandboxes.open
        return exc
    return None


def runs_at_once(sandboxes_per_run: int) -> int:
    """How many runs the cluster holds at once (a comparison): each needs its contexts' sandboxes and
    room for one evaluation lane."""
    slots = sum(PLACEMENT.nodes().values())
    return max(1, slots // (max(1, sandboxes_per_run) + UNITS))
