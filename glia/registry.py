"""One registry of named things, for every extension point that holds them by name.

Task kinds (`glia.task_kinds`), strategies (`glia.strategies`) and the Researcher's tools
(`glia.agents.tools`) each keep one `Registry`; each package still states its own words for a name
registered twice or not registered at all, since the messages are what a user (or a model) reads.
Registration order is kept: it is the order tools are offered in and task kinds are asked in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, Protocol, TypeVar


class Named(Protocol):
    @property
    def name(self) -> str: ...


T = TypeVar("T", bound=Named)


class Registry(Generic[T]):
    """Things by their `name`, in registration order.

    `duplicate` is the message of the ValueError a second registration of a name raises (`{name!r}` is
    filled in); `missing(name)` makes the exception `get` raises for a name nobody registered.
    """

    def __init__(self, duplicate: str, missing: Callable[[str], Exception] = KeyError) -> None:
        self._items: dict[str, T] = {}
        self._duplicate = duplicate
        self._missing = missing

    def register(self, item: T) -> None:
        """Add `item` after those registered before it; its name must be new."""
        if item.name in self._items:
            raise ValueError(self._duplicate.format(name=item.name))
        self._items[item.name] = item

    def unregister(self, name: str) -> None:
        """Forget `name` (nothing happens when it is not registered)."""
        self._items.pop(name, None)

    def find(self, name: str) -> T | None:
        return self._items.get(name)

    def get(self, name: str) -> T:
        """The thing registered as `name`; raises `missing(name)` when there is none."""
        try:
            return self._items[name]
        except KeyError:
            raise self._missing(name) from None

    def names(self) -> tuple[str, ...]:
        return tuple(self._items)

    def items(self) -> tuple[T, ...]:
        return tuple(self._items.values())

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[T]:
        return iter(tuple(self._items.values()))

    def __len__(self) -> int:
        return len(self._items)
