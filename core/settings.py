"""One settings object, read from a TOML file and LONGTAIL_* environment variables.

Priority, lowest first: defaults < config file (`longtail.toml` in the working directory,
or the file named by LONGTAIL_CONFIG) < environment variables. Nested keys use a double
underscore in the environment: LONGTAIL_STORE__MODE=server.
"""

from __future__ import annotations

import ipaddress
import os
import re
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


def default_home() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "longtail"


class StoreSettings(BaseModel):
    """Where product vectors live."""

    mode: Literal["embedded", "server"] = Field(
        "embedded", description="embedded: Chroma in-process on disk; server: a Chroma server"
    )
    host: str = Field("127.0.0.1", description="Chroma server host (mode=server)")
    port: int = Field(8000, ge=1, le=65535, description="Chroma server port (mode=server)")
    collection: str = Field(
        "products",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$",
        description="collection name prefix",
    )
    batch_size: int = Field(
        256,
        ge=1,
        le=10_000,
        description="products embedded and written per store batch: the unit an interrupted "
        "ingest resumes from",
    )


class EncoderSettings(BaseModel):
    """How product and query text becomes vectors."""

    @model_validator(mode="before")
    @classmethod
    def _no_key_in_settings(cls, data: object) -> object:
        if isinstance(data, dict) and "api_key" in data:
            raise ValueError(
                "encoder.api_key is not a setting: put the token in the environment variable "
                "named by encoder.api_key_env (default LONGTAIL_ENCODER_API_KEY)"
            )
        return data

    kind: Literal["onnx", "sentence-transformers", "openai"] = Field(
        "onnx",
        description="onnx: the model run by ONNX Runtime (exported once; same vectors, "
        "~3x faster per query); sentence-transformers: the model run by torch; "
        "openai: an OpenAI-compatible /v1/embeddings endpoint (e.g. vLLM)",
    )
    model: str = Field(
        "all-MiniLM-L6-v2",
        description="model name; for onnx and sentence-transformers a local path or the "
        "packaged name",
    )
    url: str = Field("", description="base URL of the embeddings endpoint (kind=openai)")
    api_key_env: str = Field(
        "LONGTAIL_ENCODER_API_KEY",
        description="environment variable holding the embeddings endpoint's bearer token, if "
        "it needs one; the token itself is never a setting",
    )
    timeout: float = Field(60.0, gt=0, description="seconds to wait for the embeddings endpoint")
    batch_size: int = Field(64, ge=1, le=4096, description="texts per encoder batch")
    threads: int = Field(
        0,
        ge=0,
        le=256,
        description="ONNX Runtime threads for batches (0: every core); a query of up to 4 "
        "texts always runs on one thread",
    )
    template: str = Field(
        "{title}. {category}. {brand}. {description}",
        description="product text template; fields: title, category, brand, description, "
        "attributes",
    )


class RetrievalSettings(BaseModel):
    """How dense and sparse candidates are fused into one ranked list."""

    dense_weight: float = Field(1.0, ge=0, description="weight of the dense (Chroma) ranking")
    sparse_weight: float = Field(1.0, ge=0, description="weight of the sparse (BM25) ranking")
    rrf_k: int = Field(60, ge=1, description="reciprocal rank fusion constant: 1 / (rrf_k + rank)")
    depth: int = Field(
        100, ge=1, le=10_000, description="candidates each signal contributes before fusion"
    )
    max_query_chars: int = Field(512, ge=1, description="longest accepted query text")

    @model_validator(mode="after")
    def _some_weight(self) -> RetrievalSettings:
        if self.dense_weight == 0 and self.sparse_weight == 0:
            raise ValueError("dense_weight and sparse_weight cannot both be 0")
        return self


class LLMSettings(BaseModel):
    """The one OpenAI-compatible LLM endpoint everything talks to (serving/client.py)."""

    model_config = {"extra": "forbid"}

    @model_validator(mode="before")
    @classmethod
    def _no_key_in_settings(cls, data: object) -> object:
        if isinstance(data, dict) and "api_key" in data:
            raise ValueError(
                "llm.api_key is not a setting: put the key in the environment variable named "
                "by llm.api_key_env (default LONGTAIL_LLM_API_KEY)"
            )
        return data

    url: str = Field(
        "",
        description="base URL of an OpenAI-compatible server, e.g. http://127.0.0.1:8010/v1 "
        "(/v1 is added when missing); empty: start the embedded llama.cpp server",
    )
    model: str = Field(
        "qwen2.5-coder-0.5b",
        description="model name sent with each request; with no url, the packaged model the "
        "embedded server runs (qwen2.5-coder-0.5b, smollm2-135m, qwen2.5-coder-1.5b)",
    )
    api_key_env: str = Field(
        "LONGTAIL_LLM_API_KEY",
        description="name of the environment variable that holds the API key; the key itself "
        "is never read from a config file (unset: no key, as local servers need none)",
    )
    timeout_s: float = Field(
        120.0, gt=0, description="seconds to wait for one response before it counts as too slow"
    )
    max_retries: int = Field(
        2, ge=0, le=10, description="retries on connection errors, 429 and 5xx (with back-off)"
    )
    max_tokens: int = Field(512, ge=1, description="default cap on generated tokens per reply")
    temperature: float = Field(0.2, ge=0, le=2, description="default sampling temperature")
    threads: int = Field(
        0, ge=0, description="embedded server: CPU threads; 0 picks the cores that are free now"
    )
    context: int = Field(4096, ge=512, description="embedded server: context window in tokens")
    port: int = Field(
        0, ge=0, le=65535, description="embedded server: port on 127.0.0.1; 0 picks a free one"
    )


class ApiSettings(BaseModel):
    """`longtail serve`: the REST API and the Gradio screens on one loopback server."""

    model_config = {"extra": "forbid"}

    @model_validator(mode="before")
    @classmethod
    def _no_secret_in_settings(cls, data: object) -> object:
        if isinstance(data, dict) and ({"staff_password", "staff_token"} & set(data)):
            raise ValueError(
                "staff secrets are not settings: put them in the environment variables named "
                "by api.staff_password_env and api.staff_token_env"
            )
        return data

    host: str = Field(
        "127.0.0.1",
        description="interface to listen on; loopback by default, set 0.0.0.0 only behind a "
        "proxy you trust",
    )
    port: int = Field(8080, ge=1, le=65535, description="TCP port of the API and the screens")
    data: Path | None = Field(
        None, description="dataset folder the assistant serves; empty: the demo store"
    )
    production: bool = Field(
        False,
        description="production mode: staff screens only with credentials from the "
        "environment (no generated password), no tracebacks in error answers",
    )
    staff_user: str = Field("staff", min_length=1, description="staff login user name")
    staff_password_env: str = Field(
        "LONGTAIL_STAFF_PASSWORD",
        description="environment variable holding the staff password; unset outside "
        "production mode: a random one is generated and printed at start",
    )
    staff_token_env: str = Field(
        "LONGTAIL_STAFF_TOKEN",
        description="environment variable holding a staff bearer token (API and login, as the "
        "password of any user name)",
    )
    events_db: Path | None = Field(
        None, description="SQLite file of the durable event log; empty: <home>/events.sqlite3"
    )
    model_check_s: float = Field(
        5.0, ge=0, description="how often the server checks for a promoted model version"
    )
    experiments_file: Path | None = Field(
        None, description="JSON file of A/B experiments (docs/experiments.md); empty: none"
    )
    chat_rate_per_minute: float = Field(
        30.0, gt=0, description="chat requests per minute per client (token bucket refill)"
    )
    chat_burst: int = Field(10, ge=1, description="chat requests a client may send at once")
    chat_concurrency: int = Field(
        2, ge=1, description="agent turns run at once; more wait in a queue"
    )
    rank_workers: int = Field(
        -1,
        ge=-1,
        le=64,
        description="processes that rank requests beside the server process: -1 one per core "
        "when there are at least 2, else none; 0 rank inside the server process",
    )
    rank_timeout_s: float = Field(
        10.0,
        gt=0,
        description="seconds a ranking worker may take for one request; past it the request "
        "answers 503 and the workers are replaced (only with rank_workers > 0)",
    )
    chat_queue_timeout_s: float = Field(
        60.0, gt=0, description="seconds a chat request may wait for a turn before a 503"
    )
    turn_timeout_s: float = Field(
        30.0, gt=0, description="LLM timeout per call inside a turn (then reduced mode)"
    )
    max_message_chars: int = Field(2000, ge=1, description="longest accepted chat message")
    max_history: int = Field(
        500, ge=1, description="most history events accepted per request and kept per session"
    )
    max_sessions: int = Field(
        10_000,
        ge=1,
        description="sessions kept in memory; when all are in use new ones are refused (503)",
    )
    session_ttl_s: float = Field(
        3600.0, gt=0, description="seconds of inactivity after which a session expires"
    )
    trust_forwarded_for: bool = Field(
        False,
        description="rate-limit by the X-Forwarded-For client address (only behind your own "
        "proxy); otherwise by the connection's address",
    )
    proxy_hops: int = Field(
        1,
        ge=1,
        le=10,
        description="with trust_forwarded_for: proxies of yours in front of the server, each "
        "appending to X-Forwarded-For; the client is read from the right past them",
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="with trust_forwarded_for: addresses or networks (CIDR) of your proxies; "
        "when set, X-Forwarded-For is trusted only from them and read from the right past them "
        "(instead of counting proxy_hops)",
    )
    allowed_origins: list[str] = Field(
        default_factory=list,
        description="browser origins (scheme://host[:port]) besides the server's own that may "
        "call the API, embed the widget and post to it; empty: same origin only",
    )
    sessions_rate_per_minute: float = Field(
        10.0, gt=0, description="new sessions per minute per client (token bucket refill)"
    )
    sessions_burst: int = Field(5, ge=1, description="new sessions a client may open at once")
    events_rate_per_minute: float = Field(
        120.0, gt=0, description="events per minute per client (token bucket refill)"
    )
    events_burst: int = Field(60, ge=1, description="events a client may send at once")
    recommend_rate_per_minute: float = Field(
        60.0, gt=0, description="recommend requests per minute per client (token bucket refill)"
    )
    recommend_burst: int = Field(
        20, ge=1, description="recommend requests a client may send at once"
    )
    staff_idle_timeout_s: float = Field(
        1800.0, gt=0, description="seconds of inactivity after which a staff login expires"
    )
    login_max_failures: int = Field(
        5,
        ge=1,
        description="failed staff logins per client, and per user name, within login_window_s "
        "before further attempts are refused (429)",
    )
    login_window_s: float = Field(
        900.0, gt=0, description="seconds over which failed staff logins are counted"
    )
    events_min_free_mb: float = Field(
        64.0,
        ge=0,
        description="free MB the event log's disk must keep; below it /healthz is degraded",
    )

    state_backend: Literal["memory", "redis"] = Field(
        "memory",
        description="where chat sessions and rate-limit buckets live: memory (this process) or "
        "redis (shared by every replica: any replica serves any turn)",
    )
    redis_url: str = Field(
        "redis://127.0.0.1:6379/0",
        description="Redis server (state_backend=redis): redis://, rediss:// or unix://; no "
        "password here (see redis_password_env)",
    )
    redis_password_env: str = Field(
        "LONGTAIL_REDIS_PASSWORD",
        description="environment variable holding the Redis password, if the server needs one",
    )
    redis_prefix: str = Field(
        "longtail:",
        min_length=1,
        description="prefix of every Redis key this shop writes (one Redis may serve several)",
    )
    session_lock_s: float = Field(
        300.0,
        gt=0,
        description="state_backend=redis: lease of a session's lock (one request of a session "
        "at a time across replicas); a replica that dies mid-turn frees it after this long",
    )
    events_backend: Literal["sqlite", "postgres"] = Field(
        "sqlite",
        description="where the durable event log lives: sqlite (api.events_db, one per host) or "
        "postgres (one log for every replica)",
    )
    postgres_dsn: str = Field(
        "postgresql://127.0.0.1:5432/longtail",
        description="PostgreSQL database of the event log (events_backend=postgres), a libpq "
        "URL or key=value string; no password here (use PGPASSWORD or ~/.pgpass)",
    )
    postgres_pool_size: int = Field(
        4, ge=1, le=100, description="most connections one replica opens to PostgreSQL"
    )

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in ("redis", "rediss", "unix"):
            raise ValueError(f"{url!r} is not a redis://, rediss:// or unix:// URL")
        if parts.password:
            raise ValueError("no password in api.redis_url: put it in api.redis_password_env")
        return url

    @field_validator("postgres_dsn")
    @classmethod
    def _postgres_dsn(cls, dsn: str) -> str:
        if urlsplit(dsn).password or re.search(r"(^|\s)password\s*=", dsn):
            raise ValueError("no password in api.postgres_dsn: use PGPASSWORD or ~/.pgpass")
        return dsn

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_networks(cls, entries: list[str]) -> list[str]:
        for entry in entries:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"{entry!r} is not an IP address or network") from None
        return entries

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, entries: list[str]) -> list[str]:
        """Origins as browsers send them: scheme://host[:port], lower case, no path."""
        cleaned = []
        for entry in entries:
            parts = urlsplit(entry.strip().rstrip("/").lower())
            if parts.scheme not in ("http", "https") or not parts.netloc or parts.path:
                raise ValueError(f"{entry!r} is not an origin like https://shop.example.com")
            cleaned.append(f"{parts.scheme}://{parts.netloc}")
        return cleaned

    def rank_worker_count(self) -> int:
        """`rank_workers` resolved: -1 becomes the core count (0 on a single core)."""
        if self.rank_workers >= 0:
            return self.rank_workers
        cores = os.cpu_count() or 1
        return cores if cores >= 2 else 0


class DemoSettings(BaseModel):
    """Size of the generated demo store (`longtail demo`); small values make quick test stores."""

    model_config = {"extra": "forbid"}

    items: int = Field(
        6000,
        ge=120,
        le=1_000_000,
        description="products in the demo catalog (at least 120: one per product type)",
    )
    users: int = Field(4000, ge=10, le=1_000_000, description="simulated shoppers in the demo")


class FeedbackSettings(BaseModel):
    """`longtail train --with-events` and the promotion gate (docs/operations.md)."""

    model_config = {"extra": "forbid"}

    view_weight: int = Field(
        1, ge=0, le=10, description="times a logged view counts in training (0: views unused)"
    )
    cart_weight: int = Field(2, ge=0, le=10, description="times a logged add-to-cart counts")
    purchase_weight: int = Field(3, ge=0, le=10, description="times a logged purchase counts")
    gate_margin: float = Field(
        0.01,
        ge=0,
        le=1,
        description="most a new version's recall@10 or tail_recall@10 may fall below the "
        "serving version's, on either gate slice, and still be promoted",
    )
    gate_min_queries: int = Field(
        20, ge=1, description="fewest held-back event queries for the events slice to count"
    )


class AgentConfig(BaseModel):
    """How the shopping agent runs a turn (`longtail serve`, `longtail eval-chat`). Token
    budgets are per LLM call; at ~12 tokens/s on 2 CPU cores each token is ~80 ms."""

    model_config = {"extra": "forbid", "frozen": True}

    mode: Literal["guided", "tools"] = Field(
        "guided",
        description="guided: the agent plans, the LLM fills typed steps; tools: the LLM calls "
        "the tools itself",
    )
    k: int = Field(3, ge=1, le=50, description="suggestions shown per turn")
    tail_knob: float | None = Field(
        None,
        ge=0,
        le=1,
        description="how far tail items may pass head items (none: the ranker's "
        "validation-chosen knob)",
    )
    intent_max_tokens: int = Field(
        96,
        ge=1,
        description="token budget of the intent call (a refused brand with three product "
        "kinds passed 64)",
    )
    expand_max_tokens: int = Field(
        40, ge=1, description="token budget of the expansion call (product kinds for a need)"
    )
    answer_max_tokens: int = Field(28, ge=1, description="token budget of the answer call")
    tools_max_steps: int = Field(3, ge=1, le=20, description="tool calls per turn (tools mode)")
    prefill_tool_call: bool = Field(
        False,
        description="start the LLM's reply with <tool_call>; set on by itself in tools mode "
        "on llama.cpp",
    )
    prompt_versions: dict[str, int] = Field(
        default_factory=dict,
        description="prompt name -> version to use (others: the live version)",
    )
    llm_cooldown_s: float = Field(
        30.0, ge=0, description="seconds without LLM calls after the LLM failed (reduced mode)"
    )
    overfetch: int = Field(
        10, ge=1, description="ranked items asked for per suggestion shown, to keep the asked kind"
    )


class Settings(BaseSettings):
    """Every configuration key of longtail; see docs/configuration.md."""

    model_config = SettingsConfigDict(
        env_prefix="LONGTAIL_",
        env_nested_delimiter="__",
        toml_file="longtail.toml",
        extra="forbid",
    )

    home: Path = Field(
        default_factory=default_home,
        description="data directory: demo store, vector stores, models, artifacts, logs",
    )
    seed: int = Field(7, description="seed for the demo generator, sampling and training")
    store: StoreSettings = Field(default_factory=StoreSettings)
    encoder: EncoderSettings = Field(default_factory=EncoderSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    demo: DemoSettings = Field(default_factory=DemoSettings)
    feedback: FeedbackSettings = Field(default_factory=FeedbackSettings)
    agent: AgentConfig = Field(default_factory=AgentConfig)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = os.environ.get("LONGTAIL_CONFIG", "longtail.toml")
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=toml_file),
        )

    @property
    def demo_dir(self) -> Path:
        return self.home / "demo"


def load_settings(**overrides: object) -> Settings:
    """Read the settings; a bad config file or variable raises a ValidationError naming the key."""
    config = os.environ.get("LONGTAIL_CONFIG")
    if config and not Path(config).is_file():
        raise FileNotFoundError(f"LONGTAIL_CONFIG names {config}, which does not exist")
    return Settings(**overrides)
