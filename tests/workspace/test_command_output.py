"""Output capping: the model gets head + tail and a marker; the host log keeps a bounded head and tail."""

from __future__ import annotations

from pathlib import Path

import pytest

from glia.workspace.base import Limits
from glia.workspace.commands import killed_note, looks_timed_out, resolve_timeout, sandbox_environment
from glia.workspace.output import CommandLogs, OutputCapture


def capture_all(path: Path, chunks: list[bytes], limit: int) -> OutputCapture:
    capture = OutputCapture(path, limit)
    for chunk in chunks:
        capture.write(chunk)
    capture.close()
    return capture


def test_short_output_is_returned_whole(tmp_path):
    capture = capture_all(tmp_path / "cmd-1.log", [b"hello\n", b"world\n"], limit=100)
    assert capture.excerpt() == ("hello\nworld\n", False)
    assert capture.total_bytes == 12


def test_long_output_keeps_head_and_tail_and_says_what_was_cut(tmp_path):
    lines = [f"line {i:06d}\n".encode() for i in range(100_000)]  # 1.2 MB
    path = tmp_path / "outputs" / "cmd-3.log"
    path.parent.mkdir()
    capture = capture_all(path, lines, limit=1000)
    text, truncated = capture.excerpt()
    assert truncated
    assert text.startswith("line 000000\n")
    assert text.endswith("line 099999\n")
    body_chars = len(text) - len(text[text.index("\n[...") : text.index("...]\n") + 5])
    assert body_chars == 1000
    assert "outputs/cmd-3.log" in text
    assert f"of {12 * 100_000} bytes cut" in text
    assert path.read_bytes() == b"".join(lines)  # 1.2 MB: under the log's default cap, kept whole


def test_output_just_over_the_limit_is_cut_in_the_middle(tmp_path):
    capture = capture_all(tmp_path / "cmd-1.log", [b"a" * 60, b"b" * 60], limit=100)
    text, truncated = capture.excerpt()
    assert truncated
    assert text.startswith("a" * 50 + "\n[...")
    assert text.endswith("...]\n" + "b" * 50)
    assert "20 of 120 bytes cut" in text


def test_multibyte_characters_count_as_characters(tmp_path):
    snowmen = "☃" * 100  # 300 bytes, 100 characters: fits a 100-character limit
    capture = capture_all(tmp_path / "cmd-1.log", [snowmen.encode()], limit=100)
    assert capture.excerpt() == (snowmen, False)


def test_the_log_keeps_head_and_tail_and_counts_the_cut_middle(tmp_path):
    path = tmp_path / "cmd-1.log"
    keep = 1000
    capture = OutputCapture(path, 100, keep_bytes=keep)
    data = b"".join(f"{i:09d}\n".encode() for i in range(10_000))  # 100 kB
    for start in range(0, len(data), 777):
        capture.write(data[start : start + 777])
    capture.close()
    saved = path.read_bytes()
    assert saved.startswith(data[:keep]) and saved.endswith(data[-keep:])
    assert capture.cut_bytes == len(data) - 2 * keep
    assert f"{len(data) - 2 * keep} bytes of output cut here".encode() in saved
    assert len(saved) < 2 * keep + 200
    assert capture.total_bytes == len(data)
    text, truncated = capture.excerpt()  # the model's view is unaffected by the log's cap
    assert truncated and text.startswith("000000000\n") and text.endswith("000009999\n")


def test_output_under_twice_the_cap_is_logged_whole(tmp_path):
    path = tmp_path / "cmd-1.log"
    capture = OutputCapture(path, 100, keep_bytes=1000)
    capture.write(b"a" * 1500)
    capture.write(b"b" * 500)
    capture.close()
    assert path.read_bytes() == b"a" * 1500 + b"b" * 500
    assert capture.cut_bytes == 0


def test_one_huge_chunk_is_capped_too(tmp_path):
    path = tmp_path / "cmd-1.log"
    capture = OutputCapture(path, 100, keep_bytes=10)
    capture.write(b"H" * 10 + b"m" * 10_000 + b"T" * 10)
    capture.close()
    saved = path.read_bytes()
    assert saved.startswith(b"H" * 10 + b"\n[... glia: 10000 bytes") and saved.endswith(b"...]\n" + b"T" * 10)


def test_log_numbers_continue_after_existing_logs(tmp_path):
    (tmp_path / "cmd-7.log").write_text("from before a crash")
    logs = CommandLogs(tmp_path)
    assert [logs.next_path().name for _ in range(2)] == ["cmd-8.log", "cmd-9.log"]


def test_timeouts_default_and_are_capped():
    limits = Limits(default_timeout_s=300, max_timeout_s=1800)
    assert resolve_timeout(None, limits) == 300
    assert resolve_timeout(12.5, limits) == 12.5
    assert resolve_timeout(99_999, limits) == 1800
    with pytest.raises(ValueError):
        resolve_timeout(0, limits)


def test_timed_out_needs_both_the_exit_code_and_the_elapsed_time():
    assert looks_timed_out(124, 10.0, 10.0)
    assert looks_timed_out(137, 15.1, 10.0)
    assert not looks_timed_out(124, 0.1, 10.0)  # the command itself exited 124
    assert not looks_timed_out(0, 20.0, 10.0)


def test_sandbox_environment_carries_nothing_from_the_host(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-secret")
    env = sandbox_environment("/tmp")
    assert "OPENAI_API_KEY" not in env
    assert env["HOME"] == "/tmp" and env["PYTHONUNBUFFERED"] == "1"
    assert "sk-test-secret" not in "".join(env.values())


def test_a_note_explains_commands_killed_by_signals():
    limits = Limits(memory="2g")
    assert "SIGKILL (exit code 137)" in killed_note(137, False, limits)
    assert "memory limit of 2g" in killed_note(137, False, limits)
    assert "SIGSEGV (exit code 139)" in killed_note(139, False, limits)
    assert killed_note(137, True, limits) == ""  # the time limit did it: timed_out says so
    assert killed_note(1, False, limits) == killed_note(None, False, limits) == ""
