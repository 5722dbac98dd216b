"""Predictable failures turned into one clear message and the fix, instead of a traceback.

The CLI catches exceptions at its edge and asks `explain` for a `UserError`; anything it cannot explain
is a bug and keeps its traceback. Exit code 2 marks "you can fix this yourself".
"""

from __future__ import annotations

from dataclasses import dataclass

USER_ERROR_EXIT = 2
KEY_VARIABLES = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}


class GliaUsageError(Exception):
    """A problem with what the user asked for, raised by the CLI itself; carries its own fix."""

    def __init__(self, message: str, fix: str = "") -> None:
        super().__init__(message)
        self.fix = fix


class BudgetTooSmall(GliaUsageError):
    """The budget cannot pay for even one step (e.g. zero simulations or no dollars)."""


class RunMissing(GliaUsageError):
    """A RUN argument names neither a run id under the workspaces root nor a run folder."""


@dataclass(frozen=True)
class UserError:
    """What to print: the problem in one sentence, then what to do about it."""

    message: str
    fix: str
    exit_code: int = USER_ERROR_EXIT

    def render(self) -> str:
        """Two lines at most, whatever the message quotes: its parts go through the console sanitiser."""
        from glia.safe_text import console_plain

        message = f"error: {console_plain(self.message, 2000)}"
        return f"{message}\n  fix: {console_plain(self.fix, 1000)}" if self.fix else message


def explain(exc: BaseException) -> UserError | None:
    """The user-facing explanation of `exc`, or None when it is a bug that deserves a traceback."""
    # Imported here: the model SDKs and Docker take a second to import, and only failures need them.
    from glia.evaluation.evaluator import EvaluationRefused
    from glia.llm.settings import ModelSettingsError
    from glia.llm.types import EndpointError, LLMError, MissingAPIKey, ProviderRejected, UnknownModel
    from glia.orchestrator import RunConfigError, RunExists, RunNotResumable
    from glia.run_store import RunNotFound
    from glia.task import TaskError
    from glia.workspace.base import DockerUnavailable, ImageMissing, WorkspaceError

    message = str(exc).strip() or type(exc).__name__
    if isinstance(exc, GliaUsageError):
        return UserError(message, exc.fix)
    if isinstance(exc, MissingAPIKey):
        return UserError(message, _key_fix(message))
    if isinstance(exc, UnknownModel):
        return UserError(message, _known_models_fix())
    if isinstance(exc, EndpointError):  # bad base URL, nothing listening, not a model API: fix included
        return UserError(message, exc.fix)
    if isinstance(exc, ModelSettingsError):
        return UserError(
            message, "see `glia solve --help`, section 'model settings', for the accepted values"
        )
    if isinstance(exc, ProviderRejected):
        return UserError(
            f"the model endpoint refused the request: {message}",
            "check the model name, the API key and the model settings (reasoning effort, thinking budget, "
            "--openai-api); `glia solve -v` logs each call",
        )
    if isinstance(exc, LLMError):
        return UserError(
            f"the model call failed: {message}",
            "check the model name, the API key and --base-url; `glia solve -v` logs each call",
        )
    if isinstance(exc, DockerUnavailable):
        return UserError(
            "no Docker engine answers" if "docker" not in message.lower() else message,
            "start it (`sudo systemctl start docker`, or `dockerd --iptables=false --bridge=none &` as root), "
            "or set DOCKER_HOST to a running engine, or (no sandbox: unsafe) "
            "`--workspace local --unsafe-local-workspace`",
        )
    if isinstance(exc, ImageMissing):
        return UserError(message, "build it once with `glia image build` (or pass --image NAME)")
    if isinstance(exc, TaskError):
        return UserError(f"bad task file: {message}", _task_fix(message))
    if isinstance(exc, WorkspaceError):
        return UserError(
            message, "run the command again with -v for details; `glia cleanup` removes leftover containers"
        )
    if isinstance(exc, EvaluationRefused):
        return UserError(
            message, "run it where Docker answers (the default backend); `glia image build` once"
        )
    if isinstance(exc, RunConfigError | RunExists | RunNotResumable | RunNotFound):
        return UserError(message, "")  # their messages already say what to do
    return None


def _task_fix(message: str) -> str:
    """Name the field the message is about (task files and glia.yaml say `field 'x.y'`)."""
    import re

    field = re.search(r"field '([^']+)'", message)
    if field:
        return f"fix field '{field.group(1)}' in that file; the fields are described in tasks/README.md"
    return (
        "the task file format is in tasks/README.md, problem folders in README.md ('Coming from OpenEvolve')"
    )


def _key_fix(message: str) -> str:
    named = [var for var in KEY_VARIABLES.values() if var in message]
    variables = named or list(KEY_VARIABLES.values())
    exports = " or ".join(f"`export {var}=...`" for var in variables)
    return (
        f"{exports} (a .env file in the current folder works too); "
        "`glia bench` needs no key, and --base-url reaches a local OpenAI-compatible server"
    )


def _known_models_fix() -> str:
    known = known_models()
    listed = ", ".join(known[:12]) + (" …" if len(known) > 12 else "")
    return (
        "write PROVIDER:MODEL with provider openai or anthropic (e.g. openai:o3, "
        "anthropic:claude-sonnet-4-5); any name works with --base-url. "
        + (f"Priced models: {listed}" if known else "")
    ).strip()


def known_models() -> list[str]:
    """Model names Glia has prices for (any other name still works through --base-url)."""
    from glia.llm.pricing import PriceTable

    try:
        return PriceTable.load().models()
    except (OSError, ValueError):  # a broken GLIA_PRICES file must not hide the real error
        return PriceTable.defaults().models()


def check_budget(
    max_dollars: float | None, max_simulations: int | None, max_minutes: float | None, max_steps: int | None
) -> None:
    """Refuse a budget that cannot pay for a single step before any container or model is started."""
    problems = []
    if max_simulations is not None and max_simulations <= 0:
        problems.append(f"max simulations is {max_simulations}")
    if max_dollars is not None and max_dollars <= 0:
        problems.append(f"max dollars is {max_dollars:g}")
    if max_minutes is not None and max_minutes <= 0:
        problems.append(f"max minutes is {max_minutes:g}")
    if max_steps is not None and max_steps <= 0:
        problems.append(f"max steps is {max_steps}")
    if problems:
        raise BudgetTooSmall(
            "budget too small to start: " + ", ".join(problems),
            "raise --max-simulations / --max-dollars / --max-minutes / --max-steps (or the task's "
            "`budgets:`) to a positive value",
        )
