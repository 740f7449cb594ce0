"""Per-frame cost of tracing a realtime WebSocket session, next to the SDK's own per-frame cost.

    python benchmarks/websocket_frames.py                  # thread-CPU timing, ABBA batches, medians
    python benchmarks/websocket_frames.py --instructions   # instruction counts under valgrind (load-proof)

A real ``client.realtime.connect()`` (GA) whose WebSocket is an in-memory stand-in (websockets' ``connect``
is replaced, nothing else): every received frame goes through the SDK's own ``recv()`` -> ``recv_bytes()``
-> ``parse_event()`` (``json.loads`` and the event model), and every sent audio chunk through
``input_audio_buffer.append()`` -> ``send()`` (the SDK's transform and ``json.dumps``). A generation is open
(``response.created`` was read) while the frames are timed, as in a real call. Frames:

- ``audio``: ``response.output_audio.delta`` with 100 ms of 24 kHz PCM16 (6,400 base64 characters);
- ``text``: ``response.output_text.delta`` with a few characters;
- ``append``: sending ``input_audio_buffer.append`` with 100 ms of audio.

Variants: ``sdk`` (uninstrumented), ``ours`` (default: no content), ``content`` (content on spans),
``media`` (content and media capture). "ours - sdk" is what tracing adds per frame.
"""

from __future__ import annotations

import argparse
import base64
import gc
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Optional

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

AUDIO = base64.b64encode(bytes(range(256)) * 18 + bytes(192)).decode()  # 4,800 bytes: 100 ms at 24 kHz
FRAMES = {
    "audio": {"type": "response.output_audio.delta", "event_id": "event_9", "response_id": "resp_1",
              "item_id": "item_1", "output_index": 0, "content_index": 0, "delta": AUDIO},
    "text": {"type": "response.output_text.delta", "event_id": "event_9", "response_id": "resp_1",
             "item_id": "item_1", "output_index": 0, "content_index": 0, "delta": "Hello, "},
}
CREATED = {"type": "response.created", "event_id": "event_1", "response": {
    "id": "resp_1", "object": "realtime.response", "status": "in_progress", "output": [],
    "conversation_id": "conv_1", "output_modalities": ["audio"]}}
SESSION = {"type": "session.created", "event_id": "event_0", "session": {
    "id": "sess_1", "object": "realtime.session", "type": "realtime", "model": "gpt-realtime",
    "output_modalities": ["audio"], "audio": {"output": {"format": {"type": "audio/pcm", "rate": 24000}}}}}
VARIANTS = {"sdk": None, "ours": {}, "content": {"capture_content": "SPAN_ONLY"},
            "media": {"capture_content": "SPAN_ONLY", "capture_media": True}}


class MemorySocket:
    """Stands in for a websockets client connection: hands out canned frames, swallows sends."""

    def __init__(self) -> None:
        self.queue: list[bytes] = [json.dumps(SESSION).encode(), json.dumps(CREATED).encode()]
        self.frame = b""

    def recv(self, decode: Optional[bool] = None, timeout: Optional[float] = None) -> Any:
        data = self.queue.pop(0) if self.queue else self.frame
        return data if decode is False else data.decode()

    def send(self, data: Any) -> None:
        pass

    def close(self, code: int = 1000, reason: str = "") -> None:
        pass


class Bench:
    """One process: an instrumentor switched on and off around batches, one connection per batch."""

    def __init__(self) -> None:
        import openai
        import websockets.sync.client
        from variants import Pipeline

        from otel_openai import OpenAIInstrumentor

        self.socket = MemorySocket()
        websockets.sync.client.connect = lambda *args, **kwargs: self.socket  # type: ignore[assignment]
        self.client = openai.OpenAI(api_key="sk-bench", base_url="http://127.0.0.1:9/v1",
                                    websocket_base_url="ws://127.0.0.1:9/v1")
        self.pipeline = Pipeline()
        self.instrumentor = OpenAIInstrumentor()

    def switch(self, variant: str) -> None:
        if self.instrumentor.is_instrumented_by_opentelemetry:
            self.instrumentor.uninstrument()
        settings = VARIANTS[variant]
        if settings is not None:
            p = self.pipeline
            self.instrumentor.instrument(tracer_provider=p.tracer_provider, meter_provider=p.meter_provider,
                                         logger_provider=p.logger_provider, **settings)

    def connection(self, frame: str) -> Any:
        """A fresh connection, opened the user's way, with its session and one generation under way."""
        self.socket.queue = [json.dumps(SESSION).encode(), json.dumps(CREATED).encode()]
        self.socket.frame = json.dumps(FRAMES.get(frame, FRAMES["audio"])).encode()
        connection = self.client.realtime.connect(model="gpt-realtime").enter()
        connection.recv()
        connection.recv()
        return connection

    def step(self, frame: str, connection: Any) -> Callable[[], Any]:
        if frame == "append":
            return lambda: connection.input_audio_buffer.append(audio=AUDIO)
        return connection.recv


def batch(bench: Bench, variant: str, frame: str, n: int) -> float:
    """Thread-CPU nanoseconds per frame over ``n`` frames."""
    bench.switch(variant)
    connection = bench.connection(frame)
    step = bench.step(frame, connection)
    start = time.thread_time_ns()
    for _ in range(n):
        step()
    elapsed = time.thread_time_ns() - start
    connection.close()
    return elapsed / n


def timing(frames: list[str], n: int, pairs: int) -> dict[str, dict[str, float]]:
    """Median per-frame cost and median ABBA-paired overhead of each variant against the SDK alone."""
    bench = Bench()
    results: dict[str, dict[str, float]] = {}
    for frame in frames:
        for variant in ("sdk", *[v for v in VARIANTS if v != "sdk"]):
            batch(bench, variant, frame, n // 10)  # warm up: the SDK builds its event models on first use
        row: dict[str, float] = {}
        sdk_all: list[float] = []
        for variant in [v for v in VARIANTS if v != "sdk"]:
            diffs, ours_all = [], []
            for i in range(pairs):
                order = (variant, "sdk") if i % 2 else ("sdk", variant)
                got = {name: batch(bench, name, frame, n) for name in order}
                diffs.append(got[variant] - got["sdk"])
                ours_all.append(got[variant])
                sdk_all.append(got["sdk"])
            row[variant] = statistics.median(ours_all)
            row[variant + " - sdk"] = statistics.median(diffs)
        row["sdk"] = statistics.median(sdk_all)
        results[frame] = row
    bench.switch("sdk")
    return results


def count_child(variant: str, frame: str, n: int) -> None:
    """Under callgrind: warm up, then count ``n`` frames only."""
    bench = Bench()
    batch(bench, variant, frame, 50)
    bench.switch(variant)
    connection = bench.connection(frame)
    step = bench.step(frame, connection)
    pid = str(os.getpid())
    gc.collect()
    gc.disable()  # the cyclic collector runs at allocation thresholds: noise across processes, not per frame
    subprocess.run(["callgrind_control", "-i", "on", pid], capture_output=True, check=False)
    for _ in range(n):
        step()
    subprocess.run(["callgrind_control", "-i", "off", pid], capture_output=True, check=False)
    gc.enable()


def instructions(frames: list[str], n: int) -> dict[str, dict[str, float]]:
    """Instructions per frame of each variant, each in its own process under valgrind."""
    import tempfile

    results: dict[str, dict[str, float]] = {}
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}, "PYTHONHASHSEED": "0"}
    for frame in frames:
        row: dict[str, float] = {}
        for variant in VARIANTS:
            with tempfile.TemporaryDirectory() as tmp:
                proc = subprocess.run(["valgrind", "--tool=callgrind", "--instr-atstart=no",
                                       f"--callgrind-out-file={Path(tmp) / 'callgrind.out'}",
                                       sys.executable, __file__, "--child", variant, frame, str(n)],
                                      capture_output=True, text=True, check=False, env=env)
            found = re.search(r"Collected : (\d+)", proc.stderr)
            if found is None:
                sys.exit(proc.stderr[-2000:])
            row[variant] = int(found.group(1)) / n
            print(f"{frame} {variant}: {row[variant]:,.0f} instructions per frame", file=sys.stderr, flush=True)
        for variant in VARIANTS:
            if variant != "sdk":
                row[variant + " - sdk"] = row[variant] - row["sdk"]
        results[frame] = row
    return results


def render(results: dict[str, dict[str, float]], unit: str, scale: float) -> str:
    columns = ["sdk", "ours", "ours - sdk", "content", "content - sdk", "media", "media - sdk"]
    lines = [f"| frame | {' | '.join(columns)} |", "|---" * (len(columns) + 1) + "|"]
    for frame, row in results.items():
        cells = [f"{row[c] / scale:,.2f}" if c in row else "" for c in columns]
        lines.append(f"| {frame} | {' | '.join(cells)} |")
    return f"per frame, {unit}\n" + "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instructions", action="store_true", help="count instructions under valgrind")
    parser.add_argument("--frames", default="audio,text,append")
    parser.add_argument("-n", type=int, default=0, help="frames per batch (default 2,000; 300 for --instructions)")
    parser.add_argument("--pairs", type=int, default=8, help="ABBA batch pairs per variant")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        count_child(args.child[0], args.child[1], int(args.child[2]))
        return
    frames = args.frames.split(",")
    import openai

    print(f"openai {openai.__version__}, Python {sys.version.split()[0]}")
    if args.instructions:
        print(render(instructions(frames, args.n or 300), "instructions (thousands)", 1000))
    else:
        print(render(timing(frames, args.n or 2000, args.pairs), "thread-CPU µs (medians)", 1000))


if __name__ == "__main__":
    main()
