"""The one registry class the extension points share: order, duplicates, missing names, their messages."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from glia.registry import Registry


@dataclass(frozen=True)
class Thing:
    name: str
    weight: int = 0


class NoSuchThing(LookupError):
    pass


def test_things_come_back_by_name_in_registration_order() -> None:
    things: Registry[Thing] = Registry("thing {name!r} again")
    for name in ("b", "a", "c"):
        things.register(Thing(name))
    assert things.names() == ("b", "a", "c")
    assert [t.name for t in things] == ["b", "a", "c"]
    assert things.items() == (Thing("b"), Thing("a"), Thing("c"))
    assert things.get("a") == Thing("a") and things.find("a") == Thing("a")
    assert "c" in things and "d" not in things and len(things) == 3
    things.unregister("a")
    things.unregister("never there")
    assert things.names() == ("b", "c") and things.find("a") is None


def test_a_second_thing_of_one_name_is_refused_with_the_owners_message() -> None:
    things: Registry[Thing] = Registry("thing {name!r} is registered already")
    things.register(Thing("x", 1))
    with pytest.raises(ValueError, match=r"^thing 'x' is registered already$"):
        things.register(Thing("x", 2))
    assert things.get("x").weight == 1


def test_a_missing_name_raises_the_owners_exception() -> None:
    things: Registry[Thing] = Registry("dup", lambda name: NoSuchThing(f"no {name!r}; have {things.names()}"))
    things.register(Thing("y"))
    with pytest.raises(NoSuchThing, match=r"no 'z'; have \('y',\)"):
        things.get("z")
    with pytest.raises(KeyError):
        Registry[Thing]("dup").get("z")


def test_iterating_while_registering_sees_the_registry_as_it_was() -> None:
    things: Registry[Thing] = Registry("dup")
    things.register(Thing("p"))
    for thing in things:
        things.register(Thing(thing.name + "2"))
    assert things.names() == ("p", "p2")
