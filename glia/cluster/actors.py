"""Glia's classes as Ray actor classes, each made once and only when first used (importing needs no Ray)."""

from __future__ import annotations

import threading
from typing import Any

_made: dict[type, Any] = {}
_lock = threading.Lock()


def actor_class(cls: type) -> Any:
    """`ray.remote(cls)`, made once per class for the whole process."""
    import ray

    with _lock:
        if cls not in _made:
            _made[cls] = ray.remote(cls)
        return _made[cls]
