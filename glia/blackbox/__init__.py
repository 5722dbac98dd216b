"""Black-box search methods run on the same task, model, budget and trusted evaluator as Glia.

- `sample`: the model as it is, independent designs from one detailed prompt (the paper's Fig. 2).
- `loop`: the generate-and-verify loop of "AI for Distributed Systems Design" (seed 000).
- `openevolve`: the real OpenEvolve package, driven through its API (`pip install 'glia[baselines]'`).
- `eoh`, `funsearch`: the real LLM4AD package's EoH and FunSearch (`llm4ad_method`).

They are strategies of `glia solve` and methods of `glia compare`. Modules: `names` (the strategy
names), `settings`, `prompts` (+ `agent_prompts/blackbox_*.md`), `extract` (designs out of replies),
`store` (candidate records), `bench` (the sandbox), `session` (model calls and candidates, shared by all
methods), `sample`, `loop`, `openevolve_method` with `broker` and `openevolve_bridge`, `llm4ad_method`
(eoh, funsearch), `initial` (OpenEvolve's initial program), `judging` (trusted evaluation), `runner` (one method run), `host`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from glia.strategies.method_names import LABELS, METHODS, is_blackbox

__all__ = [
    "LABELS",
    "METHODS",
    "MethodHost",
    "is_blackbox",
    "llm4ad_missing",
    "openevolve_missing",
    "run_method",
]


def openevolve_missing() -> str | None:
    """Why the `openevolve` method cannot run here (the package is not installed), or None."""
    import importlib.util

    if importlib.util.find_spec("openevolve") is None:
        return "the openevolve method needs the OpenEvolve package: pip install 'glia[baselines]'"
    return None


def llm4ad_missing() -> str | None:
    """Why the `eoh` and `funsearch` methods cannot run here (the LLM4AD package is not installed), or None."""
    import importlib.util

    if importlib.util.find_spec("llm4ad") is None or importlib.util.find_spec("pytz") is None:
        return "the eoh and funsearch methods need the LLM4AD package: pip install --no-deps llm4ad pytz"
    return None


def __getattr__(name: str) -> Any:  # the heavy parts load on first use
    if name == "MethodHost":
        from glia.blackbox.host import MethodHost

        return MethodHost
    if name == "run_method":
        from glia.blackbox.runner import run_method

        return run_method
    raise AttributeError(f"module 'glia.blackbox' has no attribute {name!r}")


if TYPE_CHECKING:
    from glia.blackbox.host import MethodHost
    from glia.blackbox.runner import run_method
