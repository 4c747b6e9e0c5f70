"""Issue 17, the staff screens over real HTTP (uvicorn on loopback, the screens mounted): a
page of another origin cannot post to them, state-changing calls need the CSRF token, every
answer carries the security headers, login cookies are SameSite=Strict and expire when idle,
failed logins are throttled per client and per user, the shopper screen takes no upload, and
publishing a prompt is audited. Templates and secrets: test_template_sandbox.py."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import httpx
import pytest
from fastapi.testclient import TestClient

from app.web import create_app
from runtime.container import Runtime
from tests.support.runtime import STAFF
from tests.support.screens import LiveServer, serving, staff_client

EVIL = "https://evil.example"


def _login(client: httpx.Client, screen: str, password: str = STAFF.password or "") -> int:
    return client.post(
        f"/{screen}/login", data={"username": STAFF.user, "password": password}
    ).status_code


def test_a_cross_origin_post_to_the_studio_is_refused(live_server: LiveServer) -> None:
    url = live_server.url
    # A page on another site posts to the API: refused; the server's own origin is fine.
    assert httpx.post(f"{url}/v1/sessions", headers={"origin": EVIL}).status_code == 403
    assert httpx.post(f"{url}/v1/sessions", headers={"origin": url}).status_code == 201
    with staff_client(url, "studio") as staff:
        assert _login(staff, "studio") == 200
        # A page on another site, opened by this logged-in staff member, posts to the studio.
        forged = staff.post(
            "/studio/gradio_api/queue/join",
            json={"fn_index": 0, "data": [], "session_hash": "x"},
            headers={"origin": EVIL},
        )
        assert forged.status_code == 403
        assert "cross-origin" in forged.json()["detail"]
        login = staff.post(
            "/studio/login",
            data={"username": STAFF.user, "password": STAFF.password},
            headers={"origin": EVIL},
        )
        assert login.status_code == 403
    # Behind a real host name Gradio echoed any Origin with credentials; no longer.
    echoed = httpx.get(f"{url}/studio/config", headers={"origin": EVIL, "host": "shop.example.com"})
    assert echoed.headers.get("access-control-allow-origin") != EVIL


def test_an_allowed_origin_may_call_the_api_and_no_other(
    make_runtime: Callable[..., Runtime],
) -> None:
    rt = make_runtime(allowed_origins=["https://shop.example.com/"])
    client = TestClient(create_app(rt, screens=False))
    ok = client.post("/v1/sessions", headers={"origin": "https://shop.example.com"})
    assert ok.status_code == 201
    assert ok.headers["access-control-allow-origin"] == "https://shop.example.com"
    other = client.post("/v1/sessions", headers={"origin": "https://shop.example.com.evil.io"})
    assert other.status_code == 403
    cross = client.post("/v1/sessions", headers={"sec-fetch-site": "cross-site"})
    assert cross.status_code == 403


def test_state_changing_staff_calls_need_the_csrf_token(live_server: LiveServer) -> None:
    with staff_client(live_server.url, "studio") as staff:
        assert _login(staff, "studio") == 200
        body = {"fn_index": 0, "data": [], "session_hash": "csrf-test"}
        token = staff.headers.pop("x-csrf-token")
        missing = staff.post("/studio/gradio_api/queue/join", json=body)
        assert missing.status_code == 403 and "CSRF" in missing.json()["detail"]
        wrong = staff.post(
            "/studio/gradio_api/queue/join", json=body, headers={"x-csrf-token": "guess"}
        )
        assert wrong.status_code == 403
        right = staff.post(
            "/studio/gradio_api/queue/join", json=body, headers={"x-csrf-token": token}
        )
        assert right.status_code != 403  # past the gate: Gradio answers it
    with httpx.Client(base_url=live_server.url) as stranger:  # never opened the page
        refused = stranger.post("/console/login", data={"username": "a", "password": "b"})
        assert refused.status_code == 403
    page = httpx.get(f"{live_server.url}/studio/")
    assert "X-CSRF-Token" in page.text  # the page's fetch calls echo the cookie


@pytest.mark.parametrize("path", ["/chat/", "/widget/", "/studio/", "/console/", "/healthz"])
def test_every_page_carries_the_security_headers(live_server: LiveServer, path: str) -> None:
    response = httpx.get(f"{live_server.url}{path}")
    headers = response.headers
    csp = headers["content-security-policy"]
    assert "frame-ancestors" in csp and "object-src 'none'" in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert "strict-transport-security" not in headers  # plain HTTP: no HSTS
    if path in ("/studio/", "/console/"):
        assert "frame-ancestors 'none'" in csp and headers["x-frame-options"] == "DENY"
    else:
        assert "frame-ancestors 'self'" in csp


def test_hsts_is_sent_over_tls(make_runtime: Callable[..., Runtime]) -> None:
    client = TestClient(create_app(make_runtime(), screens=False), base_url="https://testserver")
    sts = client.get("/healthz").headers["strict-transport-security"]
    assert sts.startswith("max-age=") and int(sts.split("=")[1].split(";")[0]) >= 31536000


def test_login_cookies_are_same_site_strict_and_expire_when_idle(
    make_runtime: Callable[..., Runtime],
) -> None:
    rt = make_runtime(staff_idle_timeout_s=3.0)
    with serving(rt) as url, staff_client(url, "console") as staff:
        login = staff.post(
            "/console/login", data={"username": STAFF.user, "password": STAFF.password}
        )
        cookies = login.headers.get_list("set-cookie")
        assert cookies and all("samesite=strict" in c.lower() for c in cookies)
        assert not any("samesite=none" in c.lower() for c in cookies)
        assert staff.get("/console/config").status_code == 200
        time.sleep(2.0)
        assert staff.get("/console/config").status_code == 200  # use restarts the idle clock
        time.sleep(2.0)
        assert staff.get("/console/config").status_code == 200  # 4 s since login, 2 s idle
        time.sleep(3.5)
        assert staff.get("/console/config").status_code == 401  # idle too long: logged out


def test_failed_logins_are_throttled_per_client_and_per_user(
    make_runtime: Callable[..., Runtime],
) -> None:
    rt = make_runtime(login_max_failures=3, trust_forwarded_for=True, proxy_hops=1)

    def attempt(staff: httpx.Client, user: str, password: str, client_ip: str) -> int:
        return staff.post(
            "/studio/login",
            data={"username": user, "password": password},
            headers={"x-forwarded-for": client_ip},
        ).status_code

    with serving(rt) as url, staff_client(url, "studio") as staff:
        codes = [attempt(staff, STAFF.user, f"guess{i}", "198.51.100.1") for i in range(5)]
        assert codes == [400, 400, 400, 429, 429]
        # The right password from that client is refused too, until the window passes.
        assert attempt(staff, STAFF.user, STAFF.password or "", "198.51.100.1") == 429
        # Per user: the same account from another address is throttled as well ...
        assert attempt(staff, STAFF.user, STAFF.password or "", "198.51.100.2") == 429
        # ... per client: another account from the first address too; others are free.
        assert attempt(staff, "someone", "x", "198.51.100.1") == 429
        assert attempt(staff, "someone", "x", "198.51.100.3") == 400


def test_uploads_are_refused_on_the_shopper_screen(live_server: LiveServer) -> None:
    for screen in ("chat", "widget"):
        upload = httpx.post(
            f"{live_server.url}/{screen}/gradio_api/upload",
            files={"files": ("big.bin", b"x" * 10_000, "application/octet-stream")},
        )
        assert upload.status_code == 403, upload.text
        assert "uploads are disabled" in upload.json()["detail"]


def test_publish_and_rollback_are_audited_and_shown_in_the_studio(
    live_server: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    from ui.studio import AUDIT_FILE, Studio

    studio = Studio(live_server.runtime)
    store = studio.store
    live = store.live("intent")
    text = store.source("intent", live).replace("JSON", "JSON ", 1)
    draft = store.save("intent", text, "audit test")
    assert store.live("intent") == live  # saved, not published
    with caplog.at_level("INFO", logger="longtail.prompts"):
        store.publish("intent", draft, "alice")
        store.rollback("intent", live, "bob")
    assert "intent: publish" in caplog.text and "by alice" in caplog.text
    records = [
        json.loads(line)
        for line in (live_server.runtime.settings.home / AUDIT_FILE).read_text().splitlines()
    ]
    assert [(r["who"], r["action"], r["version"]) for r in records[-2:]] == [
        ("alice", "publish", draft),
        ("bob", "rollback", live),
    ]
    assert all(r["template"] == "intent" and r["at"].endswith("Z") for r in records[-2:])
    with staff_client(live_server.url, "studio") as staff:
        assert _login(staff, "studio") == 200
        config = staff.get("/studio/config").json()
    shown = json.dumps(config)
    assert "lt-audit" in shown and "Audit log" in shown
