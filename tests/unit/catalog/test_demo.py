"""The demo store: deterministic, big enough, realistic, and with a real long tail."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog.dataset import tail_interaction_share
from catalog.demo import DemoConfig, generate_demo


def test_default_demo_is_a_realistic_multi_category_store() -> None:
    dataset = generate_demo()
    assert dataset.n_items >= 5000
    assert len({p.category for p in dataset.products}) >= 8
    assert len({p.brand for p in dataset.products}) >= 50
    assert all(p.description and p.price and p.price > 0 for p in dataset.products)
    assert len({p.title for p in dataset.products}) == dataset.n_items
    stats = dataset.stats()
    assert stats["tail_interaction_share"] <= 0.40
    assert stats["events"]["view"] > 0 and stats["events"]["purchase"] > 0


def test_same_seed_same_data_other_seed_other_data() -> None:
    small = DemoConfig(items=600, users=200)
    first, again = generate_demo(small), generate_demo(small)
    assert first.fingerprint() == again.fingerprint()
    other = generate_demo(DemoConfig(items=600, users=200, seed=8))
    assert other.fingerprint() != first.fingerprint()


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    items=st.integers(2400, 4000),
    users_per_item=st.floats(0.25, 0.67),
)
def test_least_popular_80_percent_get_at_most_40_percent(
    seed: int, items: int, users_per_item: float
) -> None:
    """Holds for any seed at the demo's density (about 2 shoppers per 3 products) or sparser."""
    dataset = generate_demo(DemoConfig(seed=seed, items=items, users=int(items * users_per_item)))
    assert tail_interaction_share(dataset.item_popularity()) <= 0.40
