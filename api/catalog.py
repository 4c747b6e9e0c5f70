"""Ranking without the LLM, products, durable events and health."""

from __future__ import annotations

from contextlib import suppress

from fastapi import APIRouter, HTTPException, Request

from agent.explain import explain
from agent.session import Constraints
from api.deps import RuntimeDep, check_sizes, rate_limit, require_staff, session_slot
from api.schemas import (
    EventRequest,
    EventResponse,
    ProductResponse,
    ProductUpsert,
    RecommendedItem,
    RecommendRequest,
    RecommendResponse,
    history_events,
)
from catalog.models import Product
from core.errors import LongtailError, ServiceUnavailable
from ranking.request import RankedItem, RankRequest
from runtime.sessions import UnknownSession

router = APIRouter(tags=["catalog"])


@router.post("/v1/recommend", response_model=RecommendResponse, summary="rank products")
def recommend(request: Request, body: RecommendRequest, rt: RuntimeDep) -> RecommendResponse:
    """The hybrid ranker alone (no LLM): history + filters + tail knob → items with reasons."""
    rate_limit(request, rt, "recommend")
    rt.refresh_models()
    history = history_events(body.history)
    check_sizes(rt, body.message, history)
    history = [*rt.logged_history(body.user_id), *history][-rt.settings.api.max_history :]
    assigned = rt.experiment_for(body.user_id, body.session_id)
    if body.tail_knob is not None:
        assigned = None  # the caller fixed the knob: not part of the experiment
    tail_knob = body.tail_knob
    if assigned is not None:
        tail_knob = assigned.experiment.variants[assigned.variant].tail_knob
    f = body.filters
    rank_request = RankRequest(
        history=tuple(h.item_id for h in history),
        events=tuple(h.event for h in history),
        message=body.message,
        filters=f.exact(),
        tail_knob=tail_knob,
        k=body.k,
    )
    try:
        result = rt.variant_ranker(assigned).rank(rank_request)
    except ServiceUnavailable:
        raise  # a retryable 503 (app.web), not the caller's mistake
    except LongtailError as exc:
        raise HTTPException(422, str(exc)) from None
    wanted = Constraints(
        query=body.message,
        category=f.categories[0] if len(f.categories) == 1 else "",
        min_price=f.min_price,
        max_price=f.max_price,
        brands=tuple(f.brands),
        exclude_brands=tuple(f.exclude_brands),
    )
    title_of = lambda item_id: rt.agent.product(item_id).title  # noqa: E731

    def explanation(item: RankedItem) -> str:
        return explain(item, rt.agent.product(item.item_id), wanted, title_of)

    items = [
        RecommendedItem.model_validate({**i.as_dict(), "explanation": explanation(i)})
        for i in result.items
    ]
    if assigned is not None:
        assigned.show(rt.events, [i.item_id for i in items])
    return RecommendResponse(
        items=items,
        tail_knob=result.tail_knob,
        candidates=result.candidates,
        timings_ms=result.timings_ms,
        experiment=assigned.experiment.name if assigned else None,
        variant=assigned.variant if assigned else None,
    )


@router.get("/v1/products/{item_id}", response_model=ProductResponse, summary="one product")
def product(item_id: str, rt: RuntimeDep) -> ProductResponse:
    if len(item_id) > 200 or not rt.known(item_id):
        raise HTTPException(404, f"no product with id {item_id[:200]!r}")
    p = rt.agent.product(item_id)
    return ProductResponse(
        **p.model_dump(),
        tail=rt.is_tail(item_id),
        retired=rt.is_retired(item_id),
    )


@router.put("/v1/products/{item_id}", summary="change a product (staff)")
def put_product(
    item_id: str, body: ProductUpsert, request: Request, rt: RuntimeDep
) -> dict[str, object]:
    """Replace a catalog product's fields; it is re-embedded by the incremental ingest and
    searched with its new text at once. A product retired before is offered again. New ids
    join through the dataset files and `longtail train` (the models rank known ids only)."""
    require_staff(request, rt)
    if len(item_id) > 200 or not rt.known(item_id):
        raise HTTPException(
            409,
            f"no product with id {item_id[:200]!r} in the trained catalog: add new products to "
            "the dataset's items.jsonl, then run `longtail ingest` and `longtail train`",
        )
    product = Product(item_id=item_id, **body.model_dump())
    return {"item_id": item_id, **rt.upsert_product(product)}


@router.delete("/v1/products/{item_id}", summary="retire a product (staff)")
def retire_product(item_id: str, request: Request, rt: RuntimeDep) -> dict[str, object]:
    """From this request on the product is never recommended or found by search; its
    events and history entries stay."""
    require_staff(request, rt)
    if len(item_id) > 200 or not rt.known(item_id):
        raise HTTPException(404, f"no product with id {item_id[:200]!r}")
    rt.catalog_changes.retire(item_id)
    return {"item_id": item_id, "retired": True}


@router.post("/v1/events", response_model=EventResponse, status_code=201, summary="record an event")
def record_event(request: Request, body: EventRequest, rt: RuntimeDep) -> EventResponse:
    """Committed to the event log before this answers (503 if it cannot be stored); the item
    joins the session's history, which keeps the newest `api.max_history` events."""
    rate_limit(request, rt, "events")
    slot = session_slot(rt, body.session_id)
    if not rt.known(body.item_id):
        raise HTTPException(422, f"unknown item id {body.item_id!r}")
    user_id = body.user_id or slot.session.user_id
    event_id = rt.events.record(body.session_id, body.item_id, body.event, user_id=user_id)
    with suppress(UnknownSession):  # expired since the check: the event is logged all the same
        rt.add_view(body.session_id, body.item_id, body.event)
    return EventResponse(
        id=event_id,
        session_id=body.session_id,
        item_id=body.item_id,
        event=body.event,
        user_id=user_id,
    )


@router.delete("/v1/users/{user_id}", summary="forget a shopper (staff)")
def delete_user(user_id: str, request: Request, rt: RuntimeDep) -> dict[str, object]:
    """Erase the shopper's logged events and experiment exposures: later sessions start
    without them. Models trained before keep what they learned until the next retrain."""
    require_staff(request, rt)
    if not 1 <= len(user_id) <= 64:
        raise HTTPException(422, "user_id must be 1 to 64 characters")
    return {"user_id": user_id, "events_deleted": rt.events.delete_user(user_id)}


@router.get("/v1/experiments", summary="per-variant results of the experiments (staff)")
def experiments(request: Request, rt: RuntimeDep) -> dict[str, object]:
    """Click-through, conversion, tail exposure share and revenue per variant, with 95%
    intervals, differences from control and the fixed-horizon stopping rule."""
    require_staff(request, rt)
    return {"experiments": [rt.experiment_report(e) for e in rt.experiments]}


@router.post("/v1/sessions", status_code=201, tags=["chat"], summary="start a session")
def start_session(request: Request, rt: RuntimeDep) -> dict[str, str]:
    """A new empty session id, for events recorded before the first chat message; a 503
    when every session slot is in use (live sessions are never dropped for a new one)."""
    rate_limit(request, rt, "sessions")
    return {"session_id": rt.new_session([]).session_id}


@router.get("/healthz", summary="liveness and dependencies")
def healthz(rt: RuntimeDep) -> dict[str, object]:
    """`ok` while the API can rank and record (the event log took a probe write and its disk
    has room); the LLM may be down (then chat is reduced)."""
    events = rt.events.health(rt.settings.api.events_min_free_mb)
    return {
        "status": "ok" if events.ok else "degraded",
        "items": rt.dataset.n_items,
        "sessions": len(rt.sessions),
        "events_db": events.ok,
        "events_problem": events.problem,
        "events_free_mb": None if events.free_mb is None else round(events.free_mb, 1),
        "llm": rt.llm_health(),
    }
