"""Sessions and rate-limit buckets in a real redis-server, seen by two "replicas" (two
independent clients), and a Session's round trip through its JSON form."""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from pydantic import ValidationError

from agent.session import Constraints, Session
from bench.cluster import RedisServer, free_port
from core.settings import Settings
from runtime.redis_state import RedisRateLimiter, RedisSessionStore, StateUnavailable, connect
from runtime.session_codec import SessionCodecError, decode, encode
from runtime.sessions import SessionBusy, SessionsFull, UnknownSession

pytestmark = pytest.mark.scaleout


def _stores(server: RedisServer, n: int = 2, **kw: float) -> list[RedisSessionStore]:
    """`n` stores sharing one key prefix, each with its own connection pool: n replicas."""
    prefix = f"t{uuid.uuid4().hex[:8]}:"
    settings = {"max_sessions": 100, "ttl_s": 60.0, "lock_s": 30.0, "wait_s": 5.0} | kw
    return [
        RedisSessionStore(connect(server.url), prefix=prefix, **settings)  # type: ignore[arg-type]
        for _ in range(n)
    ]


def test_every_session_field_round_trips_through_json() -> None:
    session = Session(
        session_id="tok",
        user_id="u7",
        history=["a", "b"],
        events=["view", "cart"],
        constraints=Constraints(
            query="tent",
            product_type="tent",
            category="Outdoors",
            min_price=10.0,
            max_price=60.0,
            brands=("A",),
            exclude_brands=("B", "C"),
            attributes=("waterproof",),
        ),
        last_shown=["x", "y"],
        shown=["x", "y", "z"],
        focus="x",
        turns=3,
    )
    assert decode(encode(session)) == session
    with pytest.raises(SessionCodecError, match="unknown field"):
        decode('{"session_id": "t", "mood": "happy"}')


def test_a_session_written_by_one_replica_is_served_by_another(redis_server) -> None:
    one, two = _stores(redis_server)
    token = one.create(Session(user_id="u1"))
    with two.hold(token) as session:
        session.view("item-1", "cart")
        session.constraints = Constraints(query="lamp", max_price=30.0)
    seen = one.get(token).session
    assert (seen.session_id, seen.user_id, seen.history, seen.events) == (
        token,
        "u1",
        ["item-1"],
        ["cart"],
    )
    assert seen.constraints.max_price == 30.0
    assert len(one) == len(two) == 1
    two.drop(token)
    with pytest.raises(UnknownSession):
        one.get(token)


def test_a_failed_turn_leaves_the_stored_session_as_it_was(redis_server) -> None:
    (store,) = _stores(redis_server, 1)
    token = store.create(Session())
    with pytest.raises(RuntimeError), store.hold(token) as session:
        session.view("half-done")
        raise RuntimeError("the turn failed")
    assert store.get(token).session.history == []


def test_idle_sessions_expire_and_the_limit_counts_every_replica(redis_server) -> None:
    one, two = _stores(redis_server, max_sessions=2, ttl_s=0.5)
    first = one.create(Session())
    two.create(Session())
    with pytest.raises(SessionsFull):  # full across replicas: refused, nobody evicted
        one.create(Session())
    time.sleep(1.0)  # past the time to live
    with pytest.raises(UnknownSession):
        two.get(first)
    assert len(one) == 0
    one.create(Session())  # expired sessions free their slots


def test_one_request_of_a_session_at_a_time_across_replicas(redis_server) -> None:
    one, two = _stores(redis_server, wait_s=0.3)
    token = one.create(Session())
    inside = threading.Event()
    leave = threading.Event()

    def long_turn() -> None:
        with one.hold(token) as session:
            inside.set()
            leave.wait()
            session.view("from-one")

    worker = threading.Thread(target=long_turn)
    worker.start()
    inside.wait()
    with pytest.raises(SessionBusy), two.hold(token):
        pass  # pragma: no cover - never entered while replica one holds the session
    leave.set()
    worker.join()
    with two.hold(token) as session:  # released: the other replica goes ahead and sees it
        session.view("from-two")
    assert one.get(token).session.history == ["from-one", "from-two"]


def test_the_lock_of_a_replica_that_died_mid_turn_lapses_after_its_lease(redis_server) -> None:
    one, two = _stores(redis_server, lock_s=0.5, wait_s=5.0)
    token = one.create(Session())
    dead = one.client.lock(f"{one.prefix}lock:{token}", timeout=0.5)
    assert dead.acquire(blocking=False)  # taken and never released: its holder was killed
    with two.hold(token) as session:
        session.view("after-the-lease")
    assert one.get(token).session.history == ["after-the-lease"]


def test_a_token_bucket_is_shared_and_atomic_across_replicas(redis_server) -> None:
    prefix = f"t{uuid.uuid4().hex[:8]}:"
    limiters = [
        RedisRateLimiter(connect(redis_server.url), "chat", 6.0, 10, prefix=prefix)
        for _ in range(2)
    ]
    with ThreadPoolExecutor(8) as pool:
        waits = list(pool.map(lambda i: limiters[i % 2].take("1.2.3.4"), range(30)))
    assert sum(w == 0.0 for w in waits) == 10  # the burst, once, over both replicas
    assert all(0 < w <= 10.0 for w in waits if w > 0)  # 6/min: a token every 10 s
    assert limiters[0].take("5.6.7.8") == 0.0  # another client has its own bucket


def test_an_unreachable_redis_is_a_clear_error() -> None:
    port = free_port()  # nothing listens there
    with pytest.raises(StateUnavailable, match=f"127.0.0.1:{port}"):
        connect(f"redis://127.0.0.1:{port}/0")


def test_settings_refuse_passwords_in_urls() -> None:
    with pytest.raises(ValidationError, match="redis_password_env"):
        Settings(api={"redis_url": "redis://:hunter2@127.0.0.1:6379/0"})
    with pytest.raises(ValidationError, match="PGPASSWORD"):
        Settings(api={"postgres_dsn": "host=db password=hunter2 dbname=x"})


def test_a_turn_that_outlives_its_lease_does_not_overwrite_a_later_one(redis_server) -> None:
    one, two = _stores(redis_server, lock_s=0.5, wait_s=5.0)
    token = one.create(Session())
    with one.hold(token) as slow:
        slow.view("slow-turn")
        with two.hold(token) as fast:  # waits out the lease, then goes ahead
            fast.view("fast-turn")
    assert one.get(token).session.history == ["fast-turn"]
