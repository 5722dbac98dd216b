import json
import threading

from glia.record.transcript import SCHEMA_VERSION, Transcript, read_events


def test_events_round_trip_with_version_sequence_and_timestamp(tmp_path):
    path = tmp_path / "ctx" / "transcript.jsonl"
    with Transcript(path) as transcript:
        first = transcript.append("user", text="hello")
        transcript.append("tool_result", id="c1", output="é ✓", exit_code=0, output_path=tmp_path / "out.txt")
    events = read_events(path)
    assert [e["type"] for e in events] == ["user", "tool_result"]
    assert [e["seq"] for e in events] == [0, 1]
    assert all(e["v"] == SCHEMA_VERSION and e["ts"].endswith("+00:00") for e in events)
    assert events[0] == first
    assert events[1]["output"] == "é ✓"
    assert events[1]["output_path"] == str(tmp_path / "out.txt")
    assert len(path.read_text().splitlines()) == 2


def test_a_torn_last_line_is_skipped_and_appending_continues_cleanly(tmp_path):
    path = tmp_path / "transcript.jsonl"
    with Transcript(path) as transcript:
        transcript.append("user", text="one")
        transcript.append("user", text="two")
    with path.open("a") as handle:  # what kill -9 in the middle of a write leaves
        handle.write('{"v": 1, "seq": 2, "type": "assis')
    assert [e["text"] for e in read_events(path)] == ["one", "two"]

    with Transcript(path) as transcript:
        event = transcript.append("user", text="three")
    assert event["seq"] == 2
    assert [e["text"] for e in read_events(path)] == ["one", "two", "three"]
    assert path.read_text().endswith('"three"}\n')


def test_concurrent_appends_never_interleave(tmp_path):
    path = tmp_path / "transcript.jsonl"
    transcript = Transcript(path)

    def writer(n: int) -> None:
        for i in range(50):
            transcript.append("tool_result", writer=n, i=i, output="x" * 500)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    transcript.close()
    lines = path.read_text().splitlines()
    assert len(lines) == 400
    events = [json.loads(line) for line in lines]
    assert sorted(e["seq"] for e in events) == list(range(400))
    assert {(e["writer"], e["i"]) for e in events} == {(n, i) for n in range(8) for i in range(50)}


def test_missing_file_reads_as_empty(tmp_path):
    assert read_events(tmp_path / "nothing.jsonl") == []
