"""One client configuration for every OpenAI-compatible LLM server (vLLM, the embedded one, …).

Everything that talks to the LLM builds its client here, from the `llm.*` settings:

    config = LLMConfig.from_settings(settings.llm, base_url)
    client = openai_client(config)          # the openai SDK
    chat = chat_model(config)               # LangChain's ChatOpenAI, same URL, model, limits
    for text in stream_chat(config, messages): ...

`ensure_llm(settings)` gives a base URL to use: the configured `llm.url`, or, when none is
configured, an embedded llama.cpp server it starts (and whose handle stops it).
`health_check(config)` tells, in one clear sentence, whether the server is down or too slow.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import httpx

from core.errors import LongtailError

if TYPE_CHECKING:
    from langchain_openai import ChatOpenAI
    from openai import AsyncOpenAI, OpenAI

    from core.settings import LLMSettings, Settings
    from serving.embedded import EmbeddedServer

NO_KEY = "not-needed"  # local servers accept any key; the SDKs insist on one


class LLMError(LongtailError):
    """The LLM server is unreachable, too slow, or answered something unusable."""


class LLMUnavailable(LLMError):
    """The LLM server is down or too slow; `status` says which."""

    def __init__(self, message: str, status: str) -> None:
        super().__init__(message)
        self.status = status


def normalize_base_url(url: str) -> str:
    """`http://host:port` or `http://host:port/v1/` → `http://host:port/v1`."""
    url = url.strip().rstrip("/")
    if not url:
        raise LLMError("the LLM URL is empty")
    if not url.startswith(("http://", "https://")):
        url = f"http://{url}"
    return url if url.endswith("/v1") else f"{url}/v1"


@dataclass(frozen=True)
class LLMConfig:
    """What every client needs to reach the LLM; built only from the `llm.*` settings."""

    base_url: str
    model: str
    api_key: str = field(default=NO_KEY, repr=False)
    timeout_s: float = 120.0
    max_retries: int = 2
    max_tokens: int = 512
    temperature: float = 0.2

    @classmethod
    def from_settings(
        cls, llm: LLMSettings | Settings, base_url: str | None = None, **overrides: Any
    ) -> LLMConfig:
        """From `settings.llm` (or the whole settings); `base_url` wins over `llm.url`."""
        llm = getattr(llm, "llm", llm)
        url = base_url or llm.url
        if not url:
            raise LLMError(
                "no LLM URL: set llm.url (LONGTAIL_LLM__URL), or use ensure_llm() to start "
                "the embedded server"
            )
        values: dict[str, Any] = {
            "base_url": normalize_base_url(url),
            "model": llm.model,
            "api_key": os.environ.get(llm.api_key_env) or NO_KEY,
            "timeout_s": llm.timeout_s,
            "max_retries": llm.max_retries,
            "max_tokens": llm.max_tokens,
            "temperature": llm.temperature,
        }
        values.update(overrides)
        return cls(**values)

    def with_(self, **changes: Any) -> LLMConfig:
        from dataclasses import replace

        return replace(self, **changes)


def openai_client(config: LLMConfig) -> OpenAI:
    from openai import OpenAI

    return OpenAI(
        base_url=config.base_url,
        api_key=config.api_key,
        timeout=config.timeout_s,
        max_retries=config.max_retries,
    )


def async_openai_client(config: LLMConfig) -> AsyncOpenAI:
    from openai import AsyncOpenAI

    return AsyncOpenAI(
        base_url=config.base_url,
        api_key=config.api_key,
        timeout=config.timeout_s,
        max_retries=config.max_retries,
    )


def chat_model(config: LLMConfig, **overrides: Any) -> ChatOpenAI:
    """LangChain's ChatOpenAI on the same endpoint, model, limits and retries."""
    from langchain_openai import ChatOpenAI

    kwargs: dict[str, Any] = {
        "model": config.model,
        "base_url": config.base_url,
        "api_key": config.api_key,
        "timeout": config.timeout_s,
        "max_retries": config.max_retries,
        "max_tokens": config.max_tokens,
        "temperature": config.temperature,
        "stream_usage": True,
    }
    kwargs.update(overrides)
    return ChatOpenAI(**kwargs)


Messages = Sequence[Mapping[str, Any]]


def _request(config: LLMConfig, messages: Messages, **kwargs: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": config.model,
        "messages": list(messages),
        "max_tokens": config.max_tokens,
        "temperature": config.temperature,
    }
    body.update(kwargs)
    return body


def chat(config: LLMConfig, messages: Messages, *, client: OpenAI | None = None, **kw: Any) -> str:
    """One reply's text."""
    client = client or openai_client(config)
    with _translated(config):
        response = client.chat.completions.create(**_request(config, messages, **kw))
    return response.choices[0].message.content or ""


def stream_chat(
    config: LLMConfig, messages: Messages, *, client: OpenAI | None = None, **kw: Any
) -> Iterator[str]:
    """The reply's text as it is generated, one delta at a time."""
    client = client or openai_client(config)
    with _translated(config):
        stream = client.chat.completions.create(**_request(config, messages, stream=True, **kw))
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                yield chunk.choices[0].delta.content


def json_schema_format(schema: Mapping[str, Any], name: str = "output") -> dict[str, Any]:
    """The OpenAI `response_format` for schema-constrained output (vLLM and llama.cpp both
    honour it; vLLM ignores the older `guided_json` field)."""
    return {"type": "json_schema", "json_schema": {"name": name, "schema": dict(schema)}}


def complete_json(
    config: LLMConfig,
    messages: Messages,
    schema: Mapping[str, Any],
    *,
    name: str = "output",
    client: OpenAI | None = None,
    **kw: Any,
) -> dict[str, Any]:
    """A reply constrained to a JSON schema, parsed and validated (jsonschema).

    Small models loop on unbounded strings and lists: give every string a maxLength and
    every array a maxItems.
    """
    import jsonschema

    kw.setdefault("temperature", 0.0)
    text = chat(
        config, messages, client=client, response_format=json_schema_format(schema, name), **kw
    )
    try:
        value = json.loads(text)
        jsonschema.validate(value, schema)
    except (ValueError, jsonschema.ValidationError) as exc:
        raise LLMError(f"the model's JSON does not match the {name} schema: {exc}") from exc
    return value


ServerFlavor = Literal["llama.cpp", "vllm", "unknown"]


def server_flavor(config: LLMConfig) -> ServerFlavor:
    """Which server answers at base_url (from /models' `owned_by`)."""
    try:
        data = _get_json(config, "/models", timeout=min(10.0, config.timeout_s))
    except (httpx.HTTPError, ValueError):
        return "unknown"
    owners = {str(m.get("owned_by", "")).lower() for m in data.get("data", [])}
    if "llamacpp" in owners:
        return "llama.cpp"
    if "vllm" in owners:
        return "vllm"
    return "unknown"


def forced_tool_call(
    config: LLMConfig,
    messages: Messages,
    tools: Sequence[Mapping[str, Any]],
    *,
    flavor: ServerFlavor | None = None,
    client: OpenAI | None = None,
    **kw: Any,
) -> list[dict[str, Any]]:
    """Ask for exactly one native tool call; returns [{"name", "arguments" (a dict)}].

    `tool_choice="required"` is what vLLM enforces (structured outputs). llama.cpp accepts it
    but does not enforce it for Qwen2.5-style templates (upstream llama.cpp issue 27217: the
    grammar allows free text before the tool marker), so for llama.cpp the assistant turn is
    prefilled with the template's `<tool_call>` marker, after which its grammar holds.
    """
    flavor = flavor or server_flavor(config)
    messages = list(messages)
    if flavor == "llama.cpp":
        messages.append({"role": "assistant", "content": "<tool_call>\n"})
    kw.setdefault("temperature", 0.0)
    client = client or openai_client(config)
    with _translated(config):
        response = client.chat.completions.create(
            **_request(
                config,
                messages,
                tools=list(tools),
                tool_choice="required",
                parallel_tool_calls=False,
                **kw,
            )
        )
    calls = []
    for call in response.choices[0].message.tool_calls or []:
        try:
            arguments = json.loads(call.function.arguments or "{}")
        except ValueError as exc:
            raise LLMError(f"tool call arguments are not JSON: {exc}") from exc
        calls.append({"name": call.function.name, "arguments": arguments})
    return calls


# ---------------------------------------------------------------------------------------
# Health.


@dataclass
class Health:
    ok: bool
    status: str  # ok | down | slow | error
    message: str
    url: str
    models: list[str] = field(default_factory=list)
    latency_s: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "status": self.status,
            "message": self.message,
            "url": self.url,
            "models": self.models,
            "latency_s": self.latency_s,
        }


def _get_json(config: LLMConfig, path: str, timeout: float) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {config.api_key}"}
    response = httpx.get(f"{config.base_url}{path}", headers=headers, timeout=timeout)
    response.raise_for_status()
    return response.json()


def _down_message(url: str, reason: str) -> str:
    return (
        f"no LLM server answers at {url} ({reason}): start one with `longtail llm serve` "
        "(or serving/vllm/cpu.sh serve), or point llm.url (LONGTAIL_LLM__URL) at a running one"
    )


def _slow_message(url: str, seconds: float, what: str) -> str:
    return (
        f"the LLM server at {url} is up but too slow: {what} took longer than {seconds:g}s; "
        "it may be overloaded (other processes on its cores) or the model too big for this "
        "machine: raise llm.timeout_s, give it more threads, or use a smaller model"
    )


def health_check(config: LLMConfig, *, generate: bool = True) -> Health:
    """Is the server up, does it serve `config.model`, and does it answer within timeout_s?

    With generate=True a one-token completion is timed too, so a server that accepts
    connections but cannot produce tokens in time is reported as `slow`.
    """
    url = config.base_url
    connect_timeout = min(10.0, config.timeout_s)
    try:
        data = _get_json(config, "/models", timeout=connect_timeout)
    except httpx.ConnectError as exc:
        return Health(False, "down", _down_message(url, _reason(exc)), url)
    except httpx.TimeoutException:
        return Health(False, "slow", _slow_message(url, connect_timeout, "listing models"), url)
    except httpx.HTTPStatusError as exc:
        code = exc.response.status_code
        hint = (
            "the API key is missing or wrong: set it in the variable named by llm.api_key_env"
            if code in (401, 403)
            else "check that the URL is the server's OpenAI-compatible base (ending in /v1)"
        )
        return Health(False, "error", f"{url}/models answered HTTP {code}: {hint}", url)
    except (httpx.HTTPError, ValueError) as exc:
        return Health(False, "error", f"{url} did not answer like an OpenAI server: {exc}", url)
    models = [str(m.get("id")) for m in data.get("data", []) if m.get("id")]
    if config.model not in models and models:
        return Health(
            False,
            "error",
            f"{url} serves {', '.join(models)}, not {config.model!r}: set llm.model to one "
            "of those",
            url,
            models,
        )
    if not generate:
        return Health(True, "ok", f"{url} is up and serves {config.model}", url, models)
    started = time.perf_counter()
    try:
        chat(
            config.with_(max_retries=0),
            [{"role": "user", "content": "Say OK."}],
            max_tokens=1,
            temperature=0.0,
        )
    except LLMUnavailable as exc:
        return Health(False, exc.status, str(exc), url, models)
    except LLMError as exc:
        return Health(False, "error", str(exc), url, models)
    latency = time.perf_counter() - started
    return Health(
        True, "ok", f"{url} is up and answered in {latency:.2f}s", url, models, round(latency, 3)
    )


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if "refused" in text.lower():
        return "connection refused"
    return text.splitlines()[0][:120]


@contextlib.contextmanager
def _translated(config: LLMConfig) -> Iterator[None]:
    """openai's exceptions → LLMUnavailable / LLMError with one clear sentence."""
    import openai

    try:
        yield
    except openai.APITimeoutError as exc:
        raise LLMUnavailable(
            _slow_message(config.base_url, config.timeout_s, "one reply"), "slow"
        ) from exc
    except openai.APIConnectionError as exc:
        cause = exc.__cause__ or exc
        raise LLMUnavailable(_down_message(config.base_url, _reason(cause)), "down") from exc
    except openai.APIStatusError as exc:
        raise LLMError(
            f"the LLM server at {config.base_url} answered HTTP {exc.status_code}: "
            f"{_status_detail(exc)}"
        ) from exc


def _status_detail(exc: Any) -> str:
    with contextlib.suppress(Exception):
        body = exc.response.json()
        error = body.get("error", body)
        message = error.get("message") if isinstance(error, dict) else error
        return str(message)[:300]
    return str(exc)[:300]


# ---------------------------------------------------------------------------------------
# The LLM the app uses: the configured one, or an embedded server it starts.


@dataclass
class LLMHandle:
    """A usable LLM endpoint; `stop()` ends the embedded server if this handle started one."""

    config: LLMConfig
    server: EmbeddedServer | None = None

    @property
    def base_url(self) -> str:
        return self.config.base_url

    @property
    def embedded(self) -> bool:
        return self.server is not None

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    def __enter__(self) -> LLMHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def ensure_llm(
    settings: Settings, *, check: bool = True, log_path: Path | None = None
) -> LLMHandle:
    """The LLM to use: `llm.url` when set (health-checked), else a new embedded server.

    The embedded server assembles and verifies the packaged `llm.model` on first use, runs
    with `llm.threads` threads (0: the free cores) on 127.0.0.1, and lives until stop().
    """
    llm = settings.llm
    if llm.url:
        config = LLMConfig.from_settings(llm)
        if check:
            health = health_check(config, generate=False)
            if not health.ok:
                raise LLMUnavailable(health.message, health.status)
        return LLMHandle(config)
    from serving.embedded import start_embedded

    server = start_embedded(
        llm.model,
        settings.home,
        port=llm.port,
        threads=llm.threads,
        context=llm.context,
        log_path=log_path,
    )
    return LLMHandle(LLMConfig.from_settings(llm, server.base_url), server)
