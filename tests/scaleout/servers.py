"""Real redis-server, PostgreSQL and nginx processes on loopback, for the scale-out tests.

Each runs in the foreground from a temporary folder (no system service is touched) and is
stopped at the end. A server binary that is not installed skips the test and names the
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
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
import redis


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def binary(name: str, package: str, extra_glob: str = "") -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(extra_glob))), None)
    if not found:
        pytest.skip(f"{name} is not installed (apt-get install {package}, or make setup)")
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
