"""Fixtures for the agent tests; the helpers themselves live in `scripting.py`."""

import threading
from pathlib import Path

import pytest

from glia.task import Task

from .scripting import make_task, write_template


@pytest.fixture
def simulator_template(tmp_path: Path) -> Path:
    return write_template(tmp_path)


@pytest.fixture
def task(simulator_template: Path) -> Task:
    return make_task(simulator_template)


@pytest.fixture
def stop() -> threading.Event:
    return threading.Event()
