"""The embedded LLM server: llama.cpp's own OpenAI-compatible server, from the xllamacpp wheel.

It runs in a child process (`python -m serving.embedded ...`), so that it can be stopped
cleanly (xllamacpp's in-process server has no stop call), its memory is returned when it ends,
and its C++ threads never compete with the parent's GIL. `EmbeddedServer` starts it on
127.0.0.1, on a free port unless one is given, waits until /health answers, and stops it.

    with EmbeddedServer(model_path, model_name="qwen2.5-coder-0.5b", threads=1) as server:
        print(server.base_url)   # http://127.0.0.1:PORT/v1
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

from core.errors import LongtailError

HOST = "127.0.0.1"
DEFAULT_CONTEXT = 4096


class EmbeddedServerError(LongtailError):
    """The embedded server could not start, or stopped on its own."""


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def free_cores() -> int:
    """Cores not busy right now (cores minus the 1-minute load, rounded up), at least 1.

    llama.cpp slows down about tenfold when its threads outnumber the idle cores, so the
    default thread count follows what is free rather than what exists.
    """
    cores = available_cores()
    try:
        busy = math.ceil(os.getloadavg()[0] - 0.25)
    except OSError:  # pragma: no cover
        busy = 0
    return max(1, min(cores, cores - max(0, busy)))


def free_port(host: str = HOST) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class EmbeddedServer:
    """One llama.cpp server child process on loopback."""

    def __init__(
        self,
        model_path: Path | str,
        *,
        model_name: str,
        port: int = 0,
        threads: int = 0,
        context: int = DEFAULT_CONTEXT,
        log_path: Path | str | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.model_path = Path(model_path)
        self.model_name = model_name
        self.requested_port = port
        self.threads = threads if threads > 0 else free_cores()
        self.context = context
        self.log_path = Path(log_path) if log_path else None
        self.extra_env = dict(extra_env or {})
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._log_file: Path | None = None

    @property
    def root_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible base URL (ends in /v1)."""
        return f"{self.root_url}/v1"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self, timeout_s: float = 180.0) -> EmbeddedServer:
        """Start the child and wait for /health; raise EmbeddedServerError with its log tail."""
        if self.running:
            return self
        if not self.model_path.is_file():
            raise EmbeddedServerError(f"model file {self.model_path} does not exist")
        attempts = 1 if self.requested_port else 3
        for attempt in range(attempts):
            self.port = self.requested_port or free_port()
            try:
                self._spawn()
                self._wait_healthy(timeout_s)
                return self
            except _PortTaken:
                self.stop()
                if attempt == attempts - 1:
                    raise EmbeddedServerError(
                        f"port {self.port} on {HOST} is taken; choose another with --port"
                    ) from None
        return self  # pragma: no cover

    def _spawn(self) -> None:
        if self.log_path:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log_file = self.log_path
        else:
            fd, name = tempfile.mkstemp(prefix="longtail-llm-", suffix=".log")
            os.close(fd)
            self._log_file = Path(name)
        command = [
            sys.executable,
            "-m",
            "serving.embedded",
            "--model-path",
            str(self.model_path),
            "--model-name",
            self.model_name,
            "--port",
            str(self.port),
            "--threads",
            str(self.threads),
            "--context",
            str(self.context),
        ]
        env = {**os.environ, **self.extra_env}
        # The child must import this repository's packages even when started from elsewhere.
        repo = str(Path(__file__).resolve().parents[1])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (repo, env.get("PYTHONPATH")) if p)
        with self._log_file.open("ab") as log:
            self._process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,  # Ctrl-C in a terminal reaches the parent only
            )

    def _wait_healthy(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        with httpx.Client(timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self._process is None or self._process.poll() is not None:
                    tail = self.log_tail()
                    if "bind" in tail.lower() or "address already in use" in tail.lower():
                        raise _PortTaken
                    code = self._process.returncode if self._process else None
                    raise EmbeddedServerError(
                        f"the embedded LLM server exited (status {code}) while starting; "
                        f"its log ({self._log_file}) ends with:\n{tail}"
                    )
                try:
                    response = client.get(f"{self.root_url}/health")
                    if response.status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                time.sleep(0.2)
        self.stop()
        raise EmbeddedServerError(
            f"the embedded LLM server did not become healthy within {timeout_s:.0f}s; "
            f"its log ({self._log_file}) ends with:\n{self.log_tail()}"
        )

    def log_tail(self, lines: int = 15) -> str:
        if not self._log_file or not self._log_file.is_file():
            return ""
        text = self._log_file.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def stop(self, timeout_s: float = 10.0) -> None:
        """SIGTERM, then SIGKILL after timeout_s; safe to call twice."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                process.wait(5)
        if self._log_file and not self.log_path:
            self._log_file.unlink(missing_ok=True)

    def wait(self) -> int:
        """Block until the child ends; returns its exit status."""
        if self._process is None:
            return 0
        return self._process.wait()

    def __enter__(self) -> EmbeddedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __del__(self) -> None:  # a forgotten server must not outlive its owner
        with contextlib.suppress(Exception):
            self.stop(timeout_s=2.0)


class _PortTaken(Exception):
    pass


def start_embedded(
    model: str,
    home: Path,
    *,
    port: int = 0,
    threads: int = 0,
    context: int = DEFAULT_CONTEXT,
    timeout_s: float = 180.0,
    log_path: Path | None = None,
) -> EmbeddedServer:
    """Assemble (first use) and verify the packaged model, then start the server on it."""
    from serving.models import ensure_model

    path = ensure_model(model, home)
    server = EmbeddedServer(
        path, model_name=model, port=port, threads=threads, context=context, log_path=log_path
    )
    return server.start(timeout_s=timeout_s)


# ---------------------------------------------------------------------------------------
# The child process.


def _serve(args: argparse.Namespace) -> int:
    import xllamacpp as xlc

    params = xlc.CommonParams()
    params.model.path = args.model_path
    params.model_alias = {args.model_name}
    params.hostnames = [HOST]
    params.port = args.port
    params.cpuparams.n_threads = args.threads
    params.cpuparams_batch.n_threads = args.threads
    params.n_ctx = args.context
    params.n_parallel = 1
    params.use_jinja = True  # the model's own chat template, tool calls included
    params.ui = False
    params.endpoint_metrics = True

    stop = threading.Event()
    parent = os.getppid()

    def _on_signal(signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    server = xlc.Server(params)
    print(f"longtail-llm: listening on {server.listening_address}", flush=True)
    # Stop on SIGTERM/SIGINT, and also when the parent dies without stopping us.
    while not stop.wait(0.5):
        if os.getppid() != parent:
            print("longtail-llm: parent process gone", flush=True)
            break
    print("longtail-llm: stopping", flush=True)
    sys.stdout.flush()
    # llama.cpp's server threads do not join on interpreter exit; leave at once.
    os._exit(0)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m serving.embedded")
    parser.add_argument("--model-path", required=True)
    parser.add_argument("--model-name", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--context", type=int, default=DEFAULT_CONTEXT)
    return _serve(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
