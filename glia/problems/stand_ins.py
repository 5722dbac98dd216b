"""Stand-ins that count a benchmark command of a simulator which reports no runs to Glia's ledger.

The file the task's `benchmark.command` runs is replaced, in Glia's copy of the simulator, by a stand-in
of the same name: it reports one simulation to the ledger (refused once the budget is spent), then runs
the author's file, kept unchanged beside it as `NAME.uncounted.EXT`, with the same arguments. So the
route the simulator's own README documents (`bash run.sh`, `./run_all.sh`, `python -m pkg.bench`,
`python run.py`) is the counted one. A command that names no file of the simulator (`make bench`, a
console script, a pipeline) gets a named command instead, `./glia_bench`, which counts and runs the
task's command unchanged; the command typed directly is then bounded by the sandbox's CPU time alone.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from pathlib import PurePosixPath

from glia.workspace.tree import MODE_EXECUTABLE, MODE_FILE, TreeEntry

COUNTER_PACKAGE = "glia_count_support"  # the ledger client and the counting code, shipped at the root
NAMED_COMMAND = "glia_bench"
PYTHON = re.compile(r"python(3(\.\d+)?)?")
SHELLS = ("sh", "bash", "dash")

PYTHON_SCRIPT = '''"""Glia's stand-in for {script}: this simulator reports no runs to Glia's ledger, so each run of
this command counts as one simulation of the budget. The simulator's own script, unchanged, is
{original}; this file runs it with the same arguments (see the README of Glia, adding a simulator)."""

import sys

from {package}.count import run_counted

sys.exit(run_counted({original!r}, {results_dir!r}))
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
    """The stand-in for `command` given the simulator's `files`; None if it cannot be counted."""
    try:
        argv = shlex.split(command)
    except ValueError:
        argv = []
    if argv and _names_a_file(argv):
        found = _file_stand_in(argv, files, results_dir)
        return StandIn(found, command, command) if found is not None else None  # absent: made at run time
    if NAMED_COMMAND in files:
        return None
    return StandIn({NAMED_COMMAND: _named_command(command, argv, results_dir)}, f"./{NAMED_COMMAND}",
                   f"./{NAMED_COMMAND}", named=True)  # fmt: skip


def _names_a_file(argv: list[str]) -> bool:
    """Whether the command runs a file or module by name (`python X.py`, `python -m M`, `sh X`, `./X`)."""
    launcher = PurePosixPath(argv[0]).name
    if PYTHON.fullmatch(launcher) and len(argv) >= 2:
        return argv[1] == "-m" or argv[1].endswith(".py")
    return (launcher in SHELLS and len(argv) >= 2 and not argv[1].startswith("-")) or "/" in argv[0]


def _file_stand_in(
    argv: list[str], files: dict[str, TreeEntry], results_dir: str
) -> dict[str, TreeEntry] | None:
    launcher = PurePosixPath(argv[0]).name
    if PYTHON.fullmatch(launcher) and len(argv) >= 3 and argv[1] == "-m":
        return _module(argv[2], files, results_dir)
    if PYTHON.fullmatch(launcher) and len(argv) >= 2 and argv[1].endswith(".py"):
        return _replace(files, _relative(argv[1]), results_dir, None, python=True)
    if launcher in SHELLS and len(argv) >= 2 and not argv[1].startswith("-"):
        return _replace(files, _relative(argv[1]), results_dir, argv[0])
    if "/" in argv[0]:
        path = _relative(argv[0])
        if path in files and files[path].mode == MODE_EXECUTABLE:
            return _replace(files, path, results_dir, None)
    return None


def _relative(word: str) -> str:
    return str(PurePosixPath(word.removeprefix("./")))


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
        text = PYTHON_SCRIPT.format(script=path, original=PurePosixPath(original).name, package=COUNTER_PACKAGE,
                                    results_dir=results_dir)  # fmt: skip
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


def _module(module: str, files: dict[str, TreeEntry], results_dir: str) -> dict[str, TreeEntry] | None:
    if not all(part.isidentifier() for part in module.split(".")):
        return None
    base = module.replace(".", "/")
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
