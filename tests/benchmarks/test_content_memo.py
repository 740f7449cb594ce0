"""benchmarks/content_memo.py: the two paths build the same attributes, and each workload repeats what it says."""

from __future__ import annotations

import pytest

from otel_openai import _semconv as sc
from tests.benchmarks._scripts import load

content_memo = load("content_memo")


@pytest.mark.parametrize("workload", content_memo.WORKLOADS)
def test_both_paths_build_the_same_attributes(workload: str) -> None:
    """What is compared is the same work: the memo's JSON is the whole mapping's, call after call."""
    whole, memo = content_memo.build("whole"), content_memo.build("memo")
    for body in content_memo.bodies(workload, 3):
        expected = whole(body)
        assert memo(body) == {sc.INPUT_MESSAGES: expected["messages"], sc.TOOL_DEFINITIONS: expected["tools"]}


def test_workloads_repeat_what_they_say() -> None:
    """New containers every call, as the SDK's; the texts repeat or not as each workload says."""
    def texts(workload: str) -> list[tuple[str, str]]:
        bodies = content_memo.bodies(workload, 2)
        assert bodies[0]["messages"] is not bodies[1]["messages"] and bodies[0]["tools"] is not bodies[1]["tools"]
        return [(body["messages"][0]["content"], body["messages"][1]["content"]) for body in bodies]

    (system_a, user_a), (system_b, user_b) = texts("repeat")
    assert (system_a, user_a) == (system_b, user_b)
    (system_a, user_a), (system_b, user_b) = texts("new_user")
    assert system_a == system_b and user_a != user_b and len(user_a) == len(user_b)
    (system_a, user_a), (system_b, user_b) = texts("all_new")
    assert system_a != system_b and user_a != user_b
