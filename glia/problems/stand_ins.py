"""Stand-ins that count a benchmark command of a simulator which reports no runs to Glia's ledger.

The file the task's `benchmark.command` runs is replaced, in Glia's copy of the simulator, by a stand-in
of the same name: it reports one simulation to the ledger (refused once the budget is spent), then runs
the author's file, kept unchanged beside it as `NAME.uncounted.EXT`, with the same arguments. So the
route the simulator's own README documents (`bash run.sh`, `./run_all.sh`, `python -m pkg.bench`,
`timeout 60 python3 run.py`, `cd tools && python bench.py`; `glia.problems.launch` reads the wrapping)
is the counted one. A command whose file is not certain (`make bench`, a console script, `python -c`,
a script that is a link or made at run time) gets a named command instead, `./glia_bench`, which counts
and runs the task's command unchanged; the command typed directly is then bounded by the sandbox's CPU
time alone.
"""

from __future__ import annotations

import json
import posixpath
import shlex
from dataclasses import dataclass
from pathlib import PurePosixPath

from glia.problems.launch import Launch, launched
from glia.workspace.tree import MODE_EXECUTABLE, MODE_FILE, TreeEntry

COUNTER_PACKAGE = "glia_count_support"  # the ledger client and the counting code, shipped at the root
NAMED_COMMAND = "glia_bench"

PYTHON_SCRIPT = '''"""Glia's stand-in for {script}: this simulator reports no runs to Glia's ledger, so each run of
this command counts as one simulation of the budget. The simulator's own script, unchanged, is
{original}; this file runs it with the same arguments (see the README of Glia, adding a simulator)."""

import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.normpath(os.path.join(_here, {up!r})))
try:
    from {package}.count import run_counted
finally:
    del sys.path[0]
sys.exit(run_counted(os.path.join(_here, {original!r}), {results_dir!r}))
'''

PYTHON_MODULE = '''"""Glia's stand-in for {path}: this simulator reports no runs to Glia's ledger, so each
`python -m {module}` counts as one simulation of the budget (refused once it is spent), then runs the
module's own source, unchanged, kept beside this file as {original}. Imported, this file is that module
as its author wrote it (see the README of Glia, adding a simulator)."""


def _glia_stand_in(namespace):
    import os
    import sys

    here = os.path.dirname(os.path.abspath(namespace["__file__"]))
    original = os.path.join(here, {original!r})
    del namespace["_glia_stand_in"]
    if namespace["__name__"] != "__main__":
        with open(original, encoding="utf-8") as source:
            exec(compile(source.read(), original, "exec"), namespace)
        return
    sys.path.insert(0, os.path.normpath(os.path.join(here, {up!r})))
    try:
        from {package}.count import run_module_counted
    finally:
        del sys.path[0]
    raise SystemExit(run_module_counted(original, namespace, {results_dir!r}))


_glia_stand_in(globals())
'''

SHELL = """#!/bin/sh
# {what}: this simulator reports no runs to Glia's ledger, so each run
# counts as one simulation of the budget (refused once it is spent). {how}
# (See the README of Glia, adding a simulator.)
here=$(dirname -- "$0")
if command -v python3 >/dev/null 2>&1; then glia_python=python3; else glia_python=python; fi
{cd}exec "$glia_python" "$here/{up}{package}" {spec} {command} "$@"
"""

COUNTER_MAIN = '''"""`python glia_count_support SPEC COMMAND...`: run COMMAND as one counted simulation (Glia)."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from glia_count_support.count import run_command_counted  # noqa: E402

sys.exit(run_command_counted(json.loads(sys.argv[1]), sys.argv[2:]))
'''


@dataclass(frozen=True)
class StandIn:
    """How one benchmark command is counted: the files set in Glia's copy, the command to run."""

    files: dict[str, TreeEntry]  # path -> content, over the simulator's own files
    command: str  # the task's benchmark command, or the named command that counts it
    counted: str  # the command that counts, as the Researcher's brief names it
    named: bool = False  # the command is Glia's named command, not the task's own


def stand_in(command: str, files: dict[str, TreeEntry], results_dir: str) -> StandIn | None:
    """The stand-in for `command` given the simulator's `files`; None only when Glia's own names are
    taken by files of the simulator (then only the sandbox's CPU time bounds it)."""
    launch = launched(command)
    found = _file_stand_in(launch, files, results_dir) if launch is not None else None
    if found is not None:
        return StandIn(found, command, command)
    if NAMED_COMMAND in files:
        return None
    try:
        argv = shlex.split(command)
    except ValueError:
        argv = []
    return StandIn({NAMED_COMMAND: _named_command(command, argv, results_dir)}, f"./{NAMED_COMMAND}",
                   f"./{NAMED_COMMAND}", named=True)  # fmt: skip


def _file_stand_in(
    launch: Launch, files: dict[str, TreeEntry], results_dir: str
) -> dict[str, TreeEntry] | None:
    """Glia's copy of the file `launch` runs and the author's file beside it; None when that file is not
    a plain file of the simulator (made at run time, a link, a name already taken)."""
    if launch.kind == "module":
        return _module(launch.target, launch.folder, files, results_dir)
    if launch.kind == "python":
        return _replace(files, launch.target, results_dir, None, python=True)
    if launch.kind == "shell":
        return _replace(files, launch.target, results_dir, launch.runner)
    entry = files.get(launch.target)
    if entry is not None and entry.mode == MODE_EXECUTABLE:
        return _replace(files, launch.target, results_dir, None)
    return None


def _original(path: str) -> str:
    pure = PurePosixPath(path)
    return str(pure.with_name(f"{pure.stem}.uncounted{pure.suffix}"))


def _up(path: str) -> str:
    return "../" * (len(PurePosixPath(path).parts) - 1)


def _replace(
    files: dict[str, TreeEntry], path: str, results_dir: str, runner: str | None, python: bool = False
) -> dict[str, TreeEntry] | None:
    entry = files.get(path)
    if entry is None or entry.is_symlink or path.startswith("../") or _original(path) in files:
        return None  # made at run time, outside the simulator, or the name is taken: not counted
    original = _original(path)
    if python:
        text = PYTHON_SCRIPT.format(script=path, original=PurePosixPath(original).name, up=_up(path),
                                    package=COUNTER_PACKAGE, results_dir=results_dir)  # fmt: skip
        return {original: entry, path: TreeEntry(MODE_EXECUTABLE, text.encode())}
    spec = json.dumps({"results_dir": results_dir, "skip": 2 if runner else 1})
    name = PurePosixPath(original).name
    text = SHELL.format(
        what=f"Glia's stand-in for {path}",
        how=f"The simulator's own script, unchanged, is {name}: this runs it with the same arguments.",
        cd="",
        up=_up(path),
        package=COUNTER_PACKAGE,
        spec=shlex.quote(spec),
        command=" ".join([*([shlex.quote(runner)] if runner else []), f'"$here/{name}"']),
    )
    return {original: entry, path: TreeEntry(entry.mode, text.encode())}


def _module(
    module: str, folder: str, files: dict[str, TreeEntry], results_dir: str
) -> dict[str, TreeEntry] | None:
    base = posixpath.join(folder, module.replace(".", "/"))
    path = next((p for p in (f"{base}.py", f"{base}/__main__.py") if p in files), None)
    if path is None or files[path].is_symlink or _original(path) in files:
        return None
    original = _original(path)
    text = PYTHON_MODULE.format(path=path, module=module, original=PurePosixPath(original).name, up=_up(path),
                                package=COUNTER_PACKAGE, results_dir=results_dir)  # fmt: skip
    return {original: files[path], path: TreeEntry(MODE_FILE, text.encode())}


def _named_command(command: str, argv: list[str], results_dir: str) -> TreeEntry:
    spec = json.dumps({"results_dir": results_dir, "fixed": argv, "skip": 4})
    text = SHELL.format(
        what=f"Glia's named benchmark command for `{command}`".replace("\n", " "),
        how="It runs that command, unchanged, from this folder, with any arguments appended.",
        cd='cd "$here" || exit 1\nhere=.\n',
        up="",
        package=COUNTER_PACKAGE,
        spec=shlex.quote(spec),
        command=f"sh -c {shlex.quote(command + ' ' + chr(34) + '$@' + chr(34))} sh",
    )
    return TreeEntry(MODE_EXECUTABLE, text.encode())
