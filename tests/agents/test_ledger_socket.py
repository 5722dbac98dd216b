"""The ledger socket server against well-formed and hostile clients (real unix sockets, no Docker)."""

from __future__ import annotations

import contextlib
import os
import socket
import stat
import threading
import time

import pytest

from glia.agents.ledger_socket import LedgerServer, ServerLimits, clean_text

from .ledger_helpers import (
    RecordingHandler,
    connect,
    end_message,
    read_answer,
    send,
    simulate,
    start_message,
    wait_until,
)

FAST = ServerLimits(first_line_timeout_s=0.5, end_timeout_s=30.0, send_timeout_s=1.0)


@pytest.fixture
def handler() -> RecordingHandler:
    return RecordingHandler()


@pytest.fixture
def server(handler):
    with LedgerServer(handler, FAST) as running:
        yield running


def test_a_start_and_an_end_reach_the_handler_checked(server, handler):
    summary = {"valid": True, "mean_e2e": 31.5, "router": "ai", "num_requests": 7500}
    with connect(server.path) as sock:
        send(sock, start_message({"router": "ai", "duration": 1000.0, "skip": True, "blocks": None}))
        assert read_answer(sock) == {"ok": True, "simulation": 1}
        send(sock, end_message(True, None, summary))
        assert read_answer(sock) is None  # the server hangs up after the end
    [(_, start)] = handler.starts
    assert start.conditions == {"router": "ai", "duration": 1000.0, "skip": True, "blocks": None}
    assert (start.result_dir, start.problems) == ("simulator_results/x/1", ())
    assert wait_until(lambda: handler.ends)
    [(_, end)] = handler.ends
    assert (end.valid, end.error, end.summary, end.problems) == (True, None, summary, ())
    assert handler.lost == []


def test_wrong_types_still_count_but_their_fields_are_marked_unreadable(server, handler):
    with connect(server.path) as sock:
        send(sock, {"op": "start", "conditions": {"router": ["ai"]}, "result_dir": 7})
        assert read_answer(sock)["ok"] is True
        send(sock, {"op": "end", "valid": "yes", "error": 3, "summary": {"mean_e2e": {"x": 1}}})
    assert wait_until(lambda: handler.ends)
    [(_, start)] = handler.starts
    assert start.conditions is None and start.result_dir is None
    assert start.problems == (
        "conditions.router is not a string, number, boolean or null",
        "result_dir is not a string",
    )
    [(_, end)] = handler.ends
    assert end.valid is None and end.summary is None and len(end.problems) == 3


def test_an_infinite_number_is_valid_json_but_an_unreadable_condition(server, handler):
    with connect(server.path) as sock:
        send(sock, b'{"op": "start", "conditions": {"duration": 1e999}}\n')
        assert read_answer(sock)["ok"] is True
    [(_, start)] = handler.starts
    assert start.conditions is None
    assert start.problems == ("conditions.duration is not a string, number, boolean or null",)


@pytest.mark.parametrize(
    "first_line",
    [
        b"\x00\xff\xfe garbage \x80\n",
        b"[1, 2, 3]\n",
        b'{"op": "end", "valid": true}\n',
        b'{"op": "START", "conditions": {}}\n',
        b'{"op": "start", "conditions": {"x": NaN}}\n',
        b"[" * 100_000 + b"\n",
    ],
)
def test_a_first_line_that_is_not_a_start_is_refused_and_costs_nothing(server, handler, first_line):
    with connect(server.path) as sock:
        send(sock, first_line)
        answer = read_answer(sock)
    assert answer["ok"] is False and answer["error"]
    assert handler.starts == [] and handler.lost == []
    assert simulate(server.path)["ok"] is True  # and the server still serves


def test_a_huge_line_is_cut_off_at_the_limit_without_reading_it_all(server, handler):
    with connect(server.path) as sock:
        sock.settimeout(10)
        payload = b'{"op": "start", "conditions": {"pad": "' + b"x" * (4 * 2**20)
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(payload)  # the server stops reading after 64 KiB and hangs up
        answer = read_answer(sock)
    assert answer == {"ok": False, "error": "a line is limited to 65536 bytes"}
    assert handler.starts == []


def test_ten_thousand_lines_on_one_connection_count_once(server, handler):
    with connect(server.path) as sock:
        send(sock, start_message())
        assert read_answer(sock)["ok"] is True
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            send(sock, b'{"op": "noise"}\n' * 10_000)
    assert wait_until(lambda: handler.lost)
    assert len(handler.starts) == 1 and handler.ends == []
    assert handler.lost[0][1] == "the run sent no readable end"


def test_only_the_first_lines_are_read_an_end_after_them_is_ignored(server, handler):
    with connect(server.path) as sock:
        send(sock, start_message())
        read_answer(sock)
        for _ in range(3):
            send(sock, b"not json\n")
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # it may have hung up already
            send(sock, end_message())
    assert wait_until(lambda: handler.lost)
    assert handler.ends == []


def test_a_connection_that_never_speaks_is_dropped_after_the_first_line_timeout(server, handler):
    started = time.monotonic()
    with connect(server.path, timeout=5) as sock:
        assert read_answer(sock) is None  # the server hangs up
    assert time.monotonic() - started < 3
    assert handler.starts == [] and handler.lost == []
    assert wait_until(lambda: server.open_connections == 0)


def test_a_hundred_connections_at_once_are_capped_and_the_server_recovers(handler):
    patient = ServerLimits(first_line_timeout_s=5.0, end_timeout_s=30.0, send_timeout_s=1.0)
    server = LedgerServer(handler, patient)
    server.start()
    held = [connect(server.path) for _ in range(100)]
    try:
        assert wait_until(lambda: server.refused_busy >= 100 - FAST.max_connections)
        assert server.open_connections <= FAST.max_connections
        refused = 0
        for sock in held:
            sock.settimeout(0.05)
            try:
                answer = read_answer(sock)
            except TimeoutError:
                continue
            if answer and answer.get("error") == "too many open connections to the ledger":
                refused += 1
        assert refused == 100 - FAST.max_connections
    finally:
        for sock in held:
            sock.close()
    try:
        assert wait_until(lambda: server.open_connections == 0)
        assert simulate(server.path)["ok"] is True
        assert len(handler.starts) == 1
    finally:
        server.close()


def test_a_client_that_never_reads_its_answer_does_not_block_the_server(server, handler):
    sock = connect(server.path)
    send(sock, start_message())  # and never read the answer
    send(sock, end_message())
    assert wait_until(lambda: handler.ends)
    assert simulate(server.path)["ok"] is True
    sock.close()


def test_a_client_that_starts_and_hangs_is_lost_when_the_server_closes(handler):
    server = LedgerServer(handler, FAST)
    path = server.start()
    sock = connect(path)
    send(sock, start_message())
    assert read_answer(sock)["ok"] is True
    started = time.monotonic()
    server.close()
    assert time.monotonic() - started < 2
    assert handler.lost == [(1, "the context ended while the run was in progress")]
    assert not path.parent.exists()
    sock.close()


def test_a_connection_closed_without_end_is_a_lost_run(server, handler):
    with connect(server.path) as sock:
        send(sock, start_message())
        assert read_answer(sock)["ok"] is True
    assert wait_until(lambda: handler.lost)
    assert handler.lost[0][1] == "the run ended without reporting its end (crashed or killed)"


def test_a_refusal_is_answered_and_nothing_more_is_read(handler):
    handler.refuse = "the simulation budget of this run is spent"
    with LedgerServer(handler, FAST) as server, connect(server.path) as sock:
        send(sock, start_message())
        assert read_answer(sock) == {"ok": False, "error": "the simulation budget of this run is spent"}
        assert read_answer(sock) is None
    assert handler.lost == [] and handler.ends == []


def test_concurrent_runs_are_served_in_parallel(handler):
    handler.start_delay_s = 0.2
    with LedgerServer(handler, FAST) as server:
        threads = [threading.Thread(target=simulate, args=(server.path,)) for _ in range(8)]
        began = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(handler.starts) == 8
        assert wait_until(lambda: len(handler.ends) == 8)
        assert time.monotonic() - began < 8 * 0.2 + 1


def test_the_socket_lives_in_a_private_folder_with_a_short_path(server):
    path = server.path
    assert len(os.fsencode(path)) <= 107
    assert stat.S_ISSOCK(path.stat().st_mode)
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o666


def test_a_long_socket_folder_is_refused_with_a_clear_error(tmp_path, handler):
    deep = tmp_path / ("d" * 100)
    deep.mkdir()
    with pytest.raises(OSError, match="longer than 107 bytes"):
        LedgerServer(handler, FAST, socket_dir=deep).start()


def test_clean_text_removes_control_characters_and_bounds_length():
    assert clean_text("ok\x1b[31mred\x07\n") == "ok?[31mred??"
    assert clean_text("x" * 5000, 10) == "x" * 10 + "…"


def test_close_is_idempotent_and_refuses_new_connections(handler):
    server = LedgerServer(handler, FAST)
    path = server.start()
    server.close()
    server.close()
    with pytest.raises(OSError), socket.socket(socket.AF_UNIX) as sock:
        sock.connect(str(path))
