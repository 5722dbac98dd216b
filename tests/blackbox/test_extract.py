"""Reading designs out of model replies: the format the prompts ask for, and precise errors otherwise."""

from __future__ import annotations

from glia.blackbox.extract import read_design, stated_idea

ONE = ("pkg/design.py",)


def test_one_block_is_the_whole_file_and_the_idea_is_read() -> None:
    reply = "Idea: route by free memory.\n\n```python\ndef f():\n    return 1\n```\n"
    design = read_design(reply, ONE)
    assert design.error is None
    assert design.files == {"pkg/design.py": "def f():\n    return 1\n"}
    assert design.idea == "route by free memory."


def test_a_reply_without_code_says_so() -> None:
    design = read_design("Idea: something clever.\nBut no code.", ONE)
    assert design.files is None
    assert design.error == "the reply has no fenced code block holding the design file"
    assert design.idea == "something clever."


def test_a_block_labelled_with_the_path_wins_over_others() -> None:
    reply = (
        "An example first:\n```python\nprint('a much longer example block that is not the design at all')\n```\n"
        "pkg/design.py\n```python\nX = 1\n```\n"
    )
    assert read_design(reply, ONE).files == {"pkg/design.py": "X = 1\n"}


def test_without_labels_the_longest_block_is_the_file() -> None:
    reply = "```\nshort\n```\n\n```python\nlonger = 'the design'\n```\n"
    assert read_design(reply, ONE).files == {"pkg/design.py": "longer = 'the design'\n"}


def test_a_longer_fence_may_hold_backticks() -> None:
    reply = "````python\ndoc = '''\n```\nnot a fence end\n```\n'''\n````\n"
    assert read_design(reply, ONE).files == {"pkg/design.py": "doc = '''\n```\nnot a fence end\n```\n'''\n"}


def test_several_design_files_need_a_label_each() -> None:
    files = ("a.py", "b.py")
    reply = "a.py\n```python\nA = 1\n```\nb.py\n```python\nB = 2\n```\n"
    assert read_design(reply, files).files == {"a.py": "A = 1\n", "b.py": "B = 2\n"}
    missing = read_design("a.py\n```python\nA = 1\n```\n", files)
    assert missing.files is None
    assert "b.py" in (missing.error or "")


def test_an_idea_is_shortened_and_markdown_is_dropped() -> None:
    assert stated_idea("**Idea:** hold requests back") == "hold requests back"
    long = stated_idea("Idea: " + "x" * 1000)
    assert long is not None and len(long) == 300 and long.endswith("…")
    assert stated_idea("no idea line here") is None
