"""A scale-out deployment on loopback: real redis-server, PostgreSQL, a Chroma server,
`longtail serve` replicas and nginx round robin in front, for the replica tests and
`bench.load --replicas`.

Each server runs in the foreground from a temporary folder (no system service is touched)
and is stopped at the end. A missing server binary is MissingServer, naming the Debian
package (`make setup` installs them). PostgreSQL refuses to run as root, so under root its
processes run as the `postgres` account the Debian package creates.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import psycopg
import redis


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MissingServer(RuntimeError):
    """A server binary is not installed."""


def binary(name: str, package: str, extra_glob: str = "") -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(extra_glob))), None)
    if not found:
        raise MissingServer(f"{name} is not installed (apt-get install {package}, or make setup)")
    return found


def _wait(ready: Callable[[], object], process: subprocess.Popen, what: str) -> None:
    """Poll `ready` until it succeeds; the server exiting first is a failure that says so."""
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with status {process.returncode} at start")
        try:
            if ready():
                return
        except Exception:
            pass
        time.sleep(0.2)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class RedisServer:
    def __init__(self, folder: Path) -> None:
        exe = binary("redis-server", "redis-server")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        args = ["--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(folder)]
        self.process = subprocess.Popen(
            [exe, *args, "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL
        )
        client = redis.Redis.from_url(self.url)
        _wait(client.ping, self.process, "redis-server")

    def stop(self) -> None:
        stop(self.process)


class PostgresServer:
    """A fresh cluster (initdb) with trust authentication on loopback, database `longtail`."""

    def __init__(self) -> None:
        initdb = binary("initdb", "postgresql", "/usr/lib/postgresql/*/bin/initdb")
        postgres = str(Path(initdb).with_name("postgres"))
        self.folder = Path(tempfile.mkdtemp(prefix="longtail-pg-"))
        run_as: dict[str, object] = {}
        if os.geteuid() == 0:
            account = pwd.getpwnam("postgres")
            os.chown(self.folder, account.pw_uid, account.pw_gid)
            run_as = {"user": account.pw_uid, "group": account.pw_gid}
        data = self.folder / "data"
        subprocess.run(
            [initdb, "-D", str(data), "-U", "longtail", "--auth=trust", "-E", "UTF8"],
            check=True,
            stdout=subprocess.DEVNULL,
            **run_as,  # type: ignore[arg-type]
        )
        self.port = free_port()
        where = ["-h", "127.0.0.1", "-p", str(self.port), "-k", str(self.folder)]
        self.process = subprocess.Popen(
            [postgres, "-D", str(data), *where],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            **run_as,  # type: ignore[arg-type]
        )
        admin = f"postgresql://longtail@127.0.0.1:{self.port}/postgres"
        _wait(lambda: psycopg.connect(admin).close() is None, self.process, "postgres")
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute("CREATE DATABASE longtail")
        self.dsn = f"postgresql://longtail@127.0.0.1:{self.port}/longtail"

    def new_database(self, name: str) -> str:
        """A DSN of a fresh, empty database on this server."""
        admin = self.dsn.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.dsn.rsplit("/", 1)[0] + "/" + name

    def stop(self) -> None:
        stop(self.process)
        shutil.rmtree(self.folder, ignore_errors=True)


class Nginx:
    """Round robin over `upstreams`; each answer names the replica in X-Upstream."""

    def __init__(self, folder: Path, upstreams: list[int]) -> None:
        exe = binary("nginx", "nginx")
        self.port = free_port()
        servers = "\n".join(f"        server 127.0.0.1:{p};" for p in upstreams)
        user = f"user {pwd.getpwuid(os.geteuid()).pw_name};" if os.geteuid() == 0 else ""
        temp = " ".join(
            f"{kind}_temp_path {folder / kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        (folder / "nginx.conf").write_text(f"""
{user}
worker_processes 1;
error_log stderr warn;
pid {folder / "nginx.pid"};
events {{ worker_connections 256; }}
http {{
    access_log off;
    {temp}
    upstream replicas {{
{servers}
    }}
    server {{
        listen 127.0.0.1:{self.port};
        location / {{
            proxy_pass http://replicas;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_read_timeout 300s;
            proxy_buffering off;
            add_header X-Upstream $upstream_addr always;
        }}
    }}
}}
""")
        self.process = subprocess.Popen(
            [exe, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
        )
        self.url = f"http://127.0.0.1:{self.port}"

        def listening() -> bool:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True

        _wait(listening, self.process, "nginx")

    def stop(self) -> None:
        stop(self.process)


class ChromaServer:
    """`chroma run` (the chromadb package's CLI beside this Python) on a loopback port."""

    def __init__(self, folder: Path) -> None:
        exe = Path(sys.executable).with_name("chroma")
        if not exe.is_file():
            raise MissingServer(f"the chroma CLI is not installed beside {sys.executable}")
        self.port = free_port()
        where = ["--path", str(folder), "--host", "127.0.0.1", "--port", str(self.port)]
        self.process = subprocess.Popen(
            [str(exe), "run", *where], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        heartbeat = f"http://127.0.0.1:{self.port}/api/v2/heartbeat"
        _wait(lambda: httpx.get(heartbeat, timeout=2).is_success, self.process, "chroma run")

    def stop(self) -> None:
        stop(self.process)


def shared_env(redis_url: str, postgres_dsn: str, chroma_port: int) -> dict[str, str]:
    """LONGTAIL_* settings of a replica that keeps nothing of its own: sessions and buckets
    in Redis, events in PostgreSQL, vectors in the Chroma server; ranking in the server
    process (no worker pool per replica on a small machine)."""
    return {
        "LONGTAIL_API__STATE_BACKEND": "redis",
        "LONGTAIL_API__REDIS_URL": redis_url,
        "LONGTAIL_API__EVENTS_BACKEND": "postgres",
        "LONGTAIL_API__POSTGRES_DSN": postgres_dsn,
        "LONGTAIL_STORE__MODE": "server",
        "LONGTAIL_STORE__PORT": str(chroma_port),
        "LONGTAIL_API__RANK_WORKERS": "0",
    }


class Replica:
    """One `longtail serve --no-llm` on a free loopback port, with `env` added."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        args = ["serve", "--no-llm", "--host", "127.0.0.1", "--port", str(self.port)]
        self.log = log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "longtail", *args],
            env={**os.environ, **env},
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self) -> None:
        """Until /healthz answers (the replica loads its models first)."""
        ready = lambda: httpx.get(f"{self.url}/healthz", timeout=5).is_success  # noqa: E731
        _wait(ready, self.process, f"longtail serve on port {self.port} (log {self.log.name})")

    def kill(self) -> None:
        """kill -9: no shutdown, nothing flushed."""
        self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        stop(self.process)
        self.log.close()


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and all its descendants, live or exited, from
    /proc (Linux): how a bench shares the machine out between the servers it started."""
    tick = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = {}
    times: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # ended meanwhile
        fields = stat[stat.rindex(")") + 2 :].split()
        ppid = int(fields[1])
        children.setdefault(ppid, []).append(int(entry.name))
        utime, stime, cutime, cstime = (int(v) for v in fields[11:15])
        times[int(entry.name)] = (utime + stime + cutime + cstime) / tick
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        total += times.get(current, 0.0)
        todo += children.get(current, [])
    return total
