"""The channel between core and design: framing, nested calls, and hostile peers."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time

import numpy as np
import pytest

from glia.isolation import Channel, ChannelError, CodecError, RemoteError, decode, encode


def pair(**handlers):
    """Two connected channel ends; the second serves `handlers` in a thread until the first closes."""
    left, right = socket.socketpair()
    core = Channel(left)
    design = Channel(right, handlers)
    thread = threading.Thread(target=lambda: _serve_quietly(design), daemon=True)
    thread.start()
    return core, design, thread


def _serve_quietly(channel: Channel) -> None:
    with contextlib.suppress(ChannelError):
        channel.serve()


def test_calls_return_values_and_raise_the_peers_errors() -> None:
    def fail(x):
        raise ValueError(f"bad {x}")

    core, _, _ = pair(add=lambda a, b: a + b, fail=fail)
    assert core.call("add", 2, 3) == 5
    with pytest.raises(RemoteError) as caught:
        core.call("fail", 7)
    assert caught.value.kind == "ValueError" and caught.value.message == "bad 7"
    with pytest.raises(RemoteError, match="no handler named 'missing'"):
        core.call("missing")
    assert core.call("add", [1], [2]) == [1, 2]  # the channel still works after failures
    core.close()


def test_the_callee_may_call_back_while_it_answers() -> None:
    left, right = socket.socketpair()
    core = Channel(left, {"lookup": lambda key: {"a": 1, "b": 2}[key]})
    design = Channel(right)
    design.handlers["decide"] = lambda keys: sum(design.call("lookup", k) for k in keys)
    threading.Thread(target=lambda: _serve_quietly(design), daemon=True).start()
    assert core.call("decide", ["a", "b", "b"]) == 5
    core.close()


def test_a_silent_peer_times_out_and_a_vanished_one_is_reported() -> None:
    core, design, _ = pair(sleep=lambda s: time.sleep(s))
    started = time.monotonic()
    with pytest.raises(ChannelError, match=r"no answer to sleep\(\) came within the time limit"):
        core.call("sleep", 5, timeout_s=0.3)
    assert time.monotonic() - started < 2

    left, right = socket.socketpair()
    right.close()
    with pytest.raises(ChannelError, match="peer"):
        Channel(left).call("anything", timeout_s=2)


@pytest.mark.parametrize(
    "frame",
    [
        struct.pack(">I", 2**31) + b"x",  # a frame over the cap
        struct.pack(">I", 5) + b"nope!",  # not JSON
        struct.pack(">I", 2) + b"[]",  # not a message
        struct.pack(">I", 13) + b'[1, 999, "x"]',  # an answer to a call never made
        struct.pack(">I", 12) + b"[0, 1, 5, 6]",  # a malformed call
    ],
)
def test_hostile_frames_end_the_channel_with_a_protocol_error(frame: bytes) -> None:
    left, right = socket.socketpair()
    core = Channel(left)
    right.sendall(frame)
    with pytest.raises(ChannelError):
        core.call("anything", timeout_s=2)
    right.close()


def test_a_peer_that_never_reads_cannot_block_a_sender_forever() -> None:
    left, right = socket.socketpair()
    core = Channel(left, send_timeout_s=0.5)
    started = time.monotonic()
    with pytest.raises(ChannelError, match="stopped reading"):
        for _ in range(1000):
            core._send([0, 1, "x", ["y" * 100_000]])
    assert time.monotonic() - started < 5
    right.close()


def test_codec_carries_arrays_and_bytes_and_refuses_unsafe_payloads() -> None:
    array = np.arange(6, dtype=np.float32).reshape(2, 3)
    back = decode(encode({"a": array, "b": b"\x00\xff", "n": float("inf")}))
    assert back["a"].dtype == np.float32 and back["a"].tolist() == array.tolist()
    assert back["b"] == b"\x00\xff" and back["n"] == float("inf")
    with pytest.raises(CodecError):
        encode(object())
    with pytest.raises(CodecError):
        encode(np.array(["text"], dtype=object))
    for hostile in (
        b'{"__glia__": "ndarray", "dtype": "object", "shape": [1], "b64": ""}',
        b'{"__glia__": "ndarray", "dtype": "int64", "shape": [1000000000], "b64": ""}',
        b'{"__glia__": "pickle", "data": "x"}',
        b"[" * 100_000,
    ):
        with pytest.raises(CodecError):
            decode(hostile)


def test_frames_split_or_packed_any_way_arrive_whole_and_in_order() -> None:
    """One recv may bring part of a frame, or several frames: the reader reassembles them exactly."""
    left, right = socket.socketpair()
    core = Channel(left)
    frames = b"".join(
        struct.pack(">I", len(payload)) + payload
        for payload in (encode([0, 1, "a", [1.5, "x"]]), encode([0, 2, "b", [[1] * 3000]]))
    )

    def feed() -> None:  # the first 39 bytes three at a time, then the rest in one piece
        for i in range(0, 39, 3):
            right.sendall(frames[i : i + 3])
            time.sleep(0.0001)
        right.sendall(frames[39:])

    feeder = threading.Thread(target=feed)
    feeder.start()
    first = core._receive(time.monotonic() + 5, waiting_for=None)
    second = core._receive(time.monotonic() + 5, waiting_for=None)
    feeder.join()
    assert first == [0, 1, "a", [1.5, "x"]] and second == [0, 2, "b", [[1] * 3000]]
    assert core.frames_in == 2 and not core._buffer
    right.close()
    with pytest.raises(ChannelError):  # a peer that hangs up between frames ends serving normally
        core._receive(None, waiting_for="x")


def test_the_channel_leaves_numpy_unloaded_in_a_design_host() -> None:
    """A design host without arrays never pays for importing numpy (a large share of its CPU time)."""
    import subprocess
    import sys

    code = (
        "import sys; from glia.isolation import encode, decode; "
        "assert decode(encode([1, 2.5, b'x', 'y'])) == [1, 2.5, b'x', 'y']; "
        "print('numpy' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
