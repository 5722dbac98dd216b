"""The sandboxes of one trusted evaluation: the core, and the design's own.

```
 host (trusted)                 core sandbox C (trusted code only)        design sandbox D (untrusted)
 ─────────────                  ───────────────────────────────           ────────────────────────────
 evaluator ──exec(command, ───► pristine simulator, the workload ◄──────► design file(s) + the simulator's
   secret seeds)                and its seeds, the metrics          │    Python sources; no workload,
 verify ◄──read_file── summary.json, per-request records            │    no seeds, no results
                                                                    │
                             one unix socket per simulation, on a small tmpfs volume shared by C and D
```

C never runs design code: its design files are the template's. The simulator in C loads the design
through the socket (`GLIA_DESIGN_ENDPOINT`), sends it public state, gets decisions, checks them. D runs
the task's design host (`design.host`, given `--listen PATH`), one process per simulation, so no state
survives from one simulation to the next. Results are read from C only. A baseline built into the
simulator runs in C alone; a task whose simulator has no design host runs the design inside C and
every such evaluation says so (`isolation: none`).
"""

from __future__ import annotations

import shlex
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import structlog

from glia.task import Task
from glia.task_kinds import kind_of
from glia.workspace import create_workspace
from glia.workspace.base import ExecResult, Limits, Workspace, WorkspaceError
from glia.workspace.sandbox_scripts import COMPILE_COMMAND
from glia.workspace.tree import MODE_FILE, Tree, TreeEntry, tree_from_folder

log = structlog.get_logger(__name__)

CHANNEL_DIR = "/glia/channel"
LIB_DIR = ".glia/lib"  # inside each sandbox's repository: where glia_isolation is put
ENDPOINT_ENV = "GLIA_DESIGN_ENDPOINT"
CPU_LIMIT_ENV = "GLIA_DESIGN_CPU_LIMIT"  # the design process's CPU seconds (llmsim/design_host.py)
ISOLATION_PACKAGE = Path(__file__).resolve().parents[1] / "isolation"
TEMPLATE_EXCLUDES = (".git", "__pycache__", "*.pyc", ".pytest_cache", ".ruff_cache")
# Each sandbox's sources are byte-compiled once, after they are written (COMPILE_COMMAND), so that its
# simulations do not compile them again every time. Safe in the core: only the host (the template,
# glia_isolation) and the core's own trusted processes write its files; no design code runs there and
# nothing crosses from the design's sandbox but socket messages, so no .pyc there can be the design's.
# In the design's sandbox the design may rewrite any file anyway; what it holds is only loaded there.


@dataclass(frozen=True)
class JobOutcome:
    """What the sandboxes did for one simulation (the core's result is what counts)."""

    core: ExecResult
    design: ExecResult | None
    design_note: str | None  # why the design's process ended, when it did not end by itself


def isolation_tree() -> dict[str, TreeEntry]:
    """The `glia_isolation` package as files under LIB_DIR (both sandboxes import it)."""
    files = {}
    for path in sorted(ISOLATION_PACKAGE.glob("*.py")):
        files[f"{LIB_DIR}/glia_isolation/{path.name}"] = TreeEntry(MODE_FILE, path.read_bytes())
    return files


def template_tree(task: Task, results_dir: str | None = None) -> Tree:
    excludes = (*TEMPLATE_EXCLUDES, *((results_dir,) if results_dir else ()))
    return tree_from_folder(task.simulator, excludes=excludes)


def design_entries(files: Mapping[str, str]) -> dict[str, TreeEntry]:
    return {relpath: TreeEntry(MODE_FILE, text.encode("utf-8")) for relpath, text in files.items()}


class EvaluationSandboxes:
    """Opens C (and D when a design is hosted apart), runs simulations in them, closes them."""

    def __init__(
        self,
        task: Task,
        folder: Path,
        *,
        run_id: str,
        label: str,
        image: str | None,
        workers: int,
        design_files: Mapping[str, str] | None,
        time_limit_s: float,
        cpu_limit_s: float = 0.0,
        backend: str = "docker",
        pool: SandboxPool | None = None,
    ) -> None:
        self.task = task
        self.folder = folder
        self.run_id = run_id
        self.label = label
        self.image = image
        self.workers = workers
        self.design_files = dict(design_files) if design_files is not None else None
        self.hosted = self.design_files is not None and task.design.host is not None
        self.time_limit_s = time_limit_s
        self.cpu_limit_s = cpu_limit_s  # the design process's own CPU-time limit (0: none)
        self.backend = backend
        self.pool = pool
        self.core: Workspace | None = None
        self.design: Workspace | None = None
        self._volume = None
        self._client = None

    @property
    def isolation(self) -> str:
        if self.design_files is None:
            return "builtin"
        return "sandbox" if self.hosted else "none"

    # -- lifecycle ------------------------------------------------------------------------------------

    def open(self) -> EvaluationSandboxes:
        template = template_tree(self.task, self.task.results_dir)
        lib = isolation_tree()
        core_files = dict(template)
        kind = kind_of(self.task)
        if not kind.core_holds_design:  # e.g. a problem's program: not even its initial version
            core_files = {p: e for p, e in core_files.items() if p not in self.task.design_files}
        if self.design_files is not None and not self.hosted:
            core_files.update(design_entries(self.design_files))  # no design host: the weak mode
        if self.pool is not None:
            self.core, self.design = self.pool.acquire(self.folder, self.hosted)
        else:
            mounts = [self._channel_mount()] if self.hosted else []
            self.core = self._workspace("core", mounts)
            self.core.start()
            if self.hosted:
                self.design = self._workspace("design", mounts)
                self.design.start()
        self.core.write_files(Tree({**core_files, **lib}))
        if self.hosted:
            assert self.design_files is not None and self.design is not None
            sources = kind.design_sandbox_sources(template, self.design_files)
            self.design.write_files(Tree({**sources, **design_entries(self.design_files), **lib}))
        self._compile()
        return self

    def close(self) -> None:
        if self.pool is not None:
            return  # the pool's sandboxes outlive one evaluation; the next one restarts them
        _close_all(self.design, self.core)
        _remove_volume(self._volume)
        if self._client is not None:
            self._client.close()

    def __enter__(self) -> EvaluationSandboxes:
        try:
            return self.open()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- one simulation -------------------------------------------------------------------------------

    def run(self, command: str, kill_after_s: float) -> JobOutcome:
        """Run one simulation command in C, with the design served from D for its duration."""
        assert self.core is not None
        env = {"PYTHONPATH": f"{self.core.workdir}/{LIB_DIR}"}
        if not self.hosted:
            return JobOutcome(self.core.exec(command, timeout_s=kill_after_s, env=env), None, None)
        assert self.design is not None and self.task.design.host is not None
        token = uuid.uuid4().hex
        socket_path = f"{CHANNEL_DIR}/{token}.sock"
        host_command = (
            f"{self.task.design.host} --listen {shlex.quote(socket_path)} --accept-timeout {kill_after_s:g}"
        )
        design_result: list[ExecResult | BaseException] = []

        def serve() -> None:
            try:
                design_result.append(
                    self.design.exec(  # type: ignore[union-attr]
                        host_command,
                        timeout_s=kill_after_s + 30,
                        env={
                            "PYTHONPATH": f"{self.design.workdir}/{LIB_DIR}",  # type: ignore[union-attr]
                            CPU_LIMIT_ENV: f"{self.cpu_limit_s:g}",
                        },
                    )
                )
            except BaseException as exc:  # noqa: BLE001 - reported below, with the core's outcome
                design_result.append(exc)

        thread = threading.Thread(target=serve, name=f"glia-design-{token[:6]}", daemon=True)
        thread.start()
        core_result = self.core.exec(command, timeout_s=kill_after_s, env={**env, ENDPOINT_ENV: socket_path})
        note = None
        thread.join(5.0)
        if thread.is_alive():  # the core is done; a design process still running is stopped
            note = "the design's process was still running when the simulation ended, and was stopped"
            try:
                self.design.exec(f"pkill -KILL -f {token} || true", timeout_s=30)
            except WorkspaceError as exc:
                note += f" (stopping it failed: {exc})"
            thread.join(35.0)
        outcome = design_result[0] if design_result else None
        if isinstance(outcome, BaseException):
            note = f"the design's sandbox failed: {type(outcome).__name__}: {outcome}"
            outcome = None
        return JobOutcome(core_result, outcome, note)

    def core_alive(self) -> bool:
        """Whether C still runs. Nothing a design does reaches C, so a dead C is never the design's doing."""
        try:
            return self.core is not None and self.core.is_alive()
        except Exception:  # noqa: BLE001 - an engine that cannot answer has lost the container too
            return False

    def read(self, relpath: str, max_bytes: int) -> bytes:
        assert self.core is not None
        return self.core.read_file(relpath, max_bytes)

    def list_folder(self, relpath: str) -> list[str]:
        """Names in a folder of C (trusted: C runs no design code)."""
        assert self.core is not None
        result = self.core.exec(f"ls -1A -- {shlex.quote(relpath)}", timeout_s=60)
        if result.exit_code != 0:
            return []
        return [line for line in result.output.splitlines() if line.strip()]

    def remove(self, relpath: str) -> None:
        assert self.core is not None
        self.core.exec(f"rm -rf -- {shlex.quote(relpath)}", timeout_s=60)

    # -- internals ------------------------------------------------------------------------------------

    def _compile(self) -> None:
        """COMPILE_COMMAND in both sandboxes at once (a failure only costs speed)."""
        sandboxes = [s for s in (self.core, self.design if self.hosted else None) if s is not None]
        threads = [threading.Thread(target=_compile_in, args=(s,), daemon=True) for s in sandboxes]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def _workspace(self, role: str, mounts: list) -> Workspace:
        return _make_workspace(self.folder, role, mounts, self.run_id, self.workers, self.image, self.backend,
                               self.time_limit_s)  # fmt: skip

    def _channel_mount(self):
        self._client, self._volume, mount = _channel_volume(self.run_id, self.label)
        return mount


class SandboxPool:
    """A core and a design sandbox kept for many evaluations and restarted between them.

    A restart kills every process and empties every tmpfs, so what one design left behind (background
    processes, files, sockets) is gone before the next evaluation starts; the channel volume, which a
    restart keeps, is emptied from the core after both restarts. Creating containers is the slow part
    where the storage driver copies the image for each one (vfs), so a long-lived evaluator (a run, a
    bench) reuses them.
    """

    def __init__(
        self, run_id: str, image: str | None, workers: int, time_limit_s: float, backend: str
    ) -> None:
        self.run_id, self.image, self.workers = run_id, image, workers
        self.time_limit_s, self.backend = time_limit_s, backend
        self.core: Workspace | None = None
        self.design: Workspace | None = None
        self._client = None
        self._volume = None
        self._mount = None
        self._used = False
        self._lock = threading.Lock()

    def acquire(self, folder: Path, hosted: bool) -> tuple[Workspace, Workspace | None]:
        """The sandboxes, fresh, logging under `folder`; the design sandbox only when `hosted`.

        Sandboxes that cannot be restarted (removed by someone, their lifetime over, the engine
        restarted) are replaced by new ones: an engine hiccup must never read as a bad design."""
        with self._lock:
            if self.core is not None and self._used:
                try:
                    self._restart()
                except WorkspaceError as err:
                    log.warning("evaluation sandboxes did not restart; starting new ones", error=str(err))
                    self._discard()
            if self.core is None:
                self._client, self._volume, self._mount = _channel_volume(self.run_id, "pool")
                self.core = _make_workspace(folder, "core", [self._mount], self.run_id, self.workers,
                                            self.image, self.backend, self.time_limit_s)  # fmt: skip
                self.core.start()
            if hosted and self.design is None:
                self.design = _make_workspace(folder, "design", [self._mount], self.run_id, self.workers,
                                              self.image, self.backend, self.time_limit_s)  # fmt: skip
                self.design.start()
            self._used = True
            self.core.log_to(folder / "outputs" / "core")
            if self.design is not None:
                self.design.log_to(folder / "outputs" / "design")
            return self.core, self.design if hosted else None

    def _restart(self) -> None:
        assert self.core is not None
        if self.design is not None:
            self.design.restart()  # first: nothing of the last design may run while we clean up
        self.core.restart()
        done = self.core.exec(f"find {CHANNEL_DIR} -mindepth 1 -delete", timeout_s=60)
        if done.exit_code != 0:
            raise WorkspaceError(f"could not empty the channel volume: {done.output[-300:]}")

    def _discard(self) -> None:
        _close_all(self.design, self.core)
        _remove_volume(self._volume)
        if self._client is not None:
            self._client.close()
        self.core = self.design = self._volume = self._client = None
        self._used = False

    def discard(self) -> None:
        """Drop the sandboxes (they misbehaved); the next `acquire` starts new ones."""
        with self._lock:
            self._discard()

    def close(self) -> None:
        self.discard()


def _make_workspace(
    folder: Path,
    role: str,
    mounts: list,
    run_id: str,
    workers: int,
    image: str | None,
    backend: str,
    time_limit_s: float,
) -> Workspace:
    limits = Limits(
        cpus=float(workers),
        pids=256 * workers,
        memory=f"{max(2, workers)}g",
        default_timeout_s=time_limit_s,
        max_timeout_s=max(time_limit_s * 2 + 60, 600.0),
        lifetime_s=6 * 3600.0,
    )
    options = {"image": image} if image else {}
    return create_workspace(
        backend,
        outputs_dir=folder / "outputs" / role,
        run_id=run_id,
        context_id=f"eval-{role}-{uuid.uuid4().hex[:8]}",
        limits=limits,
        mounts=mounts,
        **options,
    )


def _channel_volume(run_id: str, label: str):
    """A tmpfs docker volume holding the sockets between C and D: (client, volume, mount)."""
    import docker.types

    from glia.workspace.containers import labels, sandbox_ids
    from glia.workspace.engine import docker_client

    uid, gid = sandbox_ids()
    client = docker_client()
    volume = client.volumes.create(
        name=f"glia-channel-{uuid.uuid4().hex[:12]}",
        driver="local",
        driver_opts={"type": "tmpfs", "device": "tmpfs", "o": f"size=4m,mode=0700,uid={uid},gid={gid}"},
        labels=labels(run_id, f"eval-channel-{label}"[:60]),
    )
    return client, volume, docker.types.Mount(CHANNEL_DIR, volume.name, type="volume")


def _compile_in(workspace: Workspace) -> None:
    try:
        workspace.exec(COMPILE_COMMAND, timeout_s=120)
    except Exception as exc:  # noqa: BLE001 - only costs speed; the simulations say what is wrong
        log.warning("evaluation.compile_failed", error=str(exc)[:300])


def _close_all(*workspaces: Workspace | None) -> None:
    for workspace in workspaces:
        if workspace is not None:
            try:
                workspace.close()
            except Exception as exc:  # noqa: BLE001 - closing is best effort; cleanup is the backstop
                log.warning("evaluation.sandbox_close_failed", error=str(exc))


def _remove_volume(volume, attempts: int = 20) -> None:
    """Remove the channel volume; a container still being auto-removed holds it for a moment."""
    if volume is None:
        return
    for attempt in range(attempts):
        try:
            volume.remove(force=True)
            return
        except Exception as exc:  # noqa: BLE001 - best effort; `glia cleanup` is the backstop
            if "in use" in str(exc) and attempt + 1 < attempts:
                time.sleep(0.5)
                continue
            log.warning("evaluation.volume_remove_failed", error=str(exc))
            return
