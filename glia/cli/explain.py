"""Which exceptions the user can fix, and how: each becomes one `UserError` (message and fix), the rest stay bugs.

It lives at the top of the layers, in the CLI, because it names the exceptions of every package below.
"""

from __future__ import annotations

from glia.errors import GliaUsageError, UserError

KEY_VARIABLES = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}


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
