"""OpenAIInstrumentor: entry point, dependencies, install/uninstall replaying the wrap table."""

from __future__ import annotations

import importlib
import logging
from importlib.metadata import entry_points
from typing import Any

import wrapt

from otel_openai import OpenAIInstrumentor, _active, _config, _wrap
from otel_openai import _semconv as sc
from tests.conftest import fixture_json, json_response, make_client, sse_response

MESSAGES = [{"role": "user", "content": "Hi"}]


def _rows() -> list[tuple[Any, str, Any]]:
    """(owner, attribute, current raw value) for every wrap-table row this SDK has."""
    found = []
    for module, name, _wrapper, _required in _wrap.WRAPS:
        try:
            owner = importlib.import_module(module)
        except ImportError:
            continue
        *path, attr = name.split(".")
        for part in path:
            owner = getattr(owner, part, None)
        if owner is not None and attr in vars(owner):
            found.append((owner, attr, vars(owner)[attr]))
    return found


def _chat() -> None:
    client = make_client(lambda r: json_response(fixture_json("chat/plain.json")))
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)


def test_entry_point_registered() -> None:
    """The ``opentelemetry_instrumentor`` entry point named ``openai`` loads our instrumentor."""
    (ep,) = [e for e in entry_points(group="opentelemetry_instrumentor") if e.name == "openai"]
    assert ep.load() is OpenAIInstrumentor


def test_instrumentation_dependencies() -> None:
    """The instrumentor declares the openai range it supports."""
    deps = list(OpenAIInstrumentor().instrumentation_dependencies())
    assert len(deps) == 1 and deps[0].replace(" ", "").startswith("openai>=1")


def test_install_and_uninstall_replay_the_table(instrument: Any) -> None:
    """Every row is wrapped while instrumented, and exactly the original object is back afterwards."""
    before = _rows()
    assert before and not any(isinstance(v, wrapt.FunctionWrapper) for _, _, v in before)
    instrument()
    during = _rows()
    assert len(during) == len(before)
    assert all(isinstance(v, wrapt.FunctionWrapper) for _, _, v in during)
    OpenAIInstrumentor().uninstrument()
    after = _rows()
    assert [(o, a) for o, a, _ in after] == [(o, a) for o, a, _ in before]
    assert all(v_after is v_before for (_, _, v_after), (_, _, v_before) in zip(after, before))
    assert _active.telemetry is None and _wrap._installed == []


def _raw_rows() -> list[Any]:
    """The current raw value of every raw-response row this SDK has."""
    found = []
    for module, name, _wrapper, _required in _wrap.RAW_WRAPS:
        owner: Any = importlib.import_module(module)
        *path, attr = name.split(".")
        for part in path:
            owner = getattr(owner, part)
        found.append(vars(owner)[attr])
    return found


def test_raw_response_rows_wrapped_with_the_first_raw_response(instrument: Any) -> None:
    """The raw-response rows cost plain calls nothing: they are wrapped when a raw response first waits for
    its ``parse()``, and ``uninstrument()`` restores them with the rest."""
    before = _raw_rows()
    instrument()
    _chat()
    assert all(a is b for a, b in zip(_raw_rows(), before))  # a plain call parses its own response
    client = make_client(lambda r: sse_response([fixture_json("chat/plain.json")]))
    raw = client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    assert all(isinstance(v, wrapt.FunctionWrapper) for v in _raw_rows())
    raw.parse().close()
    OpenAIInstrumentor().uninstrument()
    assert all(a is b for a, b in zip(_raw_rows(), before))
    instrument()
    assert all(a is b for a, b in zip(_raw_rows(), before))  # a new instrument() starts without them


def test_reinstrument_after_uninstrument(instrument: Any) -> None:
    """Instrument, uninstrument, instrument again: exactly one span per call each time it is active."""
    t = instrument()
    _chat()
    OpenAIInstrumentor().uninstrument()
    _chat()
    instrument()
    _chat()
    assert len(t.finished_spans()) == 2


def test_instrument_twice_wraps_once(instrument: Any) -> None:
    """A second ``instrument()`` is a no-op: each row is wrapped once, one span per call."""
    t = instrument()
    instrument(capture_content="SPAN_ONLY")
    for _owner, _attr, value in _rows():
        assert not isinstance(value.__wrapped__, wrapt.FunctionWrapper)
    _chat()
    span = t.only_span()
    assert sc.INPUT_MESSAGES not in span.attributes  # the first instrument()'s settings stay in force


def test_missing_choke_point_does_nothing(instrument: Any, monkeypatch: Any, caplog: Any) -> None:
    """When the SDK's request choke point is missing we warn once and wrap nothing."""
    missing = ("openai._base_client", "SyncAPIClient.no_such_request", _wrap._sync_request, True)
    monkeypatch.setattr(_wrap, "WRAPS", (missing, *_wrap.WRAPS))
    before = _rows()
    with caplog.at_level(logging.WARNING, logger="otel_openai._wrap"):
        t = instrument()
    assert [r.levelno for r in caplog.records if r.name == "otel_openai._wrap"] == [logging.WARNING]
    assert [v for _, _, v in _rows()] == [v for _, _, v in before]
    assert _config._active is None
    _chat()
    assert t.finished_spans() == []
