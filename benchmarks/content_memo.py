"""What the content memo saves or costs per chat request, content capture on, in instructions.

    python benchmarks/content_memo.py [--calls 500]

The span's input content of a chat request (a system prompt, a user message, two tools) is built two ways:
``whole`` maps and encodes every element on every call (the path without the memo, still taken with an
upload hook), ``memo`` goes through ``_invocation.input_json`` and a ``_content.JsonMemo``. Three workloads:
``repeat`` sends the same request every call (the benchmark scenarios do), ``new_user`` a new user message
every call (a single-turn service: the system prompt and tools repeat), ``all_new`` new text in every message
(the memo's worst case: every element a first sight). Each count runs in its own process under callgrind,
counting ``--calls`` calls after as many warm-up calls.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import counted  # noqa: E402

WORKLOADS = ("repeat", "new_user", "all_new")


def bodies(workload: str, n: int) -> list[dict[str, Any]]:
    """``n`` chat request bodies, as the SDK hands them to us: new containers every call, text as the workload
    says (a new string of the same length, or the same one)."""
    from scenarios import SYSTEM, TOOLS, USER

    def text(base: str, i: int, fresh: bool) -> str:
        return base[:-6] + f"{i:06d}" if fresh else base

    def copy(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: copy(v) for k, v in value.items()}
        return [copy(v) for v in value] if isinstance(value, list) else value

    return [{"model": "gpt-4o-mini", "tools": copy(TOOLS), "messages": [
        {"role": "system", "content": text(SYSTEM, i, workload == "all_new")},
        {"role": "user", "content": text(USER, i, workload != "repeat")}]} for i in range(n)]


def build(variant: str) -> Callable[[dict[str, Any]], Any]:
    from otel_openai import _content
    from otel_openai._invocation import input_json
    from otel_openai._mapping import CHAT

    if variant == "memo":
        memo = _content.JsonMemo()
        return lambda body: input_json(CHAT, body, memo, False, 32_768)
    return lambda body: {"messages": _content.bounded_json(CHAT.input_messages(body, False), 32_768),
                         "tools": _content.bounded_json(CHAT.tool_definitions(body), 32_768)}


def child(variant: str, workload: str, calls: int) -> None:
    run, work = build(variant), bodies(workload, 2 * calls)
    for body in work[:calls]:
        run(body)
    with counted.window():
        for body in work[calls:]:
            run(body)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500)
    args = parser.parse_args()
    print("| workload | whole | memo | memo - whole |\n|---|---|---|---|")
    for workload in WORKLOADS:
        whole, memo = (counted.count(__file__, variant, workload, str(args.calls), cwd=HERE) / args.calls
                       for variant in ("whole", "memo"))
        print(f"| {workload} | {whole:,.0f} | {memo:,.0f} | {memo - whole:+,.0f} |")


if __name__ == "__main__":
    main()
