from pathlib import Path

from glia.agents.tools import (
    Streak,
    bash_timeout,
    bash_tool,
    finish_tool,
    render_exec_result,
    researcher_tools,
    validate_call,
)
from glia.llm.types import ToolCall
from glia.workspace.base import ExecResult, Limits

LIMITS = Limits(default_timeout_s=300, max_timeout_s=1800, output_limit_chars=10_000)
TOOLS = researcher_tools(LIMITS)


def test_bash_description_teaches_the_rules():
    text = bash_tool(LIMITS).description
    for phrase in (
        "fresh shell",
        "repository root",
        "1800",
        "head and tail",
        "full output",
        "background",
        "simulation",
    ):
        assert phrase in text
    assert bash_tool(LIMITS).parameters["required"] == ["command"]


def test_finish_requires_the_three_summary_fields_and_allows_a_score():
    params = finish_tool().parameters
    assert params["required"] == ["design", "evidence", "tried_and_rejected"]
    assert params["properties"]["expected_score"]["type"] == "number"


def test_well_formed_calls_pass():
    assert validate_call(ToolCall("1", "bash", {"command": "ls", "timeout": 5}), TOOLS) is None
    finish = {"design": "d", "evidence": "e", "tried_and_rejected": "t", "expected_score": 21.5}
    assert validate_call(ToolCall("2", "finish", finish), TOOLS) is None


def test_malformed_calls_get_a_message_the_model_can_act_on():
    unknown = validate_call(ToolCall("1", "python", {"code": "1"}), TOOLS)
    assert "Unknown tool 'python'" in unknown and "bash, finish" in unknown
    bad_json = validate_call(ToolCall("2", "bash", {}, raw_arguments="{oops", error="invalid JSON"), TOOLS)
    assert "invalid JSON" in bad_json
    missing = validate_call(ToolCall("3", "finish", {"design": "d"}), TOOLS)
    assert "evidence" in missing and "tried_and_rejected" in missing
    assert "type integer" in validate_call(ToolCall("4", "bash", {"command": "ls", "timeout": "5"}), TOOLS)
    assert "type integer" in validate_call(ToolCall("5", "bash", {"command": "ls", "timeout": True}), TOOLS)
    assert "empty" in validate_call(ToolCall("6", "bash", {"command": "   "}), TOOLS)


def test_timeout_is_capped_and_defaulted():
    assert bash_timeout({"command": "x"}, LIMITS) == 300
    assert bash_timeout({"command": "x", "timeout": 20}, LIMITS) == 20
    assert bash_timeout({"command": "x", "timeout": 99_999}, LIMITS) == 1800
    assert bash_timeout({"command": "x", "timeout": -3}, LIMITS) == 300


def test_rendered_result_shows_status_truncation_and_where_the_full_output_is():
    result = ExecResult("make", 2, False, 1.25, "head...tail", Path("/o/cmd-0001.txt"), True, 123_456)
    text = render_exec_result(result)
    assert text.splitlines()[0] == "[exit code 2, 1.2s]"
    assert "123456 bytes" in text and "/o/cmd-0001.txt" in text and text.endswith("head...tail")
    timed_out = ExecResult("sleep 9", None, True, 5.0, "", None, False, 0)
    assert render_exec_result(timed_out) == "[TIMED OUT after 5.0s (the command was killed)]\n(no output)"


def test_streak_reaches_its_limit_only_on_consecutive_hits():
    streak = Streak(3)
    assert not streak.hit() and not streak.hit()
    streak.reset()
    assert not streak.hit() and not streak.hit()
    assert streak.hit()
    assert not Streak(0).hit()  # 0 disables the limit
