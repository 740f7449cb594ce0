"""Install, start on loopback, health-check and always stop the real OTLP backends (Phoenix, MLflow).

Each backend lives in its own virtualenv under a cache directory (``OTEL_OPENAI_E2E_CACHE``, default
``~/.cache/otel-openai-e2e``), keyed by its pinned requirement and the Python version, so a pin bump
reinstalls and a second run reuses. Servers run in their own process group bound to 127.0.0.1 on free
ports and are stopped by the context manager, by ``atexit`` and on SIGTERM, whichever comes first.

Command line (for humans and scripts/screenshot.py)::

    python scripts/e2e_backends.py phoenix     # prints the endpoints, serves until Ctrl-C
    python scripts/e2e_backends.py mlflow
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

__all__ = [
    "MLFLOW_REQUIREMENT",
    "PHOENIX_REQUIREMENT",
    "Server",
    "ensure_all",
    "ensure_venv",
    "free_port",
    "http_json",
    "mlflow",
    "phoenix",
    "poll",
]

# Pinned so CI is reproducible; bump deliberately (the cache key follows the pin).
PHOENIX_REQUIREMENT = "arize-phoenix==20.26.1"
MLFLOW_REQUIREMENT = "mlflow==3.17.2"
HOST = "127.0.0.1"
SCRIPTS = Path(__file__).resolve().parent
# Telemetry "phone home" switches: nothing here may try to leave the machine.
QUIET_ENV = {"DO_NOT_TRACK": "true", "MLFLOW_DISABLE_TELEMETRY": "true", "PHOENIX_TELEMETRY_ENABLED": "false"}


def cache_dir() -> Path:
    return Path(os.environ.get("OTEL_OPENAI_E2E_CACHE") or Path.home() / ".cache" / "otel-openai-e2e")


def ensure_venv(name: str, requirement: str, log: Any = sys.stderr) -> Path:
    """The virtualenv's python for `requirement`, creating and installing it on first use."""
    key = hashlib.sha256(f"{requirement}|{sys.version_info[:2]}".encode()).hexdigest()[:10]
    venv = cache_dir() / f"{name}-{key}"
    python = venv / "bin" / "python"
    stamp = venv / ".installed"
    if stamp.exists():
        return python
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", requirement],
        check=True,
        stdout=log,
        stderr=log,
    )
    stamp.write_text(requirement)
    print(f"[e2e] installed {requirement} in {time.monotonic() - started:.0f}s", file=log, flush=True)
    return python


def free_port() -> int:
    """A port that was free a moment ago (the OS picks; a race with another process is unlikely)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def http_json(url: str, body: Any = None, headers: Optional[dict[str, str]] = None, timeout: float = 10) -> Any:
    """GET (or POST `body` as JSON) and decode the JSON answer; raises on HTTP errors."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json", **(headers or {})})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        payload = response.read()
    return json.loads(payload) if payload else None


def poll(check: Any, deadline: float, interval: float = 0.5, what: str = "condition") -> Any:
    """Call `check()` until it returns something truthy or `deadline` seconds pass; never a fixed sleep."""
    end = time.monotonic() + deadline
    last_error: Optional[BaseException] = None
    while True:
        try:
            result = check()
            if result:
                return result
        except Exception as error:  # the backend may not be ready yet: retry until the deadline
            last_error = error
        if time.monotonic() > end:
            raise TimeoutError(f"{what} not met within {deadline}s (last error: {last_error!r})")
        time.sleep(interval)


@dataclass
class Server:
    """A backend process group started by us: its URLs, log and the sockets it listens on."""

    name: str
    command: list[str]
    env: dict[str, str]
    health_url: str
    workdir: Path
    urls: dict[str, str] = field(default_factory=dict)
    process: Optional[subprocess.Popen[bytes]] = None

    @property
    def log_path(self) -> Path:
        return self.workdir / f"{self.name}.log"

    def start(self, deadline: float) -> Server:
        started = time.monotonic()
        with open(self.log_path, "wb") as log:
            # A new session makes the server and every worker it forks one process group we can kill.
            self.process = subprocess.Popen(
                self.command,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        atexit.register(self.stop)
        try:
            poll(self._healthy, deadline, what=f"{self.name} health at {self.health_url}")
        except BaseException:
            self.stop()
            raise
        print(f"[e2e] {self.name} healthy in {time.monotonic() - started:.1f}s: {self.urls}", file=sys.stderr)
        return self

    def _healthy(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}")
        with urllib.request.urlopen(self.health_url, timeout=2) as response:
            return bool(response.status == 200)

    def stop(self) -> None:
        """Stop the whole process group: TERM, then KILL after a grace period. Safe to call twice."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=15)
        # Workers that outlived their parent are still in the group.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)

    def log_tail(self, lines: int = 40) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def listening(self) -> set[tuple[str, int]]:
        """(address, port) of every TCP socket in LISTEN state owned by a process of this server's group."""
        assert self.process is not None
        return listening_sockets(group_pids(self.process.pid))


# Linux: ask for SIGTERM when our process dies outright (SIGKILL skips atexit and finally), then exec the
# server. Done in a tiny exec shim rather than a preexec_fn, which is unsafe in a threaded test process.
_DIE_WITH_PARENT = (
    "import ctypes, os, sys\n"
    "try:\n"
    "    ctypes.CDLL(None).prctl(1, 15)  # PR_SET_PDEATHSIG, SIGTERM\n"
    "except Exception:\n"
    "    pass\n"
    "os.execv(sys.argv[1], sys.argv[1:])\n"
)


def die_with_parent(command: list[str]) -> list[str]:
    return [command[0], "-c", _DIE_WITH_PARENT, *command]


def ensure_all(log: Any = sys.stderr) -> None:
    """Install every backend at once: the pip runs are mostly download and unpack, so they overlap well."""
    from concurrent.futures import ThreadPoolExecutor

    jobs = [("phoenix", PHOENIX_REQUIREMENT), ("mlflow", MLFLOW_REQUIREMENT)]
    with ThreadPoolExecutor(len(jobs)) as pool:
        for future in [pool.submit(ensure_venv, name, requirement, log) for name, requirement in jobs]:
            future.result()


def group_pids(pgid: int) -> set[int]:
    pids = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                # Field 5 of /proc/PID/stat is the process group; the command name (field 2) may hold spaces.
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[2]) == pgid:
                    pids.add(int(entry.name))
    return pids


def _socket_inodes(pids: set[int]) -> set[str]:
    inodes = set()
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    target = os.readlink(fd)
                    if target.startswith("socket:["):
                        inodes.add(target[8:-1])
    return inodes


def _decode_address(hex_address: str) -> tuple[str, int]:
    address, port = hex_address.split(":")
    raw = bytes.fromhex(address)
    if len(raw) == 4:
        return socket.inet_ntop(socket.AF_INET, raw[::-1]), int(port, 16)
    # /proc/net/tcp6 stores the address as four host-order 32-bit words.
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
    return socket.inet_ntop(socket.AF_INET6, words), int(port, 16)


def listening_sockets(pids: set[int]) -> set[tuple[str, int]]:
    """The listening TCP sockets of `pids`, read from /proc (the same facts `ss -ltnp` shows)."""
    inodes = _socket_inodes(pids)
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[3] == "0A" and fields[9] in inodes:  # 0A: TCP_LISTEN
                    found.add(_decode_address(fields[1]))
    return found


def is_loopback(address: str) -> bool:
    return address.startswith("127.") or address == "::1" or address.startswith("::ffff:127.")


def _server_env(extra: dict[str, str]) -> dict[str, str]:
    # The backend inherits none of our OTEL_* settings: it must not trace itself into the test's receivers.
    env = {key: value for key, value in os.environ.items() if not key.startswith(("OTEL_", "PYTHONPATH"))}
    return {**env, **QUIET_ENV, **extra}


@contextlib.contextmanager
def phoenix(deadline: float = 180) -> Iterator[Server]:
    """Arize Phoenix: UI, REST/GraphQL and OTLP/HTTP on one port, OTLP/gRPC on another, all on 127.0.0.1."""
    python = ensure_venv("phoenix", PHOENIX_REQUIREMENT)
    http_port, grpc_port = free_port(), free_port()
    with tempfile.TemporaryDirectory(prefix="e2e-phoenix-") as workdir:
        env = _server_env(
            {
                "PHOENIX_HOST": HOST,
                "PHOENIX_PORT": str(http_port),
                "PHOENIX_GRPC_HOST": HOST,  # read by scripts/phoenix_loopback.py, not by Phoenix
                "PHOENIX_GRPC_PORT": str(grpc_port),
                "PHOENIX_WORKING_DIR": workdir,
                "PHOENIX_ALLOW_EXTERNAL_RESOURCES": "false",
            }
        )
        base = f"http://{HOST}:{http_port}"
        server = Server(
            name="phoenix",
            command=die_with_parent([str(python), str(SCRIPTS / "phoenix_loopback.py")]),
            env=env,
            health_url=f"{base}/healthz",
            workdir=Path(workdir),
            urls={"base": base, "otlp_http": base, "otlp_grpc": f"http://{HOST}:{grpc_port}"},
        )
        try:
            yield server.start(deadline)
        finally:
            server.stop()


@contextlib.contextmanager
def mlflow(deadline: float = 180) -> Iterator[Server]:
    """An MLflow tracking server on 127.0.0.1 with a throwaway SQLite store; OTLP/HTTP at /v1/traces."""
    python = ensure_venv("mlflow", MLFLOW_REQUIREMENT)
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="e2e-mlflow-") as workdir:
        command = [
            str(python), "-m", "mlflow", "server",
            "--host", HOST, "--port", str(port), "--workers", "1",
            "--backend-store-uri", f"sqlite:///{workdir}/mlflow.db",
            "--default-artifact-root", f"{workdir}/artifacts",
        ]  # fmt: skip
        # Job execution starts a background worker pool we do not need; it slows start-up and shutdown.
        env = _server_env({"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"})
        base = f"http://{HOST}:{port}"
        server = Server(
            name="mlflow",
            command=die_with_parent(command),
            env=env,
            health_url=f"{base}/health",
            workdir=Path(workdir),
            urls={"base": base, "otlp_http": base},
        )
        try:
            yield server.start(deadline)
        finally:
            server.stop()


def _serve_forever(name: str) -> None:
    backend = {"phoenix": phoenix, "mlflow": mlflow}[name]
    # Turn SIGTERM into a normal exit so the finally blocks stop the backend.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with backend() as server:
        print(json.dumps({"name": name, **server.urls, "listening": sorted(server.listening())}), flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while server.process is not None and server.process.poll() is None:
                time.sleep(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("backend", choices=["phoenix", "mlflow", "install"])
    args = parser.parse_args()
    if args.backend == "install":
        ensure_all()
        return
    _serve_forever(args.backend)


if __name__ == "__main__":
    main()
