"""A deterministic, seeded demo store: a multi-category catalog and shopper-persona logs.

The log has a real long tail (item appeal is Zipf-like) and real sequential patterns
(shoppers move from a product to its follow-ups), so every model has something to learn.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from catalog.dataset import Dataset
from catalog.demo_vocabulary import CATEGORIES, COLORS, QUALITIES, USES
from catalog.models import EVENTS, Product

START_TIME = 1_704_067_200  # 2024-01-01 UTC
EVENT_WEIGHTS = {"view": 0.55, "cart": 0.15, "purchase": 0.25, "rating": 0.05}


@dataclass(frozen=True)
class DemoConfig:
    seed: int = 7
    items: int = 6000
    users: int = 4000
    zipf_exponent: float = 1.0  # item appeal ~ catalog rank^-exponent
    follow_up_rate: float = 0.55  # chance that the next product is a follow-up of the last
    mean_session_length: float = 9.0


def _title_case(words: str) -> str:
    return " ".join(
        w if w[:1].isupper() or w[:1].isdigit() else w.capitalize() for w in words.split()
    )


def generate_catalog(
    config: DemoConfig, rng: np.random.Generator
) -> tuple[list[Product], list[dict]]:
    """Products plus, per product, the hidden facts the shopper simulation uses."""
    types = [(c, t) for c in CATEGORIES for t in c["types"]]
    products: list[Product] = []
    facts: list[dict] = []
    titles: set[str] = set()
    if config.items < len(types):
        raise ValueError(f"the demo catalog needs at least {len(types)} items, one per type")
    for position, (category, ptype) in enumerate(types):
        per_type = config.items // len(types) + (position < config.items % len(types))
        brand_tier = {b: rng.uniform(0.0, 1.0) for b in category["brands"]}
        low, high = ptype["price"]
        made = attempts = 0
        while made < per_type and attempts < per_type * 50:
            attempts += 1
            brand = str(rng.choice(category["brands"]))
            features = list(rng.choice(ptype["features"], size=2, replace=False))
            material = str(rng.choice(category["materials"]))
            color = str(rng.choice(COLORS))
            quality = str(rng.choice(QUALITIES))
            name = f"{_title_case(features[0])} {_title_case(ptype['name'])}"
            title = f"{brand} {name}, {features[1]}, {color}"
            if title in titles:
                continue
            titles.add(title)
            tier = float(np.clip(brand_tier[brand] + rng.normal(0, 0.15), 0, 1))
            price = round(low + (high - low) * tier, 0) - 0.01
            use = str(rng.choice(USES))
            description = (
                f"A {quality} {ptype['name']} {use}, made of {material}. "
                f"{features[0][:1].upper()}{features[0][1:]} and {features[1]}; comes in {color}."
            )
            item_id = f"D{len(products) + 1:05d}"
            products.append(
                Product(
                    item_id=item_id,
                    title=title,
                    description=description,
                    category=category["name"],
                    brand=brand,
                    price=max(price, 0.99),
                    attributes={
                        "type": ptype["name"],
                        "color": color,
                        "material": material,
                        "features": features,
                    },
                )
            )
            facts.append({"type": ptype["name"], "tier": tier, "color": color, "brand": brand})
            made += 1
    return products, facts


def generate_demo(config: DemoConfig | None = None) -> Dataset:
    """The whole demo dataset; the same config always gives the same data."""
    config = config or DemoConfig()
    rng = np.random.default_rng(config.seed)
    products, facts = generate_catalog(config, rng)
    type_names = sorted({f["type"] for f in facts})
    type_items: dict[str, np.ndarray] = {
        t: np.array([i for i, f in enumerate(facts) if f["type"] == t]) for t in type_names
    }
    # Appeal: a Zipf curve over a random order of the whole catalog, so a type's items span
    # from bestsellers to items almost nobody finds.
    appeal = (rng.permutation(len(products)) + 1.0) ** -config.zipf_exponent
    tiers = np.array([f["tier"] for f in facts])
    colors = np.array([f["color"] for f in facts])
    follow_ups = {t["name"]: t["follow_ups"] for c in CATEGORIES for t in c["types"]}
    category_types = {c["name"]: [t["name"] for t in c["types"]] for c in CATEGORIES}
    type_popularity = {t: rng.uniform(0.3, 1.0) for t in type_names}
    event_names = list(EVENT_WEIGHTS)
    event_p = np.array(list(EVENT_WEIGHTS.values()))

    users: list[int] = []
    items: list[int] = []
    times: list[float] = []
    events: list[int] = []
    user_ids = [f"u{n + 1:05d}" for n in range(config.users)]
    categories = [c["name"] for c in CATEGORIES]
    for user in range(config.users):
        favourites = list(rng.choice(categories, size=int(rng.integers(1, 3)), replace=False))
        budget = rng.uniform(0, 1)  # preferred price tier
        colour = str(rng.choice(COLORS))
        length = 5 + int(rng.geometric(1 / max(config.mean_session_length - 4, 1.0))) - 1
        length = min(length, 60)
        clock = START_TIME + rng.uniform(0, 365 * 86400)
        current = str(rng.choice(category_types[str(rng.choice(favourites))]))
        seen: set[int] = set()
        for _ in range(length):
            members = type_items[current]
            weight = appeal[members] * np.exp(-4.0 * np.abs(tiers[members] - budget))
            weight = weight * np.where(colors[members] == colour, 2.0, 1.0)
            weight = np.where([m in seen for m in members], 0.0, weight)
            if weight.sum() > 0:
                item = int(rng.choice(members, p=weight / weight.sum()))
                seen.add(item)
                users.append(user)
                items.append(item)
                times.append(float(int(clock)))
                events.append(EVENTS.index(event_names[rng.choice(len(event_names), p=event_p)]))
            clock += rng.exponential(3 * 86400)
            roll = rng.uniform()
            if roll < config.follow_up_rate:
                current = str(rng.choice(follow_ups[current]))
            elif roll < 0.9:
                options = category_types[str(rng.choice(favourites))]
                weights = np.array([type_popularity[t] for t in options])
                current = str(rng.choice(options, p=weights / weights.sum()))
            else:
                current = str(rng.choice(type_names))
    order = np.argsort(np.asarray(times), kind="stable")  # a log is written in time order
    return Dataset(
        name="demo",
        products=products,
        user_ids=user_ids,
        users=np.asarray(users, dtype=np.int32)[order],
        items=np.asarray(items, dtype=np.int32)[order],
        timestamps=np.asarray(times, dtype=np.float64)[order],
        events=np.asarray(events, dtype=np.int8)[order],
    )


def write_demo(folder: Path, config: DemoConfig | None = None) -> Dataset:
    """Generate the demo dataset and write it in the generic format."""
    from catalog.generic import write_generic

    dataset = generate_demo(config)
    write_generic(dataset, folder)
    return dataset
