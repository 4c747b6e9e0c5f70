"""Mount the screens on the API's FastAPI app: /chat and /widget for shoppers, /console and
/studio behind the staff login (not mounted at all when no staff credential exists)."""

from __future__ import annotations

import gradio as gr
from fastapi import FastAPI
from fastapi.responses import RedirectResponse

from runtime.container import Runtime
from ui.cards import CSS


def mount_screens(app: FastAPI, rt: Runtime) -> None:
    from ui.shopper import shopper_blocks

    common = {"css": CSS, "footer_links": [], "ssr_mode": False}
    gr.mount_gradio_app(app, shopper_blocks(rt), "/chat", **common)
    gr.mount_gradio_app(app, shopper_blocks(rt, compact=True), "/widget", **common)
    staff = rt.staff
    if staff is not None and staff.enabled:
        from ui.console import console_blocks
        from ui.studio import studio_blocks

        login = {"auth": staff.check, "auth_message": "Staff login", **common}
        gr.mount_gradio_app(app, console_blocks(rt), "/console", **login)
        gr.mount_gradio_app(app, studio_blocks(rt), "/studio", **login)

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/chat/")
