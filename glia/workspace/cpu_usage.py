"""How much CPU time a workspace container has used, from the kernel's accounting of its cgroup.

Nothing inside the sandbox can change this figure: every process a command starts runs in the
container's cgroup, the sandbox cannot leave it (no capabilities, read-only /sys), and the kernel keeps
the count. It is read on the host: from the cgroup's own file when the engine runs on this machine (a
file read, microseconds), else from the engine's stats API (a remote engine, a few milliseconds).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import docker.errors
import structlog

log = structlog.get_logger(__name__)

CGROUP_ROOT = Path("/sys/fs/cgroup")


class CpuUsage:
    """`seconds()`: CPU-seconds used by the container since it started; never decreases.

    A counter that goes back (the container was restarted, so its cgroup is new) is carried on from the
    last value seen, so what was used before the restart stays used.
    """

    def __init__(self, api: Any, container_id: str, cgroup_root: Path = CGROUP_ROOT) -> None:
        self.api = api
        self.container_id = container_id
        self.cgroup_root = cgroup_root
        self._lock = threading.Lock()
        self._file: Path | None = None
        self._offset = 0.0
        self._last = 0.0
        self._resolved = False

    @property
    def source(self) -> str:
        """Where the figure comes from: a cgroup file's path, or "docker stats"."""
        self._resolve()
        return str(self._file) if self._file is not None else "docker stats"

    def seconds(self) -> float | None:
        """The CPU time used so far, or None when neither the cgroup nor the engine answers."""
        with self._lock:
            raw = self._read()
            if raw is None:
                return None
            if raw + 1e-9 < self._last - self._offset:  # a new cgroup: carry the old total on
                self._offset = self._last
            self._last = self._offset + raw
            return self._last

    def reset_source(self) -> None:
        """Look the cgroup up again (after a restart the container's process and cgroup are new)."""
        with self._lock:
            self._resolved = False
            self._file = None

    # -- internals

    def _read(self) -> float | None:
        self._resolve()
        if self._file is not None:
            try:
                return _parse_cgroup_file(self._file)
            except (OSError, ValueError):
                self._file = None  # the engine moved it: from now on ask the engine
        return self._from_stats()

    def _resolve(self) -> None:
        if self._resolved:
            return
        self._resolved = True
        self._file = self._find_file()
        log.debug("cpu_usage_source", container=self.container_id[:12], source=str(self._file or "stats"))

    def _find_file(self) -> Path | None:
        """The container's cpu accounting file on this machine, found from its init process's cgroup."""
        try:
            pid = int(self.api.inspect_container(self.container_id)["State"]["Pid"])
            lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
        except (OSError, ValueError, KeyError, TypeError, docker.errors.APIError):
            return None
        for line in lines:
            _, controllers, path = (line.split(":", 2) + ["", ""])[:3]
            names = controllers.split(",")
            relative = path.lstrip("/")
            if controllers == "":  # cgroup v2: one hierarchy
                candidate = self.cgroup_root / relative / "cpu.stat"
            elif "cpuacct" in names:
                candidate = self.cgroup_root / controllers / relative / "cpuacct.usage"
                if not candidate.exists():
                    candidate = self.cgroup_root / "cpuacct" / relative / "cpuacct.usage"
            else:
                continue
            if self.container_id in str(candidate) and candidate.is_file():
                try:
                    _parse_cgroup_file(candidate)
                except (OSError, ValueError):
                    continue
                return candidate
        return None

    def _from_stats(self) -> float | None:
        try:
            stats = self.api.stats(self.container_id, stream=False, one_shot=True)
            return float(stats["cpu_stats"]["cpu_usage"]["total_usage"]) / 1e9
        except (docker.errors.APIError, KeyError, TypeError, ValueError, OSError):
            return None


def _parse_cgroup_file(path: Path) -> float:
    """Seconds from `cpuacct.usage` (v1, nanoseconds) or the `usage_usec` line of `cpu.stat` (v2)."""
    text = path.read_text()
    if path.name == "cpuacct.usage":
        return int(text.strip()) / 1e9
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if key == "usage_usec":
            return int(value) / 1e6
    raise ValueError(f"{path} has no usage_usec line")
