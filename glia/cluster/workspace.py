"""`RayWorkspace`: the Workspace interface on the driver, its sandbox on a cluster node.

Every call goes to the context's `SandboxHost` actor (`glia.cluster.host`) and comes back as data: a
command's result and log (written here, into the run folder), a file's bytes, an export as a tar that
is parsed here as hostile input, exactly like a local export. The ledger socket the context listens on
is reached from the node through a relay (`glia.cluster.relay`).

When the node dies under a context, the next call notices (Ray reports the actor dead); if the context
asked for it (`restore_with`), a new sandbox is started on another node, the repository is restored
from the context's history, and the command in flight is answered with a note saying so, like a
resume. Runs it had started were charged at their start and are recorded as lost, never charged again.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import structlog

from glia.cluster.actors import actor_class
from glia.cluster.host import RESOURCE, NodeRefused, SandboxHost
from glia.cluster.placement import PLACEMENT
from glia.cluster.relay import DriverPump
from glia.workspace import registry
from glia.workspace.base import DEFAULT_LIMITS, ExecResult, Limits, WorkspaceDead, WorkspaceError
from glia.workspace.commands import resolve_timeout
from glia.workspace.containers import REPO_DIR
from glia.workspace.engine import DEFAULT_IMAGE
from glia.workspace.output import CommandLogs
from glia.workspace.tree import DEFAULT_CAPS, DEFAULT_EXCLUDES, Tree, TreeCaps, tree_from_tar_stream

log = structlog.get_logger(__name__)

MAX_REPLACEMENTS = 3  # a context whose sandbox keeps dying ends `workspace_dead`, as locally
CALL_MARGIN_S = 300.0  # on top of a command's own limit, before a silent node counts as lost
QUICK_CALL_S = 180.0  # writing, reading, exporting, starting (the image may be large on vfs)
REPLACED_NOTE = (
    "[Glia: the machine running your sandbox was lost while this command ran, so its outcome is "
    "unknown. Your sandbox was replaced by a new one on another machine, holding the repository as last "
    "saved (after your last command that changed files); processes, /tmp and whatever this command "
    "changed are gone. Simulations it had started are recorded as lost; they were charged once, at "
    "their start. Check the repository and run the command again if you need it.]"
)


class SandboxLost(WorkspaceDead):
    """The node (or the actor process) holding the sandbox is gone."""


class RayWorkspace:
    """A context's sandbox on a Ray node. Safe to use from several threads at once."""

    backend = "ray"
    workdir = REPO_DIR

    def __init__(
        self,
        outputs_dir: Path,
        run_id: str,
        context_id: str,
        image: str = DEFAULT_IMAGE,
        limits: Limits = DEFAULT_LIMITS,
        ledger_socket: Path | None = None,
    ) -> None:
        self.outputs_dir = outputs_dir
        self.run_id = run_id
        self.context_id = context_id
        self.image = image
        self.limits = limits
        self.ledger_socket = Path(ledger_socket) if ledger_socket is not None else None
        self.where: dict[str, Any] = {}
        self.replacements = 0
        self._logs = CommandLogs(outputs_dir)
        self._actor: Any = None
        self._node: str | None = None
        self._pump: DriverPump | None = None
        self._restore: Callable[[], None] | None = None
        self._swap = threading.RLock()  # one replacement at a time; restoring writes through it
        self._closed = False

    # lifecycle

    def start(self) -> None:
        if self._actor is not None:
            return
        from glia.cluster.connect import connected

        if not connected():
            raise WorkspaceError(
                "the ray workspace backend needs a cluster: pass --cluster ray://HOST:PORT or auto"
            )
        self._launch()
        registry.register(self)

    def restore_with(self, restore: Callable[[], None]) -> None:
        """Allow replacing a lost sandbox; `restore()` then refills the new one (from history)."""
        self._restore = restore

    def _launch(self) -> None:
        """Start the sandbox on the node with the most free slots; nodes that refuse are left out."""
        import ray
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        while True:
            node = PLACEMENT.acquire(self.image)
            actor = (
                actor_class(SandboxHost)
                .options(
                    num_cpus=0,
                    resources={RESOURCE: 1},
                    max_concurrency=16,  # a command, the ledger's snapshot and the relay at once
                    max_restarts=0,
                    scheduling_strategy=NodeAffinitySchedulingStrategy(node, soft=False),
                )
                .remote(self.run_id, self.context_id, self.image, self.limits, self.ledger_socket is not None)
            )
            try:
                where = ray.get(actor.start.remote(), timeout=QUICK_CALL_S)
            except Exception as exc:  # noqa: BLE001 - refused, died or timed out: try another node
                cause = ray_cause(exc)
                PLACEMENT.release(node)
                kill_actor(actor)
                if isinstance(cause, NodeRefused):
                    PLACEMENT.refuse(node, str(cause), self.image if cause.image_only else "*")
                    continue
                if is_lost(exc):
                    PLACEMENT.refuse(node, "the node died")
                    continue
                raise WorkspaceError(f"could not start a sandbox on the cluster: {cause}") from None
            self._actor, self._node = actor, node
            self.where = {**where, "replaced": self.replacements}
            if self.ledger_socket is not None:
                self._pump = DriverPump(self.ledger_socket, self._relay_call(actor), self.context_id)
            PLACEMENT.announce(self.run_id, self.context_id, self.where)
            return

    @staticmethod
    def _relay_call(actor: Any) -> Callable[..., Any]:
        import ray

        def call(method: str, *args: Any) -> Any:
            return ray.get(getattr(actor, method).remote(*args), timeout=60)

        return call

    def _replace(self, why: str) -> None:
        """The node is gone: a new sandbox elsewhere, refilled from history (or WorkspaceDead)."""
        with self._swap:
            if self._closed:
                raise WorkspaceDead(f"workspace {self.context_id} was closed")
            if self._restore is None or self.replacements >= MAX_REPLACEMENTS:
                raise WorkspaceDead(f"the sandbox of {self.context_id} was lost with its node: {why}")
            log.warning("cluster.sandbox_lost", context=self.context_id, node=self._node, why=why[:300])
            self._drop(lost=True)
            self.replacements += 1
            self._launch()
            self._restore()

    def _drop(self, lost: bool) -> None:
        """Forget the current actor: stop its relay (its runs end as lost), free its slot."""
        if self._pump is not None:
            self._pump.stop()
            self._pump = None
        if self._node is not None:
            PLACEMENT.release(self._node)
            if lost:
                PLACEMENT.refuse(self._node, "the node died during the run")
        if self._actor is not None and not lost:
            import ray

            try:
                ray.get(self._actor.close.remote(), timeout=QUICK_CALL_S)
            except Exception as exc:  # noqa: BLE001 - closing is best effort; containers self-destruct
                log.warning("cluster.close_failed", context=self.context_id, error=str(exc)[:300])
        kill_actor(self._actor)
        self._actor = self._node = None

    def close(self) -> None:
        with self._swap:
            if self._closed:
                return
            self._closed = True
            registry.unregister(self)
            self._drop(lost=False)

    def __enter__(self) -> RayWorkspace:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def is_alive(self) -> bool:
        if self._closed or self._actor is None:
            return False
        try:
            return bool(self._call("is_alive", timeout_s=60))
        except WorkspaceError:
            return False

    # calls

    def _call(self, method: str, *args: Any, timeout_s: float = QUICK_CALL_S) -> Any:
        if self._closed or self._actor is None:
            raise WorkspaceDead(f"workspace {self.context_id} is closed")
        return call_actor(self._actor, method, *args, timeout_s=timeout_s, node=self.where.get("ip"))

    def _with_replacement(self, method: str, *args: Any, timeout_s: float = QUICK_CALL_S) -> Any:
        """A file call: on a lost node, replace the sandbox and call again (once per replacement)."""
        while True:
            try:
                return self._call(method, *args, timeout_s=timeout_s)
            except SandboxLost as lost:
                self._replace(str(lost))

    def exec(
        self, command: str, timeout_s: float | None = None, env: Mapping[str, str] | None = None
    ) -> ExecResult:
        limit = resolve_timeout(timeout_s, self.limits)
        started = time.monotonic()
        try:
            answer = self._call("exec", command, timeout_s, dict(env or {}), timeout_s=limit + CALL_MARGIN_S)
        except SandboxLost as lost:
            self._replace(str(lost))
            return ExecResult(command, None, False, time.monotonic() - started, REPLACED_NOTE, None, False, 0)
        if self._pump is not None:
            self._pump.flush()  # the runs' `end` lines reach the ledger before the command's result
        return exec_result(answer, self._logs)

    def write_files(self, tree: Tree, *, replace: bool = False) -> None:
        self._with_replacement("write_files", tree, replace)

    def export_tree(self, excludes: Sequence[str] = DEFAULT_EXCLUDES, caps: TreeCaps = DEFAULT_CAPS) -> Tree:
        answer = self._with_replacement("export_tree", tuple(excludes), caps, timeout_s=caps.timeout_s + 60)
        tree = tree_from_tar_stream([answer["tar"]], caps, excludes)  # the node is not trusted with parsing
        return tree.with_skipped(answer["skipped"], complete=tree.complete and bool(answer["complete"]))

    def read_file(self, relpath: str, max_bytes: int) -> bytes:
        data = self._with_replacement("read_file", relpath, max_bytes)
        if not isinstance(data, bytes) or len(data) > max_bytes:
            raise WorkspaceError(f"{relpath}: the node sent more than {max_bytes} bytes")
        return data


def call_actor(actor: Any, method: str, *args: Any, timeout_s: float, node: Any) -> Any:
    """`actor.method(*args)` on its node: the actor's own exception as itself, a lost or silent node as
    SandboxLost."""
    import ray

    try:
        return ray.get(getattr(actor, method).remote(*args), timeout=timeout_s)
    except Exception as exc:  # noqa: BLE001 - sorted below
        if is_lost(exc):
            raise SandboxLost(f"the node {node} holding the sandbox is gone: {exc}") from None
        cause = ray_cause(exc)
        if isinstance(cause, Exception) and cause is not exc:
            raise cause from None
        if isinstance(exc, ray.exceptions.GetTimeoutError):
            raise SandboxLost(f"the node {node} did not answer within {timeout_s:g} s") from None
        raise


def exec_result(answer: Mapping[str, Any], logs: CommandLogs) -> ExecResult:
    """A node's `exec_as_data` answer as the driver's ExecResult, its log written into the run folder."""
    fields = dict(answer["result"])
    path = logs.next_path()
    path.write_bytes(answer["log"])
    node_path = fields.pop("output_path")
    if node_path:
        fields["output"] = fields["output"].replace(node_path, str(path))
    return ExecResult(**{**fields, "output_path": path})


def is_lost(exc: BaseException) -> bool:
    import ray.exceptions as rex

    return isinstance(
        exc, rex.RayActorError | rex.NodeDiedError | rex.ObjectLostError | rex.WorkerCrashedError
    )


def ray_cause(exc: BaseException) -> BaseException:
    """The exception the actor raised, when `exc` is Ray's wrapper of one."""
    import ray.exceptions as rex

    if isinstance(exc, rex.RayTaskError) and getattr(exc, "cause", None) is not None:
        return exc.cause
    return exc


def kill_actor(actor: Any) -> None:
    if actor is None:
        return
    import ray

    with contextlib.suppress(Exception):  # already gone
        ray.kill(actor, no_restart=True)
