"""A tool's parameters: the model's arguments kept, framework-injected ones left out, the call id found.

The frameworks themselves run in ``nox -s frameworks`` (tests/frameworks/); here stand-in modules registered
under the frameworks' module names exercise each row of the lookup tables without installing anything.
"""

from __future__ import annotations

import asyncio
import json
import sys
import types
from typing import Annotated, Any, Optional, TypedDict

import pytest

from otel_openai import trace_tool
from otel_openai._agents import _parameters
from otel_openai._agents._parameters import (
    ANNOTATION_TYPES,
    CALL_ID_MARKERS,
    CONTEXT_TYPES,
    MARKERS,
    Parameters,
)
from tests.conftest import Telemetry


def _stand_in(monkeypatch: pytest.MonkeyPatch, module: str, name: str, obj: Any) -> Any:
    """Register ``obj`` as ``module.name`` for this test only, as if the framework were imported."""
    fake = types.ModuleType(module)
    setattr(fake, name, obj)
    monkeypatch.setitem(sys.modules, module, fake)
    return obj


def _annotate(func: Any, **hints: Any) -> Any:
    """Real annotation objects: under ``from __future__ import annotations`` a local class is only a name."""
    func.__annotations__.update(hints)
    return func


def _context_class(name: str) -> type:
    def init(self: Any, tool_call_id: Optional[str] = None) -> None:
        self.tool_call_id = tool_call_id
    return type(name, (), {"__init__": init})


# --- plain tools --------------------------------------------------------------------------------------


def test_plain_arguments_by_name() -> None:
    """Positional and keyword arguments are recorded by parameter name; defaults not passed are absent."""
    def tool(city: str, unit: str = "C", *, days: int = 1) -> None: ...

    assert Parameters(tool).arguments(("Paris",), {"days": 3}) == {"city": "Paris", "days": 3}
    assert Parameters(tool).call_id(("Paris",), {}) is None


def test_self_and_var_keyword() -> None:
    """``self``/``cls`` are left out and ``**kwargs`` are spread out."""
    class Tools:
        def method(self, city: str, **extra: Any) -> None: ...

    params = Parameters(Tools.method)
    assert params.arguments((Tools(), "Rome"), {"units": "metric"}) == {"city": "Rome", "units": "metric"}


# --- the frameworks' types and markers ----------------------------------------------------------------


@pytest.mark.parametrize("place", CONTEXT_TYPES, ids=[".".join(p) for p in CONTEXT_TYPES])
def test_framework_context_types_are_left_out_and_give_the_call_id(monkeypatch: pytest.MonkeyPatch,
                                                                    place: tuple[str, str]) -> None:
    """A parameter annotated with a framework's context type (plain or generic) is not an argument, and its
    value's ``tool_call_id`` is the call id."""
    ctx_type = _stand_in(monkeypatch, *place, _context_class(place[1]))

    def tool(ctx: Any, city: str) -> None: ...

    params = Parameters(_annotate(tool, ctx=ctx_type))
    ctx = ctx_type(tool_call_id="call_42")
    assert params.arguments((ctx, "Paris"), {}) == {"city": "Paris"}
    assert params.arguments(("not a context", "Paris"), {}) == {"city": "Paris"}  # the annotation alone tells
    assert params.call_id((ctx, "Paris"), {}) == "call_42"
    assert params.call_id((), {"ctx": ctx, "city": "Paris"}) == "call_42"


def test_generic_optional_and_subclass_annotations(monkeypatch: pytest.MonkeyPatch) -> None:
    """``RunContextWrapper[Deps]``, ``Optional[...]`` and a subclass (``ToolContext``) all count."""
    from typing import Generic, TypeVar

    T = TypeVar("T")

    class RunContextWrapper(Generic[T]):
        def __init__(self, tool_call_id: Optional[str] = None) -> None:
            self.tool_call_id = tool_call_id

    class ToolContext(RunContextWrapper[T]):
        pass

    _stand_in(monkeypatch, "agents.run_context", "RunContextWrapper", RunContextWrapper)

    def generic(ctx: Any, city: str) -> None: ...
    def optional(city: str, ctx: Any = None) -> None: ...

    _annotate(generic, ctx=RunContextWrapper[int])
    _annotate(optional, ctx=Optional[ToolContext[int]])

    ctx = ToolContext[int](tool_call_id="call_7")
    assert Parameters(generic).arguments((None, "Oslo"), {}) == {"city": "Oslo"}
    assert Parameters(optional).arguments(("Oslo",), {"ctx": ctx}) == {"city": "Oslo"}
    assert Parameters(optional).call_id(("Oslo", ctx), {}) == "call_7"


def test_annotated_markers(monkeypatch: pytest.MonkeyPatch) -> None:
    """``Annotated[T, InjectedToolArg]`` (class, instance or subclass) is left out; ``InjectedToolCallId``'s
    value is the call id."""
    class InjectedToolArg:
        pass

    class InjectedToolCallId(InjectedToolArg):
        pass

    class InjectedState(InjectedToolArg):
        pass

    (module, _), = MARKERS
    fake = types.ModuleType(module)
    fake.InjectedToolArg, fake.InjectedToolCallId = InjectedToolArg, InjectedToolCallId  # type: ignore[attr-defined]
    assert ((module, "InjectedToolCallId"),) == CALL_ID_MARKERS
    monkeypatch.setitem(sys.modules, module, fake)

    def tool(city: str, user: str, state: dict[str, Any], call: str) -> None: ...

    params = Parameters(_annotate(tool, user=Annotated[str, InjectedToolArg()],
                                  state=Annotated[dict[str, Any], InjectedState],
                                  call=Annotated[str, InjectedToolCallId]))
    args = ("Lima", "u1", {"messages": []}, "call_9")
    assert params.arguments(args, {}) == {"city": "Lima"}
    assert params.call_id(args, {}) == "call_9"


def test_types_only_an_annotation_tells(monkeypatch: pytest.MonkeyPatch) -> None:
    """LangChain's RunnableConfig is a TypedDict, a plain dict at run time: its annotation leaves it out."""
    class RunnableConfig(TypedDict, total=False):
        tags: list[str]

    (place,) = ANNOTATION_TYPES
    _stand_in(monkeypatch, *place, RunnableConfig)

    def tool(city: str, config: Any) -> None: ...
    def optional(city: str, config: Any = None) -> None: ...

    config = {"tags": ["t"], "metadata": {}, "recursion_limit": 25}
    assert Parameters(_annotate(tool, config=RunnableConfig)).arguments(("Quito", config), {}) == {"city": "Quito"}
    assert Parameters(_annotate(optional, config=Optional[RunnableConfig])).arguments(
        ("Quito",), {"config": config}) == {"city": "Quito"}


def test_unannotated_and_unresolvable_parameters_are_judged_by_value(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a usable annotation, a value that is a framework context is left out (and gives the id)."""
    ctx_type = _stand_in(monkeypatch, "pydantic_ai._run_context", "RunContext", _context_class("RunContext"))

    def bare(ctx, city):  # type: ignore[no-untyped-def]
        ...

    def unresolved(ctx: NotDefinedAnywhere, city: str) -> None: ...  # type: ignore[name-defined]  # noqa: F821

    ctx = ctx_type(tool_call_id="call_1")
    for tool in (bare, unresolved):
        assert Parameters(tool).arguments((ctx, "Kyiv"), {}) == {"city": "Kyiv"}
        assert Parameters(tool).call_id((ctx, "Kyiv"), {}) == "call_1"


def test_nothing_is_imported(monkeypatch: pytest.MonkeyPatch) -> None:
    """Analysing a tool never imports a framework module: absent modules are simply not looked at."""
    every = {module for module, _ in CONTEXT_TYPES + ANNOTATION_TYPES + MARKERS + CALL_ID_MARKERS}
    for module in every:
        monkeypatch.delitem(sys.modules, module, raising=False)

    def tool(ctx: Any, city: str) -> None: ...

    assert Parameters(tool).arguments((object(), "Cairo"), {})["city"] == "Cairo"
    assert every.isdisjoint(sys.modules)


def test_annotations_are_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The signature and annotations are read on the first call only, not per call."""
    calls = []
    real = _parameters.typing.get_type_hints

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(_parameters.typing, "get_type_hints", counting)

    def tool(city: str) -> None: ...

    params = Parameters(tool)
    for _ in range(3):
        params.arguments(("Lagos",), {})
        params.call_id(("Lagos",), {})
    assert len(calls) == 1


# --- the user's own exclusions ------------------------------------------------------------------------


class Deps:
    """A user's dependency object."""


def test_exclude_names_and_types() -> None:
    """``exclude=`` leaves out parameters by name and by type (annotation or value)."""
    def tool(deps: Deps, db: Any, city: str, secret: str) -> None: ...

    params = Parameters(tool, exclude=("secret", Deps))
    assert params.arguments((Deps(), Deps(), "Pune", "s3cr3t"), {}) == {"city": "Pune"}
    assert Parameters(tool, exclude="secret").arguments((1, 2, "Pune", "x"), {}) == {"deps": 1, "db": 2,
                                                                                        "city": "Pune"}


def test_exclude_rejects_other_things() -> None:
    """A wrong ``exclude=`` fails where it is written."""
    with pytest.raises(TypeError, match="parameter names and types"):
        trace_tool(exclude=[42])  # type: ignore[list-item]


def test_trace_tool_records_the_models_arguments_and_the_call_id(monkeypatch: pytest.MonkeyPatch,
                                                                  content: Telemetry) -> None:
    """End to end: a framework context and an excluded parameter are not recorded; the context's id is."""
    ctx_type = _stand_in(monkeypatch, "agents.run_context", "RunContextWrapper", _context_class("ToolContext"))

    def get_weather(ctx: Any, city: str, api_key: str = "") -> str:
        return "sunny"

    get_weather = trace_tool(exclude=["api_key"])(_annotate(get_weather, ctx=ctx_type))

    assert get_weather(ctx_type(tool_call_id="call_abc"), "Tokyo", api_key="k") == "sunny"
    attrs = content.only_span().attributes
    assert json.loads(attrs["gen_ai.tool.call.arguments"]) == {"city": "Tokyo"}
    assert attrs["gen_ai.tool.call.id"] == "call_abc"


def test_call_id_is_recorded_without_content(monkeypatch: pytest.MonkeyPatch, no_content: Telemetry) -> None:
    """The call id is not content: it is on the span with content capture off too."""
    ctx_type = _stand_in(monkeypatch, "agents.run_context", "RunContextWrapper", _context_class("ToolContext"))

    async def lookup(ctx: Any, city: str) -> str:
        return "rainy"

    lookup = trace_tool(_annotate(lookup, ctx=ctx_type))
    assert asyncio.run(lookup(ctx_type(tool_call_id="call_x"), "Paris")) == "rainy"
    attrs = no_content.only_span().attributes
    assert attrs["gen_ai.tool.call.id"] == "call_x"
    assert "gen_ai.tool.call.arguments" not in attrs
