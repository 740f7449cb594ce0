"""Instruction counts of a window of a script's own work: the script runs itself again under callgrind."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Optional


def count(script: str, *args: str, cwd: Optional[Path] = None, seeds: int = 1) -> int:
    """Instructions counted inside ``window()`` by ``python script --child *args`` under callgrind (counting
    off at start), without the caller's ``OTEL_`` variables: the median over ``seeds`` processes with hash
    seeds 0, 1, ... A random seed would move the figure from run to run (set and dict probes: ~15k per
    ``trace_tool`` call with content on between two seeds), so one fixed seed makes it repeatable and
    several make it typical."""
    counts = sorted(_count(script, args, cwd, seed) for seed in range(seeds))
    return counts[len(counts) // 2]


def _count(script: str, args: tuple[str, ...], cwd: Optional[Path], seed: int) -> int:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env["PYTHONHASHSEED"] = str(seed)
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run(
            ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={Path(tmp) / 'out'}",
             sys.executable, script, "--child", *args],
            capture_output=True, text=True, env=env, cwd=cwd, check=False)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise RuntimeError(done.stderr[-2000:])
    return int(found.group(1))


@contextmanager
def window() -> Iterator[None]:
    """Counting on for the body only."""
    pid = str(os.getpid())
    subprocess.run(["callgrind_control", "-i", "on", pid], capture_output=True, check=False)
    try:
        yield
    finally:
        subprocess.run(["callgrind_control", "-i", "off", pid], capture_output=True, check=False)
