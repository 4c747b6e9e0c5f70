"""Known shoppers (user_id), forgetting one (staff), and A/B experiments over the API, with
the fake ranker (it records every request, so the history a request carried is visible)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.web import create_app
from events.experiments import Experiment, ExperimentError, load_experiments
from runtime.container import Runtime
from tests.support.runtime import STAFF

STAFF_HEADERS = {"Authorization": f"Bearer {STAFF.token}"}
EXPERIMENT = {
    "name": "tail-knob",
    "variants": {"accuracy": {"tail_knob": 0.0}, "tail": {"tail_knob": 0.5}},
    "split": {"accuracy": 0.5, "tail": 0.5},
    "control": "accuracy",
}


def _log(client: TestClient, user: str, items: list[str], event: str = "view") -> str:
    session = client.post("/v1/sessions").json()["session_id"]
    for item in items:
        body = {"session_id": session, "item_id": item, "event": event, "user_id": user}
        response = client.post("/v1/events", json=body)
        assert response.status_code == 201, response.text
        assert response.json()["user_id"] == user
    return session


def test_a_known_shoppers_events_join_every_later_session(
    client: TestClient, runtime: Runtime, item_ids: list[str]
) -> None:
    _log(client, "shopper-7", item_ids[:3])
    _log(client, "shopper-7", item_ids[3:4], event="purchase")

    chat = client.post("/v1/chat", json={"message": "more like these", "user_id": "shopper-7"})
    assert chat.status_code == 200, chat.text
    session = runtime.sessions.get(chat.json()["session_id"]).session
    assert session.history == item_ids[:4]
    assert session.events == ["view", "view", "view", "purchase"]
    ranker = runtime.agent.services.ranker
    assert ranker.requests[-1].history[:4] == tuple(item_ids[:4])  # the turn ranked with it

    body = {"user_id": "shopper-7", "history": [item_ids[9]]}
    assert client.post("/v1/recommend", json=body).status_code == 200
    assert ranker.requests[-1].history == (*item_ids[:4], item_ids[9])  # logged, then given

    # An event in a session started with a user_id is the shopper's without naming them again.
    follow = {"session_id": session.session_id, "item_id": item_ids[5]}
    assert client.post("/v1/events", json=follow).json()["user_id"] == "shopper-7"
    assert [e.item_id for e in runtime.events.for_user("shopper-7")][-1] == item_ids[5]


def test_deleting_a_shopper_is_staff_only_and_forgets_their_history(
    client: TestClient, runtime: Runtime, item_ids: list[str]
) -> None:
    _log(client, "gone-1", item_ids[:2])
    _log(client, "stays-2", item_ids[2:3])
    assert client.delete("/v1/users/gone-1").status_code == 401
    wrong = {"Authorization": "Bearer not-the-token"}
    assert client.delete("/v1/users/gone-1", headers=wrong).status_code == 401

    deleted = client.delete("/v1/users/gone-1", headers=STAFF_HEADERS)
    assert deleted.status_code == 200 and deleted.json()["events_deleted"] == 2
    assert runtime.events.for_user("gone-1") == []
    assert len(runtime.events.for_user("stays-2")) == 1
    chat = client.post("/v1/chat", json={"message": "hello", "user_id": "gone-1"})
    assert runtime.sessions.get(chat.json()["session_id"]).session.history == []


def test_a_bad_user_id_is_a_422_naming_the_field(client: TestClient) -> None:
    response = client.post("/v1/chat", json={"message": "hi", "user_id": "me@example.com"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "user_id"]


def test_assignment_is_deterministic_and_follows_the_split() -> None:
    experiment = Experiment.model_validate({**EXPERIMENT, "split": {"accuracy": 0.8, "tail": 0.2}})
    assigned = [experiment.assign(f"user-{n}") for n in range(4000)]
    assert assigned == [experiment.assign(f"user-{n}") for n in range(4000)]
    share = Counter(assigned)["tail"] / len(assigned)
    assert 0.18 < share < 0.22, share  # binomial sd is 0.0063 at n = 4000


def test_experiment_files_with_mistakes_name_the_file_and_field(tmp_path: Path) -> None:
    path = tmp_path / "experiments.json"
    path.write_text(json.dumps({"experiments": [{**EXPERIMENT, "split": {"accuracy": 1.0}}]}))
    with pytest.raises(ExperimentError, match=r"experiments.json: experiments\[0\].*split names"):
        load_experiments(path)
    bad_knob = {**EXPERIMENT, "variants": {"accuracy": {"tail_knob": 2}, "tail": {}}}
    path.write_text(json.dumps({"experiments": [bad_knob]}))
    with pytest.raises(ExperimentError, match=r"field variants.accuracy.tail_knob"):
        load_experiments(path)
    path.write_text("{not json")
    with pytest.raises(ExperimentError, match="not valid JSON"):
        load_experiments(path)


def test_recommend_serves_variants_logs_exposures_and_reports_per_variant(
    make_runtime: Callable[..., Runtime], tmp_path: Path, item_ids: list[str]
) -> None:
    path = tmp_path / "experiments.json"
    path.write_text(json.dumps({"experiments": [EXPERIMENT]}))
    rt = make_runtime(
        experiments_file=str(path), recommend_burst=1000, sessions_burst=1000, events_burst=1000
    )
    assert [e.name for e in rt.experiments] == ["tail-knob"]
    with TestClient(create_app(rt, screens=False)) as client:
        seen: dict[str, str] = {}
        for n in range(40):
            user = f"u{n}"
            answer = client.post("/v1/recommend", json={"user_id": user, "k": 5}).json()
            assert answer["experiment"] == "tail-knob"
            seen[user] = answer["variant"]
            assert rt.agent.services.ranker.requests[-1].tail_knob == (
                0.5 if answer["variant"] == "tail" else 0.0
            )
            session = client.post("/v1/sessions").json()["session_id"]
            first = answer["items"][0]["item_id"]
            event = {"session_id": session, "item_id": first, "user_id": user}
            assert client.post("/v1/events", json=event).status_code == 201
        assert set(seen.values()) == {"accuracy", "tail"}
        fixed = client.post("/v1/recommend", json={"user_id": "u0", "tail_knob": 0.2}).json()
        assert fixed["experiment"] is None  # a caller that fixes the knob is not in it

        assert client.get("/v1/experiments").status_code == 401
        report = client.get("/v1/experiments", headers=STAFF_HEADERS).json()["experiments"][0]
    variants = report["variants"]
    assert variants["accuracy"]["units"] + variants["tail"]["units"] == 40
    for name in ("accuracy", "tail"):
        assert variants[name]["units"] == list(seen.values()).count(name)
        ctr = variants[name]["click_through"]
        assert ctr["mean"] == pytest.approx(1 / 5)  # one click on five shown, every unit
        assert ctr["low"] <= ctr["mean"] <= ctr["high"]
    assert variants["tail"]["conversion"]["mean"] == 0.0  # views only, no purchase
    assert "revenue_per_unit" in variants["tail"]  # the demo catalog has prices
    assert report["stopping_rule"]["units_needed_per_arm"] >= 2


def test_staff_retire_a_product_and_it_is_never_recommended_again(
    client: TestClient, runtime: Runtime, item_ids: list[str]
) -> None:
    first = client.post("/v1/recommend", json={"k": 10}).json()["items"][0]["item_id"]
    assert client.delete(f"/v1/products/{first}").status_code == 401
    retired = client.delete(f"/v1/products/{first}", headers=STAFF_HEADERS)
    assert retired.status_code == 200 and retired.json()["retired"] is True
    assert client.get(f"/v1/products/{first}").json()["retired"] is True
    for body in ({"k": 50}, {"k": 50, "history": [first]}, {"k": 50, "tail_knob": 1.0}):
        shown = [i["item_id"] for i in client.post("/v1/recommend", json=body).json()["items"]]
        assert shown and first not in shown
    chat = client.post("/v1/chat", json={"message": "show me everything"}).json()
    assert first not in [s["item_id"] for s in chat["suggestions"]]
    assert runtime.catalog_changes.path.is_file()  # kept for the next start
    assert client.delete("/v1/products/no-such-item", headers=STAFF_HEADERS).status_code == 404


def test_staff_change_a_product_and_new_ids_are_refused_with_the_way_to_add_them(
    client: TestClient, runtime: Runtime, item_ids: list[str]
) -> None:
    body = {"title": "Zanzibar quartz stapler", "category": "Office", "price": 12.5}
    assert client.put(f"/v1/products/{item_ids[3]}", json=body).status_code == 401
    changed = client.put(f"/v1/products/{item_ids[3]}", json=body, headers=STAFF_HEADERS)
    assert changed.status_code == 200, changed.text
    product = client.get(f"/v1/products/{item_ids[3]}").json()
    assert product["title"] == "Zanzibar quartz stapler" and product["price"] == 12.5
    new = client.put("/v1/products/brand-new-1", json=body, headers=STAFF_HEADERS)
    assert new.status_code == 409 and "longtail train" in new.json()["detail"]
    blank = client.put(f"/v1/products/{item_ids[3]}", json={"title": " "}, headers=STAFF_HEADERS)
    assert blank.status_code == 422


def _streamed_done(client: TestClient, body: dict[str, object]) -> dict[str, object]:
    response = client.post("/v1/chat/stream", json=body)
    assert response.status_code == 200, response.text
    blocks = response.text.strip().split("\n\n")
    kind, data = blocks[-1].split("\n", 1)
    assert kind == "event: done", blocks[-1]
    return json.loads(data.removeprefix("data: "))


@pytest.mark.parametrize("path", ["/v1/chat", "/v1/chat/stream"])
def test_chat_and_streamed_chat_serve_the_arm_and_log_its_exposures(
    make_runtime: Callable[..., Runtime], tmp_path: Path, path: str
) -> None:
    experiments = tmp_path / "experiments.json"
    experiments.write_text(json.dumps({"experiments": [EXPERIMENT]}))
    rt = make_runtime(experiments_file=str(experiments), chat_burst=1000)
    experiment = rt.experiments[0]
    with TestClient(create_app(rt, screens=False)) as client:
        for n in range(12):
            body = {"message": "a dog bed", "user_id": f"chatter-{n}"}
            if path.endswith("stream"):
                done = _streamed_done(client, body)
            else:
                done = client.post(path, json=body).json()
            arm = experiment.assign(f"chatter-{n}")
            assert rt.agent.services.ranker.requests[-1].tail_knob == (
                0.5 if arm == "tail" else 0.0
            )
            shown = [
                (e.item_id, e.variant)
                for e in rt.events.exposures("tail-knob")
                if e.unit == f"chatter-{n}"
            ]
            assert done["suggestions"] and shown == [
                (s["item_id"], arm) for s in done["suggestions"]
            ]
