"""Everything one server process holds: the agent, sessions, the event log, limits, staff auth.

Built once by `Runtime.open` (the production agent over a trained dataset) or directly by
tests with any agent (a fake ranker, a scripted chat model, or none: reduced mode).
"""

from __future__ import annotations

import copy
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from agent.agent import ShoppingAgent
from agent.services import Services
from agent.session import Session
from catalog.dataset import tail_mask
from catalog.models import Product
from core.settings import AgentConfig, Settings
from events.experiments import Experiment, ExperimentError, active, load_experiments
from events.log import EventStore
from runtime.auth import StaffAuth
from runtime.backends import open_event_log, open_state
from runtime.catalog_changes import CatalogChanges, RetiredExcluded, RetiredHidden
from runtime.inputs import HistoryEvent
from runtime.ratelimit import Limiter
from runtime.sessions import Sessions
from serving.client import LLMConfig, health_check


class UnknownItems(ValueError):
    def __init__(self, ids: list[str]) -> None:
        shown = ", ".join(repr(i) for i in ids[:5]) + (" ..." if len(ids) > 5 else "")
        super().__init__(f"unknown item id(s): {shown}")
        self.ids = ids


@dataclass(frozen=True)
class Assignment:
    experiment: Experiment
    unit: str
    variant: str

    def show(self, events: EventStore, item_ids: list[str]) -> None:
        """Log what this variant showed the unit (the experiment's exposures)."""
        if item_ids:
            events.record_exposures(self.experiment.name, self.variant, self.unit, item_ids)


@dataclass
class Runtime:
    settings: Settings
    agent: ShoppingAgent
    events: EventStore
    llm_config: LLMConfig | None = None
    staff: StaffAuth | None = None
    experiments: list[Experiment] = field(default_factory=list)  # api.experiments_file
    data_dir: Path | None = None  # set by `open`: where a promoted model version is loaded from
    sessions: Sessions = field(init=False)  # api.state_backend: this process or Redis
    limiters: dict[str, Limiter] = field(init=False)  # per route kind, keyed by client
    turns: threading.BoundedSemaphore = field(init=False)
    _tail: np.ndarray = field(init=False, repr=False)
    _health: tuple[float, dict[str, object]] = field(init=False, default=(0.0, {}))
    catalog_changes: CatalogChanges = field(init=False)
    _models_seen: int | None = field(init=False, default=None)  # serving.json's mtime
    _models_checked: float = field(init=False, default=0.0)
    _reloading: threading.Lock = field(init=False, default_factory=threading.Lock)
    _version_rankers: dict[str, object] = field(init=False, default_factory=dict)
    _version_lock: threading.Lock = field(init=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        api = self.settings.api
        self.sessions, self.limiters = open_state(api)
        self.turns = threading.BoundedSemaphore(api.chat_concurrency)
        if self.staff is None:
            self.staff = StaffAuth.from_settings(api)
        self._tail = tail_mask(self.dataset.item_popularity())
        if not self.experiments and api.experiments_file is not None:
            self.experiments = load_experiments(api.experiments_file)
        self.check_model_versions()
        changes = self.settings.home / "catalog-changes" / f"{self.dataset.name}.json"
        self.catalog_changes = CatalogChanges(changes)
        for product in self.catalog_changes.upserts.values():
            if self.known(product.item_id):
                self.dataset.products[self.dataset.item_index(product.item_id)] = product
        self.agent.services = self._guarded(self.agent.services)

    @classmethod
    def open(cls, settings: Settings, data_dir: Path, llm_config: LLMConfig | None) -> Runtime:
        """The production agent over `data_dir` (ingested and trained), events logged where
        `api.events_backend` says."""
        from agent.build import build_agent, open_services

        events = open_event_log(settings)  # a database that does not answer fails first
        services = open_services(settings, data_dir, settings.api.rank_worker_count())
        agent = build_agent(services, llm_config, settings.agent, settings.api.turn_timeout_s)
        rt = cls(settings, agent, events, llm_config, data_dir=data_dir)
        rt._models_seen = rt._serving_mtime()
        return rt

    @property
    def dataset(self):
        return self.agent.dataset

    def is_tail(self, item_id: str) -> bool:
        return bool(self._tail[self.dataset.item_index(item_id)])

    def known(self, item_id: str) -> bool:
        try:
            self.dataset.item_index(item_id)
        except (KeyError, ValueError, IndexError):
            return False
        return True

    def check_items(self, ids: list[str]) -> None:
        unknown = [i for i in dict.fromkeys(ids) if not self.known(i)]
        if unknown:
            raise UnknownItems(unknown)

    def new_session(self, history: list[HistoryEvent], user_id: str | None = None) -> Session:
        """A stored session, seeded with the shopper's logged events (if `user_id` is known),
        then `history` (checked); the newest `api.max_history` are kept."""
        self.check_items([h.item_id for h in history])
        session = self.agent.new_session(user_id=user_id)
        for h in [*self.logged_history(user_id), *history]:
            session.view(h.item_id, h.event)
        keep = self.settings.api.max_history
        session.history, session.events = session.history[-keep:], session.events[-keep:]
        self.sessions.create(session)
        return session

    def logged_history(self, user_id: str | None) -> list[HistoryEvent]:
        """The shopper's logged events still in the catalog, newest `api.max_history` kept."""
        if user_id is None:
            return []
        logged = [e for e in self.events.for_user(user_id) if self.known(e.item_id)]
        recent = logged[-self.settings.api.max_history :]
        return [HistoryEvent(item_id=e.item_id, event=e.event) for e in recent]  # type: ignore[arg-type]

    def add_view(self, session_id: str, item_id: str, event: str) -> None:
        """The item joins the session's history, which keeps the newest `api.max_history`."""
        limit = self.settings.api.max_history
        with self.sessions.hold(session_id) as session:
            session.view(item_id, event)
            if len(session.history) > limit:
                del session.history[:-limit]

    def experiment_for(self, user_id: str | None, session_id: str | None) -> Assignment | None:
        """The active experiment, the unit (shopper, else session) and its variant; None
        when no experiment runs or the request names no unit."""
        experiment = active(self.experiments)
        unit = user_id if experiment and experiment.unit == "user" and user_id else session_id
        if experiment is None or not unit:
            return None
        return Assignment(experiment, unit, experiment.assign(unit))

    def check_model_versions(self) -> None:
        """A variant's model version must exist with a hybrid model: refused at start, not at
        the first request of that arm."""
        from ranking.model_versions import versions_dir

        where = self.settings.api.experiments_file or "experiments"
        for experiment in self.experiments:
            for name, variant in experiment.variants.items():
                version = variant.model_version
                if version is None:
                    continue
                folder = versions_dir(self.settings.home, self.dataset.name) / version
                if not (folder / "hybrid").is_dir():
                    raise ExperimentError(
                        f"{where}: experiment {experiment.name!r} variant {name!r} field "
                        f"model_version: no model version {version!r} with a hybrid model for "
                        f"dataset {self.dataset.name!r} (see `longtail models list`)"
                    )

    def variant(self, session: Session) -> tuple[ShoppingAgent, Assignment | None]:
        """The agent a chat turn of this session uses: its experiment arm's, if any."""
        assigned = self.experiment_for(session.user_id, session.session_id)
        if assigned is None:
            return self.agent, None
        return self.variant_agent(assigned), assigned

    def variant_agent(self, assigned: Assignment) -> ShoppingAgent:
        """The agent with the arm's configuration and, if it names one, its model version."""
        agent = self.agent_with(**assigned.experiment.agent_config(assigned.variant))
        version = assigned.experiment.variants[assigned.variant].model_version
        if version is not None:
            agent.services = replace(agent.services, ranker=self.version_ranker(version))
        return agent

    def variant_ranker(self, assigned: Assignment | None) -> object:
        """The ranker for an arm: its model version's, else the serving one."""
        version = None
        if assigned is not None:
            version = assigned.experiment.variants[assigned.variant].model_version
        return self.agent.services.ranker if version is None else self.version_ranker(version)

    def version_ranker(self, version: str) -> object:
        """The hybrid ranker of a model version, loaded once and ranked in this process (not
        in ranking workers), over the serving retriever; retired products excluded."""
        from catalog.loading import load_dataset
        from ranking.artifacts import load_trained_from
        from ranking.hybrid_ranker import HybridRanker
        from ranking.model_versions import versions_dir

        with self._version_lock:
            ranker = self._version_rankers.get(version)
            if ranker is None:
                folder = versions_dir(self.settings.home, self.dataset.name) / version
                # Checked against the dataset's files, as the serving model was at start:
                # staff product changes alter this runtime's copy, not what was trained on.
                trained_on = self.dataset if self.data_dir is None else load_dataset(self.data_dir)
                scorer = load_trained_from(folder, "hybrid", trained_on)
                search = self.agent.services.search
                retriever = getattr(search, "inner", search)
                ranker = HybridRanker(self.dataset, scorer, retriever)
                self._version_rankers[version] = ranker
        return RetiredExcluded(ranker, self.catalog_changes.retired)

    def experiment_report(self, experiment: Experiment) -> dict[str, object]:
        """Per-variant results from the event log (evaluation.experiment_stats)."""
        from evaluation.experiment_stats import summarize, unit_outcomes

        def price(item_id: str) -> float | None:
            return self.agent.product(item_id).price if self.known(item_id) else None

        def tail(item_id: str) -> bool:
            return self.known(item_id) and self.is_tail(item_id)

        metrics = list(experiment.metrics)
        if not any(p.price is not None for p in self.dataset.products):
            metrics = [m for m in metrics if m != "revenue_per_unit"]  # no prices: no revenue
        metrics = [m for m in metrics if m != "recall"]  # known only to a replay
        units = unit_outcomes(self.events, experiment, tail, price)
        return summarize(units, experiment, metrics)

    def _serving_mtime(self) -> int | None:
        from ranking.model_versions import serving_file

        path = serving_file(self.settings.home, self.dataset.name)
        return path.stat().st_mtime_ns if path.is_file() else None

    def refresh_models(self) -> None:
        """Start loading a newly promoted model version in the background (checked at most
        every `api.model_check_s`); requests keep the old one until it is ready."""
        now = time.monotonic()
        if self.data_dir is None or now - self._models_checked < self.settings.api.model_check_s:
            return
        self._models_checked = now
        if self._serving_mtime() != self._models_seen and not self._reloading.locked():
            threading.Thread(target=self.reload_models, daemon=True).start()

    def reload_models(self) -> bool:
        """Serve the promoted version: new services are built, then swapped in one
        assignment. A request already running holds the old ranker and finishes on it; the
        old ranker's workers are closed once no request can still be waiting on them."""
        from agent.build import open_services

        if self.data_dir is None:
            return False
        with self._reloading:
            seen = self._serving_mtime()
            if seen == self._models_seen:
                return False
            api = self.settings.api
            fresh = self._guarded(
                open_services(self.settings, self.data_dir, api.rank_worker_count())
            )
            old, self.agent.services = self.agent.services, fresh
            self._models_seen = seen
            with self._version_lock:  # built again over the fresh retriever
                self._version_rankers.clear()
        close = getattr(old.ranker, "close", None)
        if close is not None:  # after the longest a ranking may take
            threading.Timer(api.rank_timeout_s * 2 + 1, close).start()
        return True

    def _guarded(self, services: Services) -> Services:
        """The services with retired products excluded from every ranking and search."""
        retired = self.catalog_changes.retired  # the live set: a retirement applies at once
        search = None if services.search is None else RetiredHidden(services.search, retired)
        return replace(services, ranker=RetiredExcluded(services.ranker, retired), search=search)

    def is_retired(self, item_id: str) -> bool:
        return item_id in self.catalog_changes.retired

    def upsert_product(self, product: Product) -> dict[str, object]:
        """Change a catalog product's fields now and re-embed it by the incremental ingest
        (only its text is embedded again); the ranking models learn it at the next train."""
        self.catalog_changes.upsert(product)
        self.dataset.products[self.dataset.item_index(product.item_id)] = product
        if self.data_dir is None:
            return {"reembedded": False, "why": "no vector store (a test runtime)"}
        from retrieval.ingest import ingest
        from retrieval.layout import StoreLayout
        from retrieval.snapshot import load_snapshot

        search = self.agent.services.search
        retriever = getattr(search, "inner", search)
        layout = StoreLayout.for_data(self.settings, self.data_dir)
        report = ingest(self.dataset, self.settings, layout, retriever.encoder, progress=False)
        retriever.snapshot = load_snapshot(layout.snapshots_dir)
        return {"reembedded": True, "embedded": report.embedded, "updated": report.updated}

    def agent_with(self, **config: object) -> ShoppingAgent:
        """The same agent (ranker, LLM, prompts, gate) with some AgentConfig fields changed."""
        variant = copy.copy(self.agent)
        variant.config = AgentConfig.model_validate({**self.agent.config.model_dump(), **config})
        return variant

    def close(self) -> None:
        """Stop what the runtime started: the ranking worker processes, if any."""
        close = getattr(self.agent.services.ranker, "close", None)
        if close is not None:
            close()

    def llm_health(self, max_age_s: float = 10.0) -> dict[str, object]:
        """The LLM's health (cached a few seconds; /healthz may be polled often)."""
        if self.llm_config is None:
            return {"status": "none", "ok": False, "message": "no LLM configured: reduced mode"}
        checked, value = self._health
        if time.monotonic() - checked > max_age_s:
            health = health_check(self.llm_config.with_(timeout_s=2.0), generate=False)
            value = {"status": health.status, "ok": health.ok, "message": health.message}
            self._health = (time.monotonic(), value)
        return value
