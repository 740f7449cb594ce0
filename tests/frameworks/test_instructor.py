"""instructor (``from_openai`` over sync and async clients) over the loopback server, instrumented and not.

instructor runs no tools of its own: its structured output *is* the tool path (TOOLS mode forces a function
call and parses its arguments), and its validation retries re-ask the model, one HTTP call (and span) each.
"""

from __future__ import annotations

from typing import Any

import openai
import pydantic

from tests.frameworks.conftest import MODEL, QUESTION, Harness, assert_rate_limited, model_spans, require

instructor = require("instructor", "instructor")


class Weather(pydantic.BaseModel):
    city: str
    sky: str


class Snowy(pydantic.BaseModel):
    """A model the fake server's answer never satisfies: instructor re-asks until it gives up."""

    city: str
    sky: str

    @pydantic.field_validator("sky")
    @classmethod
    def must_snow(cls, sky: str) -> str:
        if sky != "snowy":
            raise ValueError("the sky must be snowy")
        return sky


def client(harness: Harness, asynchronous: bool = False) -> Any:
    kind = openai.AsyncOpenAI if asynchronous else openai.OpenAI
    return instructor.from_openai(kind(base_url=harness.server.base_url, api_key="sk-test", max_retries=0))


def ask(**options: Any) -> dict[str, Any]:
    return {"model": MODEL, "messages": [{"role": "user", "content": QUESTION}], **options}


async def test_plain_completion(harness: Harness) -> None:
    """With no response model instructor passes the SDK's completion through unchanged."""
    run = await harness.compare(lambda: client(harness).chat.completions.create(**ask(response_model=None)))
    assert run.outcome.choices[0].message.content == f"You said: {QUESTION}"


async def test_structured_output(harness: Harness) -> None:
    """A response model (a forced tool call) parses to the same object, sync and async, with the completion."""
    async def scenario() -> Any:
        parsed, completion = client(harness).chat.completions.create_with_completion(**ask(response_model=Weather))
        return [parsed, completion, await client(harness, True).chat.completions.create(**ask(response_model=Weather))]

    run = await harness.compare(scenario)
    assert run.outcome[0].model_dump() == run.outcome[2].model_dump() == {"city": "Tokyo", "sky": "sunny"}
    assert [s.attributes["gen_ai.response.finish_reasons"] for s in model_spans(run.spans)] == [  # type: ignore[index]
        ("tool_calls",), ("tool_calls",)]


async def test_partial_stream(harness: Harness) -> None:
    """``create_partial`` streams the same partial objects, sync and async."""
    async def scenario() -> Any:
        partials = list(client(harness).chat.completions.create_partial(**ask(response_model=Weather)))
        stream = client(harness, True).chat.completions.create_partial(**ask(response_model=Weather))
        return [partials, [p async for p in stream]]

    run = await harness.compare(scenario)
    assert run.outcome[0][-1].model_dump() == {"city": "Tokyo", "sky": "sunny"}


async def test_broken_off_partial_stream(harness: Harness) -> None:
    """A partial stream read once and dropped ends its span, once."""
    async def scenario() -> Any:
        first = next(iter(client(harness).chat.completions.create_partial(**ask(response_model=Weather))))
        stream = client(harness, True).chat.completions.create_partial(**ask(response_model=Weather))
        return [first, await stream.__anext__()]

    await harness.compare(scenario, abandons=True)


async def test_validation_retries_are_one_span_each(harness: Harness) -> None:
    """Each re-ask after a failed validation is its own HTTP call and its own span; the final error is
    instructor's, unchanged."""
    run = await harness.compare(lambda: client(harness).chat.completions.create(
        **ask(response_model=Snowy, max_retries=2)))
    assert type(run.outcome).__name__ == "InstructorRetryException"
    assert len(model_spans(run.spans)) == len(run.requests) > 1


async def test_rate_limited(harness: Harness) -> None:
    """A 429 becomes instructor's retry exception (caused by the SDK's error), one failed span."""
    run = await harness.compare(lambda: client(harness).chat.completions.create(
        **ask(model="error-429", response_model=Weather, max_retries=1)))
    assert isinstance(run.outcome.__cause__, openai.RateLimitError)
    assert_rate_limited(run)
