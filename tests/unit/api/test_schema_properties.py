"""Property: any JSON body gets an answer below 500, and a valid one is never refused."""

from __future__ import annotations

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.schemas import ChatRequest, RecommendRequest

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=50),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=10,
)
field_values = {
    "message": st.text(max_size=300) | json_values,
    "session_id": st.none() | st.text(max_size=40) | json_values,
    "history": st.lists(st.sampled_from(["D00001", "D00002", "zz"]) | json_values, max_size=5),
    "filters": st.fixed_dictionaries(
        {},
        optional={
            "min_price": st.floats(-10, 500) | json_values,
            "max_price": st.floats(-10, 500) | json_values,
            "brands": st.lists(st.text(max_size=20), max_size=3),
        },
    )
    | json_values,
    "tail_knob": st.floats(-1, 2) | json_values,
    "k": st.integers(-5, 80) | json_values,
}
bodies = st.fixed_dictionaries({}, optional=field_values) | json_values

SLOW = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SLOW
@given(body=bodies)
def test_any_recommend_body_is_answered_or_refused_cleanly(client: TestClient, body) -> None:
    client.app.state.runtime.limiters["recommend"].burst = 1e9
    response = client.post("/v1/recommend", json=body)
    assert response.status_code in (200, 422), response.text
    if response.status_code == 200:
        RecommendRequest.model_validate(body)  # only valid bodies pass


@SLOW
@given(body=bodies)
def test_any_chat_body_is_answered_or_refused_cleanly(client: TestClient, body) -> None:
    response = client.post("/v1/chat", json=body)
    assert response.status_code in (200, 404, 422, 429), response.text
    if response.status_code == 200:
        request = ChatRequest.model_validate(body)
        assert request.message.strip()


@SLOW
@given(
    message=st.text(min_size=1, max_size=500).filter(lambda t: t.strip() != "" and t.isprintable())
)
def test_every_printable_message_is_answered(client: TestClient, message: str) -> None:
    client.app.state.runtime.limiters["chat"].burst = 1e9
    response = client.post("/v1/chat", json={"message": message})
    assert response.status_code == 200, response.text
    assert response.json()["answer"]
