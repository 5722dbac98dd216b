"""`glia solve` checks every model endpoint before anything is measured: bad endpoints end in one line
with the fix and exit code 2, unpriced models are named, and model settings reach each agent.

No evaluator may be created and no run folder written when an endpoint fails: the evaluator factory is
replaced by one that fails the test if called.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any

import pytest

from glia.cli import main
from glia.errors import USER_ERROR_EXIT, GliaUsageError
from glia.llm import AgentModelSettings, AgentProviderFactory
from tests.fake_llm import ANY_MODEL, FakeLLMServer, closed_port_url, fault, reply

REPO_ROOT = Path(__file__).resolve().parents[2]
TASK = str(REPO_ROOT / "tasks" / "llm_routing.md")


class Stopped(GliaUsageError):
    """Raised by the stand-in for `prepare_run`: the pre-run checks passed."""


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty workspaces root, no keys, no user config, and an evaluator that must not be built."""
    monkeypatch.chdir(tmp_path)
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GLIA_PRICES", "GLIA_CONFIG", "GLIA_WORKSPACES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config-home"))

    def no_evaluator() -> Any:
        raise AssertionError("a baseline evaluation started although the endpoint check failed")

    monkeypatch.setattr("glia.orchestrator.run._default_evaluator_factory", no_evaluator)
    path = tmp_path / "workspaces"
    path.mkdir()
    return path


def solve(root: Path, base_url: str, *extra: str, model: str = "openai:m") -> int:
    return main(
        [
            "solve", TASK, "--root", str(root), "--workspace", "local", "--unsafe-local-workspace",
            "--researcher-model", model, "--supervisor-model", model, "--base-url", base_url, *extra,
        ]
    )  # fmt: skip


def fails_in_one_line(capsys: pytest.CaptureFixture[str], root: Path, base_url: str) -> tuple[str, str]:
    started = time.monotonic()
    code = solve(root, base_url)
    err = capsys.readouterr().err
    assert code == USER_ERROR_EXIT, err
    assert time.monotonic() - started < 15, "a dead endpoint must not be retried for long"
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 2, err  # the problem, then the fix; retries are not shouted about
    assert lines[0].startswith("error: openai:m") and lines[1].startswith("  fix: ")
    assert list(root.iterdir()) == [], "no run folder, so no evaluations/ and no container"
    return lines[0], lines[1]


@pytest.mark.parametrize(
    ("kind", "said", "fix"),
    [
        (
            "not_implemented",
            "answered HTTP 501 with an HTML page titled 'Error response'",
            "OpenAI-compatible server",
        ),
        (
            "html",
            "answered HTTP 200 with an HTML page titled 'Welcome to nginx!', not a chat completion",
            "API root",
        ),
        ("no_choices", "answered HTTP 200 with JSON without `choices` (keys: detail, status)", "API root"),
        ("not_json", "answered HTTP 200 with a non-JSON body starting 'upstream connect error", "API root"),
    ],
)
def test_a_server_that_is_not_a_model_api(capsys, root: Path, kind: str, said: str, fix: str) -> None:
    with FakeLLMServer() as srv:
        srv.handler(ANY_MODEL, lambda request: fault(kind))
        error, fix_line = fails_in_one_line(capsys, root, srv.openai_base_url)
        assert len(srv.requests) == 1
    assert f"/v1/chat/completions {said}" in error
    assert fix in fix_line


def test_nothing_listening(capsys, root: Path) -> None:
    url = closed_port_url()
    error, fix = fails_in_one_line(capsys, root, url)
    assert error.startswith(f"error: openai:m: nothing answers at {url}/chat/completions")
    assert "Connection refused" in error and "gave up after 3 attempts" in error
    assert fix == "  fix: start the model server, or correct --base-url (host, port, and the /v1 root)"


def test_a_url_without_scheme(capsys, root: Path) -> None:
    error, fix = fails_in_one_line(capsys, root, "127.0.0.1:8000/v1")
    assert error == "error: openai:m: base URL '127.0.0.1:8000/v1' has no http:// or https:// scheme"
    assert fix == "  fix: write the whole URL, e.g. --base-url http://127.0.0.1:8000/v1"


def test_a_refusing_provider_is_reported_before_any_cost(capsys, root: Path) -> None:
    with FakeLLMServer() as srv:
        srv.handler(ANY_MODEL, lambda request: fault("not_found"))
        code = solve(root, srv.openai_base_url)
    err = capsys.readouterr().err
    assert code == USER_ERROR_EXIT and list(root.iterdir()) == []
    assert err.startswith("error: the model endpoint refused the request: openai:m: HTTP 404: The model `m`")


@pytest.fixture
def stop_after_checks(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """`prepare_run` replaced: the checks ran, nothing is created; the run config is kept."""
    seen: list[Any] = []

    def prepare(run_config: Any) -> Path:
        seen.append(run_config)
        raise Stopped("checks passed")

    monkeypatch.setattr("glia.orchestrator.prepare_run", prepare)
    return seen


def test_an_unpriced_model_gets_one_warning_line(capsys, root: Path, stop_after_checks) -> None:
    with FakeLLMServer() as srv:
        srv.handler(ANY_MODEL, lambda request: reply("ok"))
        code = solve(root, srv.openai_base_url, model="openai:gpt-99-turbo")
        assert [r.body["max_tokens"] for r in srv.requests] == [16]  # one probe: both agents share the model
    err = capsys.readouterr().err
    assert code == USER_ERROR_EXIT and "error: checks passed" in err
    warnings = [line for line in err.splitlines() if "gpt-99-turbo" in line]
    assert warnings == [
        "warning: openai:gpt-99-turbo has no price in Glia's price table, so its cost is recorded as unknown "
        "and --max-dollars cannot stop it; to price it, write "
        '{"models": {"gpt-99-turbo": {"input": 1.0, "output": 4.0}}} (USD per million tokens) into a JSON file '
        "and point GLIA_PRICES (or the config key `prices`) at it"
    ]


def test_a_priced_model_gets_no_warning(capsys, root: Path, stop_after_checks, tmp_path: Path) -> None:
    prices = tmp_path / "prices.json"
    prices.write_text('{"models": {"m": {"input": 0.1, "output": 0.2}}}')
    config = tmp_path / "config-home" / "glia" / "config.yaml"
    config.parent.mkdir(parents=True)
    config.write_text(f"prices: {prices}\n")
    with FakeLLMServer() as srv:
        srv.handler(ANY_MODEL, lambda request: reply("ok"))
        solve(root, srv.openai_base_url)
    assert "warning" not in capsys.readouterr().err


def test_model_settings_from_config_and_flags_reach_each_probe(
    capsys, root: Path, stop_after_checks, tmp_path: Path
) -> None:
    config = tmp_path / "config-home" / "glia" / "config.yaml"
    config.parent.mkdir(parents=True)
    config.write_text(
        "researcher_reasoning_effort: medium\nsupervisor_reasoning_effort: low\nopenai_api: chat\n"
    )
    with FakeLLMServer() as srv:
        srv.handler(ANY_MODEL, lambda request: reply("ok"))
        code = main(
            [
                "solve", TASK, "--root", str(root), "--workspace", "local", "--unsafe-local-workspace",
                "--base-url", srv.openai_base_url,
                "--researcher-model", "openai:o3", "--supervisor-model", "openai:o4-mini",
                "--researcher-reasoning-effort", "high", "--openai-api", "responses", "--reasoning-summary", "detailed",
            ]
        )  # fmt: skip
        bodies = {r.model: (r.path, r.body) for r in srv.requests}
    assert code == USER_ERROR_EXIT, capsys.readouterr().err
    assert bodies["o3"][0] == bodies["o4-mini"][0] == "/v1/responses"  # the flag beat the config file
    assert bodies["o3"][1]["reasoning"] == {"effort": "high", "summary": "detailed"}  # flag beat config
    assert bodies["o4-mini"][1]["reasoning"] == {"effort": "low", "summary": "detailed"}  # from the config


def test_bad_model_settings_name_their_source(capsys, root: Path, tmp_path: Path) -> None:
    config = tmp_path / "config-home" / "glia" / "config.yaml"
    config.parent.mkdir(parents=True)
    config.write_text("supervisor_thinking_budget: 100\n")
    code = solve(root, "http://127.0.0.1:9/v1")
    err = capsys.readouterr().err
    assert code == USER_ERROR_EXIT
    assert err.startswith("error: config file, supervisor: thinking_budget must be 0 (off) or a whole number")
    assert "fix: reasoning effort: none | minimal | low" in err


def test_the_run_gets_the_per_agent_provider_factory(
    capsys, root: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    captured: dict[str, Any] = {}
    run_dir = tmp_path / "fake-run"
    run_dir.mkdir()

    def execute(run_dir: Path, **kwargs: Any) -> Any:
        captured.update(kwargs)
        raise Stopped("captured")

    monkeypatch.setattr("glia.orchestrator.prepare_run", lambda run_config: run_dir)
    monkeypatch.setattr("glia.orchestrator.execute_run", execute)
    monkeypatch.setattr("glia.cli.solve.log_to_run", lambda run_dir: None)
    monkeypatch.setattr("glia.cli.solve.RunWatcher", lambda *args: contextlib.nullcontext())
    with FakeLLMServer() as srv:
        srv.handler(ANY_MODEL, lambda request: reply("ok"))
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", srv.anthropic_base_url)  # read by the Anthropic SDK
        code = main(
            [
                "solve", TASK, "--root", str(root), "--workspace", "local", "--unsafe-local-workspace",
                "--base-url", srv.openai_base_url,
                "--researcher-model", "openai:r", "--supervisor-model", "anthropic:claude-haiku-4-5",
                "--researcher-reasoning-effort", "high", "--supervisor-thinking-budget", "2048",
            ]
        )  # fmt: skip
        assert [r.protocol for r in srv.requests] == ["openai", "anthropic"]  # both endpoints checked
    assert code == USER_ERROR_EXIT and "error: captured" in capsys.readouterr().err
    factory = captured["provider_factory"]
    assert isinstance(factory, AgentProviderFactory)
    assert factory.settings_for("openai:r") == AgentModelSettings(reasoning_effort="high")
    assert factory.settings_for("anthropic:claude-haiku-4-5") == AgentModelSettings(thinking_budget=2048)
