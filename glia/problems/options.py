"""Glia's settings for a problem: a `glia.yaml` beside the problem, or a task file naming it.

Both take the same fields, all optional (a folder without either works with the defaults):

    name, title                   the task's name and title (default: from the folder's name)
    program, evaluator, entry     the program file, the evaluator file, its function (initial_program.py,
                                  evaluator.py, evaluate)
    seed_argument                 the entry's keyword taking a seed (default: `seed` if it has one; null: none)
    seeds                         trusted evaluations of the main workload: a count of secret seeds, or a list
                                  of public ones (default: [0] for a deterministic evaluator, 5 otherwise)
    workloads                     instead of `seeds`: workloads as in a task file; their other fields are
                                  keyword arguments of the entry (e.g. a trace family), and may be held out
    time_limit_s                  per evaluation (default: config.yaml's evaluator.timeout, else 300)
    baselines                     more programs scored like the initial one: [{name, file}]
    benchmark_seed                the seed of the Researcher's benchmark runs (default 0)
    metric                        as in a task file (default: combined_score, maximize)
    brief                         text added to the Researcher's brief (a task file's body does the same)
    env                           environment variables of the evaluation (the evaluator, its subprocesses
                                  and the program's sandbox): {NAME: "value"}; never Glia's own (GLIA_*),
                                  a model key (*_API_KEY) or what the sandbox needs (PATH, HOME, PYTHON*)
    forbidden_names, defaults, budgets, supervisor   as in a task file

A task file names the folder with `problem: path/` (relative to the task file) and may carry a body.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from glia.task import TaskError, _Fields

SETTINGS_FILE = "glia.yaml"
AUTO = "auto"
FIELDS = {
    "name", "title", "program", "evaluator", "entry", "seed_argument", "seeds", "workloads", "time_limit_s",
    "baselines", "benchmark_seed", "metric", "brief", "env", "forbidden_names", "defaults", "budgets",
    "supervisor",
}  # fmt: skip
PASSED_THROUGH = ("forbidden_names", "defaults", "budgets", "supervisor")
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Names an `env:` may not set: Glia's own variables and model keys (never the folder's to give a
# sandbox), and those the sandboxes' machinery sets (Python's import path, the shell's basics).
RESERVED_ENV_PREFIXES = ("GLIA_", "PYTHON")
RESERVED_ENV_SUFFIXES = ("_API_KEY",)
RESERVED_ENV_NAMES = frozenset({"PATH", "HOME", "LD_PRELOAD", "LD_LIBRARY_PATH"})
MAX_ENV_VARIABLES = 100
MAX_ENV_VALUE_CHARS = 4096


@dataclass(frozen=True)
class ProblemOptions:
    """Settings read from `source` (a glia.yaml, a task file, or None for a bare folder)."""

    source: Path | None = None
    name: str | None = None
    title: str | None = None
    program: str | None = None
    evaluator: str | None = None
    entry: str | None = None
    seed_argument: str | None = AUTO
    seeds: int | tuple[int, ...] | None = None
    workloads: list[dict[str, Any]] | None = None
    time_limit_s: float | None = None
    baselines: tuple[tuple[str, Path], ...] = ()
    benchmark_seed: int = 0
    metric: dict[str, Any] | None = None
    brief: str = ""
    environment: dict[str, str] = field(default_factory=dict)
    passed_through: dict[str, Any] = field(default_factory=dict)

    def fail(self, key: str, expected: str, value: Any = ...) -> TaskError:
        return _Fields(self.source or Path("."), {}).fail(key, expected, value)


def read_settings_file(folder: Path) -> ProblemOptions:
    """The folder's glia.yaml, or the defaults when it has none."""
    path = folder / SETTINGS_FILE
    if not path.is_file():
        return ProblemOptions()
    return parse_options(path, read_settings_data(folder), body="")


def read_settings_data(folder: Path) -> dict[str, Any]:
    """The folder's glia.yaml as checked fields (empty when it has none)."""
    path = folder / SETTINGS_FILE
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise TaskError(f"{path}: not valid YAML ({exc})") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise TaskError(f"{path}: must be a mapping of settings, got {type(data).__name__}")
    parse_options(path, data, body="")  # errors name glia.yaml and the field
    return data


def parse_options(source: Path, data: dict[str, Any], body: str, known: set[str] = FIELDS) -> ProblemOptions:
    """Check `data` (fields of a glia.yaml, or of a task file minus `problem`) and keep them."""
    fields = _Fields(source, data)
    fields.reject_unknown(known)
    seeds = _seeds(fields) if "seeds" in data else None
    workloads = None
    if "workloads" in data:
        raw = data["workloads"]
        if not isinstance(raw, list) or not raw or not all(isinstance(w, dict) for w in raw):
            raise fields.fail("workloads", "a non-empty list of workloads ({name, seeds, heldout, ...})", raw)
        if seeds is not None:
            raise fields.fail(
                "seeds", "absent when 'workloads' is given (each workload has its own seeds)", data["seeds"]
            )
        workloads = [dict(w) for w in raw]
    brief = "\n\n".join(
        part.strip() for part in (fields.text("brief") if data.get("brief") else "", body) if part.strip()
    )
    seed_argument = data.get("seed_argument", AUTO)
    if (
        seed_argument is not None
        and seed_argument != AUTO
        and not (isinstance(seed_argument, str) and seed_argument.isidentifier())
    ):
        raise fields.fail("seed_argument", "the name of the entry's seed parameter, or null", seed_argument)
    return ProblemOptions(
        source=source,
        name=fields.name("name") if data.get("name") is not None else None,
        title=fields.text("title") if data.get("title") is not None else None,
        program=_relative(fields, "program"),
        evaluator=_relative(fields, "evaluator"),
        entry=_identifier(fields, "entry"),
        seed_argument=seed_argument,
        seeds=seeds,
        workloads=workloads,
        time_limit_s=fields.positive_number("time_limit_s") if "time_limit_s" in data else None,
        baselines=_baselines(fields, source.parent),
        benchmark_seed=_non_negative_int(fields, "benchmark_seed", 0),
        metric=fields.mapping("metric") if "metric" in data else None,
        brief=brief,
        environment=_environment(fields) if "env" in data else {},
        passed_through={key: data[key] for key in PASSED_THROUGH if key in data},
    )


def default_name(folder: Path) -> str:
    """A task name from the folder's name: letters, digits, '_', '.', '-'."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", folder.resolve().name).strip("_.-") or "problem"


def _seeds(fields: _Fields) -> int | tuple[int, ...]:
    value = fields.raw("seeds", ...)
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= 1000:
        return value
    if (
        isinstance(value, list)
        and value
        and all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in value)
        and len(set(value)) == len(value)
    ):
        return tuple(value)
    raise fields.fail(
        "seeds", "a count of secret seeds (1-1000) or a list of distinct non-negative seeds", value
    )


def _relative(fields: _Fields, key: str) -> str | None:
    if fields.data.get(key) is None:
        return None
    value = fields.text(key)
    if Path(value).is_absolute() or ".." in Path(value).parts:
        raise fields.fail(key, "a path inside the problem folder", value)
    return value


def _identifier(fields: _Fields, key: str) -> str | None:
    if fields.data.get(key) is None:
        return None
    value = fields.text(key)
    if not value.isidentifier():
        raise fields.fail(key, "a Python function name", value)
    return value


def _environment(fields: _Fields) -> dict[str, str]:
    """`env:`, checked: identifiers to strings, none of them reserved."""
    raw = fields.raw("env", {})
    if not isinstance(raw, dict) or len(raw) > MAX_ENV_VARIABLES:
        raise fields.fail(
            "env", f'a mapping of at most {MAX_ENV_VARIABLES} variables, {{NAME: "value"}}', raw
        )
    for name, value in raw.items():
        key = f"env.{name}"
        if not isinstance(name, str) or not ENV_NAME.fullmatch(name):
            raise fields.fail(
                "env", "variable names of letters, digits and '_', not starting with a digit", name
            )
        upper = name.upper()
        if (
            upper.startswith(RESERVED_ENV_PREFIXES)
            or upper.endswith(RESERVED_ENV_SUFFIXES)
            or upper in RESERVED_ENV_NAMES
        ):
            raise fields.fail(
                key,
                "a name that is not Glia's (GLIA_*), a model key (*_API_KEY) or PATH, HOME, PYTHON*, LD_*",
            )
        if not isinstance(value, str):
            raise fields.fail(key, f'a string (quote it: {name}: "{value}")', value)
        if "\0" in value or len(value) > MAX_ENV_VALUE_CHARS:
            raise fields.fail(key, f"a string of at most {MAX_ENV_VALUE_CHARS} characters, without NUL")
    return dict(raw)


def _non_negative_int(fields: _Fields, key: str, default: int) -> int:
    value = fields.raw(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise fields.fail(key, "a non-negative integer", value)
    return value


def _baselines(fields: _Fields, base: Path) -> tuple[tuple[str, Path], ...]:
    raw = fields.raw("baselines", [])
    if not isinstance(raw, list):
        raise fields.fail("baselines", "a list of {name, file} programs", raw)
    found = []
    for index, item in enumerate(raw):
        entry = fields.item("baselines", index, item)
        entry.reject_unknown({"name", "file"})
        path = (base / entry.text("file")).resolve()
        if not path.is_file():
            raise entry.fail("file", f"a program file relative to {base} (none at {path})")
        found.append((entry.name("name"), path))
    return tuple(found)
