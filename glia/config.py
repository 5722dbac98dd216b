"""The user's config file: personal defaults for `glia solve` and friends.

Precedence, weakest first: the task's front matter, this file, command-line flags. The file lives at
`$GLIA_CONFIG` or `~/.config/glia/config.yaml` (honouring XDG_CONFIG_HOME) and is optional.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import yaml

from glia.errors import GliaUsageError

CONFIG_ENV_VAR = "GLIA_CONFIG"


@dataclass(frozen=True)
class UserConfig:
    """Every key the config file may set; None means "not set here, fall through"."""

    researcher_model: str | None = None  # e.g. openai:o3
    supervisor_model: str | None = None  # may differ from the researcher's
    base_url: str | None = None  # an OpenAI-compatible server (vLLM, Ollama)
    strategy: str | None = None  # scg | mcg-seq | mcg-par
    contexts: int | None = None  # N of MCG-Par-N
    workspace: str | None = None  # docker | local
    allow_unsafe_local: bool | None = None  # true: accept `workspace: local`, which has no sandbox
    image: str | None = None  # the workspace image tag
    cluster: str | None = None  # a Ray cluster for the sandboxes: auto | ray://HOST:PORT (glia[cluster])
    workspaces_root: str | None = None  # where runs are kept
    seeds: int | None = None  # seeds per workload in trusted evaluations
    max_dollars: float | None = None
    max_simulations: int | None = None
    max_minutes: float | None = None
    max_steps: int | None = None
    prices: str | None = None  # a JSON price file merged over the shipped prices (sets GLIA_PRICES)
    # Model settings per agent (see glia/llm/settings.py for the values and defaults)
    researcher_reasoning_effort: str | None = None  # OpenAI reasoning models: low | medium | high | ...
    supervisor_reasoning_effort: str | None = None
    researcher_thinking_budget: int | None = None  # Claude extended thinking, tokens (>= 1024; 0: off)
    supervisor_thinking_budget: int | None = None
    reasoning_summary: str | None = None  # auto | concise | detailed | off (both agents)
    openai_api: str | None = None  # auto | responses | chat (both agents)

    @classmethod
    def key_names(cls) -> list[str]:
        return [f.name for f in fields(cls)]


_TYPES: dict[str, tuple[type, ...]] = {
    "contexts": (int,),
    "seeds": (int,),
    "max_simulations": (int,),
    "max_steps": (int,),
    "researcher_thinking_budget": (int,),
    "supervisor_thinking_budget": (int,),
    "max_dollars": (int, float),
    "max_minutes": (int, float),
    "allow_unsafe_local": (bool,),
}


def config_path() -> Path:
    """Where the config file is looked for."""
    explicit = os.environ.get(CONFIG_ENV_VAR)
    if explicit:
        return Path(explicit).expanduser()
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "glia" / "config.yaml"


def load_config(path: Path | None = None) -> UserConfig:
    """Read and check the config file; an absent file is an empty config, a broken one a clear error."""
    path = path or config_path()
    if not path.is_file():
        if os.environ.get(CONFIG_ENV_VAR) and path == config_path():
            raise GliaUsageError(f"{CONFIG_ENV_VAR} names {path}, which does not exist", "fix or unset it")
        return UserConfig()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise GliaUsageError(f"cannot read the config file {path}: {exc}", "fix its YAML") from exc
    if not isinstance(data, dict):
        raise GliaUsageError(f"{path}: the config file must be a mapping of keys", _allowed())
    return UserConfig(**{key: _checked(path, key, value) for key, value in data.items()})


def _checked(path: Path, key: str, value: Any) -> Any:
    if key not in UserConfig.key_names():
        raise GliaUsageError(f"{path}: unknown key {key!r}", _allowed())
    if value is None:
        return None
    expected = _TYPES.get(key, (str,))
    if (isinstance(value, bool) and bool not in expected) or not isinstance(value, expected):
        kind = " or ".join(t.__name__ for t in expected)
        raise GliaUsageError(f"{path}: key {key!r} must be {kind}, got {value!r}", _allowed())
    return float(value) if float in expected else value


def _allowed() -> str:
    return "allowed keys: " + ", ".join(UserConfig.key_names())


def apply_environment(config: UserConfig) -> None:
    """Settings the config file makes through the environment (the price file), without overriding it."""
    if config.prices and not os.environ.get("GLIA_PRICES"):
        os.environ["GLIA_PRICES"] = str(Path(config.prices).expanduser())
