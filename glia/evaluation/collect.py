"""Getting one simulation's result files out of the core sandbox in as few sandbox calls as possible.

Each call into a sandbox costs a `docker exec` (tens of milliseconds, more on a busy machine), and a
trusted evaluation makes twenty simulations. So the simulation command itself, run by the core's own
shell after the simulator has exited, does what used to be separate calls: it finds the run's one
result folder (the simulator names it by time), archives the files the judge reads in a folder whose
name the evaluator chose, and removes the rest. The host then reads that one archive, parses it as
hostile data within caps (`glia/workspace/tree.py`), and checks the files with `verify.py` exactly as
before. With a design host no design code runs in the core (a design only talks to the core's
simulator over the channel), so none takes part in these steps; without one the design runs inside the
core, could write its results anyway, and the evaluation says its isolation is the weaker kind.

The folder is one per evaluation thread (`slot`), emptied at the start of that thread's next
simulation, so at most one simulation's files per thread stay behind, and never across a restart.
When the run did not leave exactly one result folder with a summary, nothing is archived and the
evaluator falls back to listing the experiment's folder, so that its message says what was found.
"""

from __future__ import annotations

import re
import shlex
import threading
from collections.abc import Mapping, Sequence

from glia.workspace.base import WorkspaceFileError
from glia.workspace.tree import MODE_EXECUTABLE, MODE_FILE, TreeCaps, tree_from_tar_stream

COLLECT_ROOT = "trusted_collected"  # inside the core sandbox, beside simulation.py's OUTPUT_ROOT
ARCHIVE = "results.tar"  # in a collection folder: the run folder's wanted files, read in one call
ARCHIVE_OVERHEAD_BYTES = 64 * 2**10  # tar headers and padding around the files

# bash: the simulation command (in a subshell: an `exit` or `exec` in it ends only the subshell), then
# the collection: the wanted files of the single run folder, as a tar, and the experiment folder removed.
_SCRIPT = """rm -rf -- {collected}
(
{command}
)
glia_status=$?
shopt -s nullglob dotglob
glia_runs=({experiment}/*)
if [ "${{#glia_runs[@]}}" -eq 1 ] && [ -f "${{glia_runs[0]}}"/{first} ] && mkdir -p -- {collected}; then
  tar --create --format=gnu --file={collected}/{archive} --directory="${{glia_runs[0]}}" \\
      --ignore-failed-read -- {names} 2>/dev/null && rm -rf -- {experiment}
fi
exit "$glia_status"
"""


def slot() -> str:
    """The calling thread's collection folder name: its name, unique among one evaluation's threads and
    the same in the next evaluation's pool, so that leftovers never outnumber the threads."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", threading.current_thread().name).strip("-.") or "thread"


def collecting_command(command: str, experiment_dir: str, collected_dir: str, files: Sequence[str]) -> str:
    """`command`, then the experiment's single run folder's `files` (the first must be there) archived
    in `collected_dir` and the experiment folder removed; exits with the command's status."""
    return _SCRIPT.format(
        collected=shlex.quote(collected_dir),
        command=command,
        experiment=shlex.quote(experiment_dir),
        first=shlex.quote(files[0]),
        archive=ARCHIVE,
        names=" ".join(shlex.quote(name) for name in files),
    )


def archive_cap(limits: Mapping[str, int]) -> int:
    """The most bytes an archive of files within `limits` (name -> max bytes) can take."""
    return sum(limits.values()) + ARCHIVE_OVERHEAD_BYTES * (1 + len(limits))


def unpack(data: bytes, limits: Mapping[str, int]) -> dict[str, bytes]:
    """The regular files named in `limits` found in a collection archive (hostile bytes, parsed within
    caps); a file over its limit raises WorkspaceFileError as reading it alone would."""
    caps = TreeCaps(
        max_file_bytes=max(limits.values()) + 1,
        max_total_bytes=sum(limits.values()) + len(limits),
        max_entries=len(limits),
        max_members=4 * len(limits),
        max_stream_bytes=len(data) + 1,
        timeout_s=60.0,
    )
    tree = tree_from_tar_stream([data], caps, excludes=())
    found = {}
    for name, limit in limits.items():
        entry = tree.get(name)
        if entry is None or entry.mode not in (MODE_FILE, MODE_EXECUTABLE):
            continue
        if len(entry.data) > limit:
            raise WorkspaceFileError(f"{name}: bigger than {limit} bytes")
        found[name] = entry.data
    return found
