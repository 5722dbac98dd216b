"""What a benchmark command launches: the file or module of the simulator that runs, found under the
shell's wrapping, so the counting fallback can stand in for it (`glia.problems.stand_ins`).

A README documents commands the way people type them: `VAR=x python run.py`, `env VAR=x python3 run.py`,
`/usr/bin/env python run.py`, `timeout 60 python3.12 -u run.py`, `nice -n 5 bash run.sh`, `cd sub &&
python x.py`. Each word that only changes how the program runs (an assignment, `env`, `timeout`, `nice`,
`nohup`, `time`, `stdbuf`, `ionice`, `taskset`, `exec`, `command`) is peeled off, with its own options,
and a leading `cd DIR &&` moves the folder the path is read from. What is left is recognised only when it
is certain: `python [options] FILE`, `python [options] -m MODULE`, `sh|bash|dash [options] FILE` or
`PATH/FILE`. Anything else (an unknown option, `$(...)`, `python -c`, `env -S`) is not guessed at: the
caller then counts the whole command by its named command (`./glia_bench`).
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass

PYTHON = re.compile(r"python(3(\.\d+)?)?")
SHELLS = ("sh", "bash", "dash")
ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=.*", re.DOTALL)
OPERATORS = {"&&", "||", ";", "|", "&", "(", ")", ";;", "|&", "\n"}
SHELL_SIGNS = ("$(", "`", "<(")  # a substitution could run anything: not guessed at
EXPANDED = set("$*?[]{}~\\")  # a path with these is expanded by the shell: not the word as written
# Python's options that take no value, any of which can be combined (`-uB`), and those that take one.
PYTHON_FLAGS = set("bBdEhiIOPqRsSuvx")
PYTHON_VALUED = set("WX")
SHELL_FLAGS = set("aefhknuvxC")


@dataclass(frozen=True)
class Launch:
    """The file or module a command runs, as a path from the simulator's root."""

    kind: str  # "python" (a script), "module" (`python -m`), "shell" (`sh FILE`), "executable" (`./FILE`)
    target: str  # the script's path from the root, or the module's dotted name
    folder: str  # the folder the command runs in, from the root ("" for the root itself)
    runner: str | None = None  # the shell word for "shell": `bash`, `sh`


def launched(command: str) -> Launch | None:
    """The file or module `command` runs, or None when that is not certain."""
    words = _words(command)
    if not words or any(sign in command for sign in SHELL_SIGNS):
        return None
    folder, words = _leading_cd(words)
    if folder is None:
        return None
    words = _unwrapped(_first_command(words))
    if not words:
        return None
    name = posixpath.basename(words[0])
    if PYTHON.fullmatch(name):
        return _python(words[1:], folder)
    if name in SHELLS:
        script = _after_options(words[1:], SHELL_FLAGS, set())
        if script is None or script.startswith("-"):
            return None
        return _at(folder, script, "shell", words[0])
    if "/" in words[0] and not words[0].startswith("/"):
        return _at(folder, words[0], "executable")
    return None


def _words(command: str) -> list[str]:
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        return list(lexer)
    except ValueError:
        return []


def _leading_cd(words: list[str]) -> tuple[str | None, list[str]]:
    """`cd DIR && REST` / `cd DIR; REST` -> (DIR, REST); the root and the words otherwise."""
    folder = ""
    while len(words) >= 3 and words[0] == "cd" and words[2] in ("&&", ";"):
        moved = _inside(folder, words[1])
        if moved is None:
            return None, words
        folder, words = moved, words[3:]
    return folder, words


def _first_command(words: list[str]) -> list[str]:
    """The words of the first simple command (a pipeline's first stage, before any `&&` or `;`),
    without redirections."""
    kept: list[str] = []
    index = 0
    while index < len(words) and words[index] not in OPERATORS:
        word = words[index]
        if word and set(word) <= set("<>&"):
            index += 2  # a redirection and its target
            continue
        kept.append(word)
        index += 1
    return kept


def _unwrapped(words: list[str]) -> list[str]:
    """`words` without leading assignments and wrappers that run the rest unchanged."""
    while words:
        head, name = words[0], posixpath.basename(words[0])
        if ASSIGNMENT.fullmatch(head):
            words = words[1:]
        elif name in WRAPPERS:
            rest = WRAPPERS[name](words[1:])
            if rest is None:
                return []
            words = rest
        else:
            return words
    return words


def _env(words: list[str]) -> list[str] | None:
    while words and (words[0].startswith("-") or ASSIGNMENT.fullmatch(words[0])):
        word = words[0]
        if word in ("-u", "--unset"):
            words = words[2:]
        elif (
            word in ("-i", "-", "--ignore-environment", "-0", "--null")
            or word.startswith("--unset=")
            or (ASSIGNMENT.fullmatch(word))
        ):
            words = words[1:]
        else:
            return None  # -C DIR, -S STRING and the rest change what runs: not guessed at
    return words


def _timeout(words: list[str]) -> list[str] | None:
    while words and words[0].startswith("-"):
        word = words[0]
        if word in ("-s", "-k", "--signal", "--kill-after"):
            words = words[2:]
        elif word in ("--foreground", "--preserve-status", "-v", "--verbose") or word.startswith(
            ("--signal=", "--kill-after=", "-s", "-k")
        ):
            words = words[1:]
        else:
            return None
    return words[1:] if words else None  # the duration


def _nice(words: list[str]) -> list[str] | None:
    if words and words[0] in ("-n", "--adjustment"):
        return words[2:]
    if words and re.fullmatch(r"-n?-?\d+|--adjustment=-?\d+", words[0]):
        return words[1:]
    return words


def _options_then_command(flags: set[str], valued: set[str]) -> Callable[[list[str]], list[str] | None]:
    def peel(words: list[str]) -> list[str] | None:
        while words and words[0].startswith("-"):
            word = words[0]
            letters = word[1:]
            if word == "--":
                return words[1:]
            if word.startswith("--") and "=" in word:
                words = words[1:]
            elif letters and letters[0] in valued:
                words = words[1:] if len(letters) > 1 else words[2:]  # `-c 2` or `-c2`
            elif letters and set(letters) <= flags:
                words = words[1:]
            else:
                return None
        return words

    return peel


def _taskset(words: list[str]) -> list[str] | None:
    if words and words[0] in ("-c", "--cpu-list"):
        return words[2:]
    return words[1:] if words and not words[0].startswith("-") else None  # the mask


WRAPPERS = {
    "env": _env,
    "timeout": _timeout,
    "nice": _nice,
    "nohup": lambda words: words,
    "exec": lambda words: words,
    "command": lambda words: words[1:] if words[:1] == ["-p"] else words,
    "time": lambda words: words[1:] if words[:1] == ["-p"] else words,
    "stdbuf": _options_then_command(set(), set("ioe")),
    "ionice": _options_then_command(set("t"), set("cnp")),
    "taskset": _taskset,
}


def _python(words: list[str], folder: str) -> Launch | None:
    while words and words[0].startswith("-") and words[0] != "-m":
        letters = words[0][1:]
        if letters[:1] in PYTHON_VALUED:
            words = words[1:] if len(letters) > 1 else words[2:]
        elif letters and set(letters) <= PYTHON_FLAGS:
            words = words[1:]
        else:
            return None  # -c CODE, `-` (stdin), an option unknown here
    if len(words) >= 2 and words[0] == "-m":
        module = words[1]
        if not all(part.isidentifier() for part in module.split(".")):
            return None
        return Launch("module", module, folder)
    if not words or words[0].startswith("-"):
        return None
    return _at(folder, words[0], "python")


def _after_options(words: list[str], flags: set[str], valued: set[str]) -> str | None:
    while words and words[0].startswith("-") and len(words[0]) > 1:
        letters = words[0][1:]
        if not set(letters) <= flags | valued or "c" in letters:
            return None
        words = words[1:]
    return words[0] if words else None


def _at(folder: str, word: str, kind: str, runner: str | None = None) -> Launch | None:
    path = _inside(folder, word)
    return Launch(kind, path, folder, runner) if path else None


def _inside(folder: str, word: str) -> str | None:
    """`word`, a relative path read in `folder`, as a path from the root; None outside the root."""
    if not word or word.startswith("/") or set(word) & EXPANDED:
        return None
    path = posixpath.normpath(posixpath.join(folder, word))
    if path == "." or path == ".." or path.startswith("../"):
        return "" if path == "." else None
    return path
