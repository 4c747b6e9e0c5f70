"""One gate in front of the API and every screen (docs/security.md):

- security headers on every answer: a CSP with frame-ancestors (staff screens: never framed;
  shopper screens: this origin and `api.allowed_origins`), X-Content-Type-Options,
  Referrer-Policy, and HSTS when the request came over TLS;
- state-changing requests (POST, PUT, PATCH, DELETE) from a browser page of another origin
  are refused unless that origin is in `api.allowed_origins`;
- staff screens: a CSRF token (double-submit: the `lt-csrf` cookie, echoed by the page's
  fetch calls in the X-CSRF-Token header) on every state-changing call; login cookies
  rewritten to SameSite=Strict; a login token idle past `api.staff_idle_timeout_s` no longer
  counts; failed logins throttled per client and per user name;
- file uploads refused on every screen (none of them takes a file).

Gradio's own CORS layer echoes any Origin with credentials; `install` adds Starlette's
CORSMiddleware with the allowed origins, which Gradio defers to.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Sequence
from urllib.parse import urlsplit

from fastapi import FastAPI
from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.asgi_parts import cookies, form_user, read_body, refuse, replay
from api.staff_guard import LoginThrottle, StaffLogins
from core.settings import ApiSettings
from runtime.clients import client_address

STAFF_SCREENS = ("/console", "/studio")
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_COOKIE = "lt-csrf"
CSRF_HEADER = "x-csrf-token"
LOGIN_COOKIE_PREFIX = "access-token"
UPLOAD_SUFFIX = "/gradio_api/upload"

# Put first in the staff pages' <head>: every same-origin fetch carries the CSRF cookie.
CSRF_SCRIPT = """<script>(() => {
  const send = window.fetch;
  const token = () => (document.cookie.match(/(?:^|; )lt-csrf=([^;]+)/) || [])[1] || "";
  window.fetch = (input, init = {}) => {
    const url = new URL(input instanceof Request ? input.url : String(input), location.href);
    if (url.origin !== location.origin) return send(input, init);
    const headers = new Headers(init.headers || (input instanceof Request ? input.headers : {}));
    headers.set("X-CSRF-Token", token());
    return send(input, { ...init, headers });
  };
})();</script>"""

_CSP_PAGE = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; "
    "connect-src 'self'; media-src 'self' blob:; worker-src 'self' blob:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'"
)
_CSP_API_DOCS = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "img-src 'self' data: https://fastapi.tiangolo.com; object-src 'none'; base-uri 'self'"
)


def install(app: FastAPI, api: ApiSettings) -> None:
    """Add the CORS policy and the gate to `app` (before the body-size cap wraps them)."""
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(api.allowed_origins),
        allow_credentials=True,
        allow_methods=["GET", "POST"],
        allow_headers=["content-type", "authorization"],
    )
    app.add_middleware(SecurityGate, api=api)


def _is_under(path: str, prefixes: Sequence[str]) -> bool:
    return any(path == p or path.startswith(p + "/") for p in prefixes)


def _origin_of(headers: Headers, scheme: str) -> str:
    """This server's origin as the browser sees it (the Host header)."""
    return f"{scheme}://{headers.get('host', '').lower()}"


def _same_host(origin: str, own: str) -> bool:
    """Same host and port; the scheme may differ behind a TLS-terminating proxy."""
    a, b = urlsplit(origin.lower()), urlsplit(own)
    default = {"http": 80, "https": 443}
    try:
        port_a = a.port or default.get(a.scheme)
        port_b = b.port or default.get(b.scheme)
    except ValueError:
        return False
    same_port = port_a == port_b or {a.scheme, b.scheme} == {"http", "https"}
    return a.hostname == b.hostname and same_port


class SecurityGate:
    def __init__(self, app: ASGIApp, api: ApiSettings) -> None:
        self.app = app
        self.api = api
        self.allowed = set(api.allowed_origins)
        self.logins = StaffLogins(api.staff_idle_timeout_s)
        self.throttle = LoginThrottle(api.login_max_failures, api.login_window_s)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        path: str = scope["path"]
        staff = _is_under(path, STAFF_SCREENS)
        refusal = self._refusal(scope, headers, path, staff)
        if refusal is not None:
            await refuse(send, *refusal)
            return
        self._drop_stale_logins(scope, headers)
        is_login = staff and scope["method"] == "POST" and path.rstrip("/").endswith("/login")
        if is_login:
            await self._login(scope, receive, send, headers)
            return
        await self.app(scope, receive, self._sender(send, scope, headers, staff))

    def _refusal(
        self, scope: Scope, headers: Headers, path: str, staff: bool
    ) -> tuple[int, str, dict[str, str]] | None:
        if scope["method"] not in UNSAFE_METHODS:
            return None
        origin = headers.get("origin")
        own = _origin_of(headers, scope.get("scheme", "http"))
        if origin is not None and origin.lower() not in self.allowed:
            if not _same_host(origin, own):
                return 403, f"cross-origin request from {origin} refused", {}
        elif origin is None and headers.get("sec-fetch-site") == "cross-site":
            return 403, "cross-site request refused", {}
        if path.rstrip("/").endswith(UPLOAD_SUFFIX):
            return 403, "file uploads are disabled", {}
        if staff:
            cookie = cookies(headers).get(CSRF_COOKIE, "")
            given = headers.get(CSRF_HEADER, "")
            if not cookie or not hmac.compare_digest(cookie.encode(), given.encode()):
                return 403, "missing or wrong CSRF token: reload the page and try again", {}
        return None

    def _drop_stale_logins(self, scope: Scope, headers: Headers) -> None:
        """Remove login cookies whose token is idle too long or was never issued here."""
        jar = cookies(headers)
        stale = [
            name
            for name, value in jar.items()
            if name.startswith(LOGIN_COOKIE_PREFIX) and not self.logins.use(value)
        ]
        if not stale:
            return
        kept = "; ".join(f"{n}={v}" for n, v in jar.items() if n not in stale)
        raw = [(k, v) for k, v in scope["headers"] if k != b"cookie"]
        if kept:
            raw.append((b"cookie", kept.encode("latin-1")))
        scope["headers"] = raw

    async def _login(self, scope: Scope, receive: Receive, send: Send, headers: Headers) -> None:
        body = await read_body(receive)
        user = await form_user(scope, body)
        peer = (scope.get("client") or (None,))[0]
        keys = (f"client:{client_address(peer, headers, self.api)}", f"user:{user}")
        wait = self.throttle.wait(*keys)
        if wait > 0:
            retry = {"retry-after": str(max(1, round(wait + 0.5)))}
            await refuse(send, 429, "too many failed logins; try again later", retry)
            return
        status: list[int] = []

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await forward(message)

        forward = self._sender(send, scope, headers, staff=True)
        await self.app(scope, replay(body), watch)
        if status and status[0] == 400:
            self.throttle.failed(*keys)

    def _sender(self, send: Send, scope: Scope, request: Headers, staff: bool) -> Send:
        tls = scope.get("scheme") == "https"
        needs_csrf = staff and CSRF_COOKIE not in cookies(request)
        path: str = scope["path"]
        ancestors = "'none'" if staff else " ".join(["'self'", *sorted(self.allowed)])
        docs = path in ("/docs", "/redoc") or path.startswith("/docs/")
        csp = f"{_CSP_API_DOCS if docs else _CSP_PAGE}; frame-ancestors {ancestors}"

        held: list[Message] = []  # a staff HTML page, until its body is complete
        body: list[bytes] = []

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = MutableHeaders(scope=message)
                out["content-security-policy"] = csp
                out["x-content-type-options"] = "nosniff"
                out["referrer-policy"] = "same-origin"
                if staff:
                    out["x-frame-options"] = "DENY"
                    out["cache-control"] = "no-store"
                if tls:
                    out["strict-transport-security"] = "max-age=31536000; includeSubDomains"
                self._rewritecookies(out)
                if needs_csrf:
                    value = secrets.token_urlsafe(32)
                    secure = "; Secure" if tls else ""
                    out.append(
                        "set-cookie", f"{CSRF_COOKIE}={value}; Path=/; SameSite=Strict{secure}"
                    )
                if staff and out.get("content-type", "").startswith("text/html"):
                    held.append(message)
                    return
            elif held and message["type"] == "http.response.body":
                body.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                page = _with_csrf_script(b"".join(body))
                start = held.pop()
                MutableHeaders(scope=start)["content-length"] = str(len(page))
                await send(start)
                message = {"type": "http.response.body", "body": page, "more_body": False}
            await send(message)

        return wrapped

    def _rewritecookies(self, out: MutableHeaders) -> None:
        """Every cookie SameSite=Strict; a new login token starts its idle clock."""
        cookies = out.getlist("set-cookie")
        if not cookies:
            return
        del out["set-cookie"]
        for cookie in cookies:
            parts = [p.strip() for p in cookie.split(";")]
            kept = [p for p in parts if not p.lower().startswith("samesite")]
            name, _, value = parts[0].partition("=")
            if name.startswith(LOGIN_COOKIE_PREFIX) and value:
                self.logins.issued(value.strip('"'))
            out.append("set-cookie", "; ".join([*kept, "SameSite=Strict"]))


def _with_csrf_script(page: bytes) -> bytes:
    """The page with the CSRF script first in its <head>, before Gradio's own scripts run
    (the login form too, which Gradio renders before any of its `head` settings apply)."""
    script = CSRF_SCRIPT.encode()
    at = page.lower().find(b"<head>")
    return page[: at + 6] + script + page[at + 6 :] if at >= 0 else script + page
