"""Tool content as JSON-ready data: plain data kept, anything else a placeholder, nothing copied or walked."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import gc
import json
import pathlib
import sys
import threading
import uuid
from typing import Any, ClassVar

import pydantic
import pytest

from otel_openai import trace_tool
from otel_openai._agents._plain import placeholder, plain
from tests.conftest import Telemetry


class Exploding:
    """Stands in for a framework's HTTP client: deep-copying it fails on its lock after making a half copy
    whose ``__del__`` then prints ``Exception ignored in ...`` on stderr (the Agents SDK's client did that
    under ``dataclasses.asdict``). Copying, pickling or printing it at all would be a bug."""

    touched: ClassVar[list[str]] = []

    def __init__(self) -> None:
        self._state = "open"
        self._lock = threading.RLock()

    def __reduce_ex__(self, protocol: Any) -> Any:
        Exploding.touched.append("copy")
        return object.__reduce_ex__(self, protocol)

    def __repr__(self) -> str:
        Exploding.touched.append("repr")
        return "Exploding(" + "x" * 20_000 + ")"

    __str__ = __repr__

    def __del__(self) -> None:
        self._state  # noqa: B018 -- a half-made copy has no _state: AttributeError, printed by Python


@dataclasses.dataclass
class Context:
    """A framework context: a dataclass, but not of plain values."""

    deps: Any
    run_step: int = 0


@dataclasses.dataclass
class Point:
    x: int
    label: str
    tags: tuple[str, ...] = ()


@dataclasses.dataclass
class Route:
    start: Point
    stops: list[Point]


class Sky(enum.Enum):
    CLEAR = "clear"


@pytest.fixture(autouse=True)
def _reset_touched() -> None:
    Exploding.touched.clear()


@pytest.fixture
def unraisable(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """What Python would print as ``Exception ignored in ...`` during the test."""
    seen: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", seen.append)
    return seen


def test_json_types_stay_as_they_are() -> None:
    """Strings, numbers, booleans, None, lists and dicts are kept; tuples and sets become lists."""
    value = {"a": [1, 2.5, True, None, "x"], "b": (1, 2), "c": {"k": frozenset({3})}}
    assert plain(value) == {"a": [1, 2.5, True, None, "x"], "b": [1, 2], "c": {"k": [3]}}


def test_keys_become_strings() -> None:
    """Dict keys that are not strings become their JSON text; an object key becomes its placeholder."""
    assert plain({1: "a", None: "b", (1, "x"): "c", Exploding(): "d"}) == {
        "1": "a", "null": "b", '[1,"x"]': "c", "<Exploding object>": "d"}


def test_pydantic_models_use_their_own_serializer() -> None:
    """A pydantic model is its JSON dump; one holding values pydantic cannot serialize is a placeholder."""
    class Weather(pydantic.BaseModel):
        city: str
        when: datetime.date

    class Holder(pydantic.BaseModel):
        model_config = pydantic.ConfigDict(arbitrary_types_allowed=True)
        thing: Exploding

    assert plain(Weather(city="Paris", when=datetime.date(2026, 1, 2))) == {"city": "Paris", "when": "2026-01-02"}
    assert plain(Holder(thing=Exploding())) == "<Holder object>"


def test_dataclasses_of_plain_values_become_dicts() -> None:
    """A dataclass whose fields are plain data (nested dataclasses too) is a dict of its fields."""
    route = Route(Point(1, "home", ("a",)), [Point(2, "shop")])
    assert plain(route) == {"start": {"x": 1, "label": "home", "tags": ["a"]},
                            "stops": [{"x": 2, "label": "shop", "tags": []}]}


def test_a_dataclass_holding_an_object_is_a_placeholder() -> None:
    """A dataclass with any value that is not plain data (a framework context) becomes one placeholder."""
    assert plain(Context(deps=Exploding())) == "<Context object>"
    assert plain({"ctx": Context(deps={"client": Exploding()}), "n": 1}) == {"ctx": "<Context object>", "n": 1}
    assert plain(Route(Point(1, "a"), [Point(2, "b"), Context(Exploding())])) == "<Route object>"  # type: ignore[list-item]


def test_standard_value_types_are_their_value() -> None:
    """Dates, times, UUIDs, decimals, paths and enums are recorded as the value they stand for."""
    when = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    ident = uuid.UUID(int=7)
    assert plain([when, datetime.time(9, 30), ident, decimal.Decimal("1.50"), pathlib.PurePosixPath("/tmp/x"),
                  Sky.CLEAR]) == ["2026-01-02T03:04:05+00:00", "09:30:00", str(ident), "1.50", "/tmp/x", "clear"]


def test_anything_else_is_a_short_placeholder() -> None:
    """Other objects, bytes, classes and functions become ``<TypeName object>``, with the name bounded."""
    long_name = type("N" * 500, (), {})
    assert plain([Exploding(), b"abc", len, long_name()]) == [
        "<Exploding object>", "<bytes object>", "<builtin_function_or_method object>", f"<{'N' * 64} object>"]
    assert placeholder(Exploding()) == "<Exploding object>"


def test_cycles_end_in_a_placeholder() -> None:
    """A self-containing list stops at the depth limit instead of recursing forever."""
    cycle: list[Any] = []
    cycle.append(cycle)
    assert "<list object>" in json.dumps(plain(cycle))


def test_nothing_is_copied_pickled_or_printed(content: Telemetry, capfd: pytest.CaptureFixture[str],
                                              unraisable: list[Any]) -> None:
    """A tool given and returning objects whose copy, pickle or repr would explode records placeholders,
    calls none of those, and leaves stderr empty (warnings are errors here)."""
    @trace_tool
    def tool(ctx: Any, city: str) -> Any:
        return Context(deps=Exploding())

    tool(Context(deps={"client": Exploding()}), "Paris")
    gc.collect()
    attrs = content.only_span().attributes
    assert json.loads(attrs["gen_ai.tool.call.arguments"]) == {"ctx": "<Context object>", "city": "Paris"}
    assert json.loads(attrs["gen_ai.tool.call.result"]) == {"value": "<Context object>"}
    assert Exploding.touched == []
    assert unraisable == []
    assert capfd.readouterr().err == ""


def test_the_issue_shape_deepcopy_would_have_failed(unraisable: list[Any]) -> None:
    """The objects above really break a deep copy, and the half copy's ``__del__`` fails: the test above
    would catch a return to ``dataclasses.asdict``."""
    with pytest.raises(TypeError, match="pickle"):
        dataclasses.asdict(Context(deps=Exploding()))
    gc.collect()
    assert Exploding.touched == ["copy"]
    assert [type(u.exc_value) for u in unraisable] == [AttributeError]
