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


def count(script: str, *args: str, cwd: Optional[Path] = None) -> int:
    """Instructions counted inside ``window()`` by ``python script --child *args`` under callgrind (counting
    off at start), without the caller's ``OTEL_`` variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
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
