"""The REST API: routes, request and response bodies, and HTTP security; `app` mounts the
screens beside it."""
