"""A context's repository: its history on the host (`ctx-K/history.git`) and the snapshots of the sandbox.

The tree is saved after every command that changed it (`autosave`), at every simulation start (the
ledger calls `snapshot_design`) and at the end (`save_final`); a resumed context's sandbox is rebuilt
from the last saved tree.
"""

from __future__ import annotations

import traceback
from pathlib import Path

import structlog

from glia.record.writer import EventWriter
from glia.task import Task
from glia.workspace.base import Workspace, WorkspaceDead, WorkspaceError
from glia.workspace.history import HISTORY_DIR, History
from glia.workspace.output import LOG_NAME
from glia.workspace.snapshots import Snapshotter
from glia.workspace.tree import DEFAULT_EXCLUDES, tree_from_folder


class ContextSandbox:
    """The history, the workspace once started, and the snapshots taken between them."""

    def __init__(self, ctx_dir: Path, task: Task, events: EventWriter, log: structlog.BoundLogger) -> None:
        self.task = task
        self.events = events
        self.log = log
        self.history_dir = ctx_dir / HISTORY_DIR
        self.outputs_dir = ctx_dir / "outputs"
        self.excludes = (*DEFAULT_EXCLUDES, task.results_dir)
        self.history: History | None = None
        self.workspace: Workspace | None = None
        self.snapshotter: Snapshotter | None = None
        self.final_sha: str | None = None
        self._reported_skips: set[str] = set()

    def open_history(self) -> History:
        """ctx-K/history.git: made from the task's template the first time (its first commit)."""
        if (self.history_dir / "HEAD").is_file() and History(self.history_dir).commits():
            self.history = History(self.history_dir)
            return self.history
        template = tree_from_folder(self.task.simulator, self.excludes)
        if not template.complete or template.skipped:
            raise WorkspaceError(
                f"the simulator template {self.task.simulator} cannot be carried into the sandbox: "
                + "; ".join(template.skipped[:5])
            )
        from glia.evaluation.judge_kit import with_judge_kit  # `python -m llmsim check` needs it

        self.history = History.open_or_create(self.history_dir, with_judge_kit(template, self.task))
        return self.history

    def attach(self, workspace: Workspace) -> None:
        """The workspace has started: fill it with the last saved tree (the template the first time)."""
        assert self.history is not None
        history = self.history
        self.workspace = workspace
        self.snapshotter = Snapshotter(workspace, history, self.excludes, always=self.task.design_files)
        self.snapshotter.restore(history.head())  # the template, or the last saved tree on resume
        if hasattr(workspace, "restore_with"):  # a cluster sandbox lost with its node: from history
            snapshotter = self.snapshotter
            workspace.restore_with(lambda: snapshotter.restore(history.head()))

    def next_output_log(self) -> Path:
        """The log the workspace will write the next command's output to (`outputs/cmd-<n>.log`): only
        the Researcher's commands are numbered there, one at a time per context."""
        try:
            numbers = [int(m.group(1)) for p in self.outputs_dir.iterdir() if (m := LOG_NAME.match(p.name))]
        except OSError:
            numbers = []
        return self.outputs_dir / f"cmd-{max(numbers, default=0) + 1}.log"

    def snapshot_design(self, message: str) -> str | None:
        """Save the working tree as it is when a simulation starts (the ledger calls this)."""
        if self.snapshotter is None:
            return None
        return self.snapshotter.save(message).sha

    def autosave(self, command: str) -> None:
        """Save the working tree to the history if the command changed it (WorkspaceDead propagates)."""
        if self.snapshotter is None:
            return
        try:
            saved = self.snapshotter.save(f"after: {one_line(command)}", only_if_changed=True)
        except WorkspaceDead:
            raise
        except Exception as exc:  # noqa: BLE001 - a failed save must not end the context
            self.events.error(f"saving the working tree failed: {exc}", reason="snapshot")
            return
        new = [line for line in saved.skipped if line not in self._reported_skips]
        if new:
            self._reported_skips.update(new)
            self.events.error("left out of the saved tree: " + "; ".join(new[:20]), reason="snapshot")

    def save_final(self) -> None:
        """The final snapshot: the live tree if the workspace still runs, else the last saved commit."""
        if self.history is None:
            return
        try:
            if self.snapshotter is not None and self.workspace is not None and self.workspace.is_alive():
                self.final_sha = self.snapshotter.save("final").sha
        except Exception as exc:  # noqa: BLE001 - the last saved commit stands in
            self.events.error(f"final snapshot failed: {traceback_summary(exc)}")
        if self.final_sha is None:
            try:
                self.final_sha = self.history.head()
            except Exception as exc:  # noqa: BLE001
                self.events.error(f"reading the history failed: {traceback_summary(exc)}")

    def close(self) -> None:
        if self.workspace is None:
            return
        try:
            self.workspace.close()
        except Exception as exc:  # noqa: BLE001 - closing is best effort; the registry is the backstop
            self.log.warning("workspace.close_failed", error=str(exc))


def one_line(command: str, limit: int = 120) -> str:
    """A command shortened to one line for a commit message."""
    line = " ".join(command.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def traceback_summary(exc: BaseException, frames: int = 4) -> str:
    """The exception and its innermost frames: enough to find the bug, short enough for run.json."""
    tb = traceback.extract_tb(exc.__traceback__)[-frames:]
    where = "; ".join(f"{Path(f.filename).name}:{f.lineno} in {f.name}" for f in tb)
    return f"{type(exc).__name__}: {exc} (at {where})" if where else f"{type(exc).__name__}: {exc}"
