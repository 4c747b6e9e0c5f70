"""The project's own dataset format: `items.jsonl` + `interactions.csv` in one folder.

items.jsonl       one JSON object a line; `item_id` and `title` required; `description`,
                  `category`, `brand`, `price`, `attributes` optional; any other key is
                  kept in `attributes`.
interactions.csv  header `user_id,item_id,timestamp[,event]`; timestamp in unix seconds
                  or ISO 8601; event one of view/cart/purchase/rating (default purchase).
relations.csv     optional, header `item_id,relation,other_id`: the catalog's own item
                  relations (e.g. also_bought), which the agent uses for complements.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

import numpy as np
from pydantic import ValidationError

from catalog.dataset import Dataset
from catalog.errors import BadRows, DataError
from catalog.models import EVENTS, Product

ITEMS_FILE = "items.jsonl"
INTERACTIONS_FILE = "interactions.csv"
RELATIONS_FILE = "relations.csv"
RELATION_COLUMNS = ("item_id", "relation", "other_id")
PRODUCT_FIELDS = {"item_id", "title", "description", "category", "brand", "price", "attributes"}
REQUIRED_COLUMNS = ("user_id", "item_id", "timestamp")


def is_generic(folder: Path) -> bool:
    return (folder / ITEMS_FILE).is_file() and (folder / INTERACTIONS_FILE).is_file()


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        field = ".".join(str(p) for p in item["loc"]) or "value"
        parts.append(f"field {field!r}: {item['msg']}")
    return "; ".join(parts)


def read_products(path: Path, bad: BadRows) -> list[Product]:
    """Parse items.jsonl; duplicate ids and invalid rows are DataErrors with their line."""
    products: list[Product] = []
    seen: dict[str, int] = {}
    with path.open(encoding="utf-8", errors="strict") as handle:
        for line_no, line in enumerate(_lines(path, handle), start=1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
            except json.JSONDecodeError as exc:
                bad.report(DataError(path, line_no, f"not valid JSON: {exc.msg}"))
                continue
            if not isinstance(raw, dict):
                bad.report(DataError(path, line_no, "expected a JSON object"))
                continue
            extra = {k: v for k, v in raw.items() if k not in PRODUCT_FIELDS}
            fields = {k: v for k, v in raw.items() if k in PRODUCT_FIELDS}
            if isinstance(fields.get("item_id"), int):
                fields["item_id"] = str(fields["item_id"])
            if extra:
                fields["attributes"] = {**extra, **(fields.get("attributes") or {})}
            try:
                product = Product(**fields)
            except ValidationError as exc:
                bad.report(DataError(path, line_no, _describe(exc)))
                continue
            if product.item_id in seen:
                bad.report(
                    DataError(
                        path,
                        line_no,
                        f"duplicate item_id {product.item_id!r} (first on line "
                        f"{seen[product.item_id]})",
                    )
                )
                continue
            seen[product.item_id] = line_no
            products.append(product)
    return products


def _lines(path: Path, handle: Iterable[str]) -> Iterable[str]:
    try:
        yield from handle
    except UnicodeDecodeError as exc:
        raise DataError(path, None, f"not valid UTF-8 at byte {exc.start}") from None


def parse_timestamp(value: str) -> float:
    """Unix seconds, or an ISO 8601 date/time (naive times are taken as UTC)."""
    try:
        return float(value)
    except ValueError:
        pass
    moment = datetime.fromisoformat(value.strip())
    if moment.tzinfo is None:
        from datetime import UTC

        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def read_interactions(
    path: Path, item_index: dict[str, int], bad: BadRows
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Parse interactions.csv into (user ids, user, item, timestamp, event arrays)."""
    user_index: dict[str, int] = {}
    users: list[int] = []
    items: list[int] = []
    times: list[float] = []
    events: list[int] = []
    event_codes = {name: code for code, name in enumerate(EVENTS)}
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(_lines(path, handle))
        header = next(reader, None)
        if header is None:
            raise DataError(path, 1, "empty file: expected a header user_id,item_id,timestamp")
        header = [h.strip() for h in header]
        missing = [c for c in REQUIRED_COLUMNS if c not in header]
        if missing:
            raise DataError(
                path, 1, f"missing column(s) {', '.join(missing)}; header is {','.join(header)}"
            )
        col = {name: header.index(name) for name in header}
        has_event = "event" in col
        for row in reader:
            line_no = reader.line_num
            if not row or all(not cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                bad.report(
                    DataError(path, line_no, f"expected {len(header)} fields, found {len(row)}")
                )
                continue
            user_id = row[col["user_id"]].strip()
            item_id = row[col["item_id"]].strip()
            if not user_id:
                bad.report(DataError(path, line_no, "field 'user_id' is empty"))
                continue
            item = item_index.get(item_id)
            if item is None:
                bad.report(DataError(path, line_no, f"unknown item_id {item_id!r}"))
                continue
            try:
                stamp = parse_timestamp(row[col["timestamp"]])
            except ValueError:
                bad.report(
                    DataError(
                        path,
                        line_no,
                        f"field 'timestamp': {row[col['timestamp']]!r} is neither unix "
                        "seconds nor ISO 8601",
                    )
                )
                continue
            event = row[col["event"]].strip() if has_event else "purchase"
            if event not in event_codes:
                bad.report(
                    DataError(
                        path, line_no, f"field 'event': {event!r} is not one of {', '.join(EVENTS)}"
                    )
                )
                continue
            users.append(user_index.setdefault(user_id, len(user_index)))
            items.append(item)
            times.append(stamp)
            events.append(event_codes[event])
    return (
        list(user_index),
        np.asarray(users, dtype=np.int32),
        np.asarray(items, dtype=np.int32),
        np.asarray(times, dtype=np.float64),
        np.asarray(events, dtype=np.int8),
    )


def load_generic(folder: Path, skip_bad: bool = False) -> Dataset:
    """Load a folder in the generic format; bad rows raise DataError unless `skip_bad`."""
    folder = Path(folder)
    for name in (ITEMS_FILE, INTERACTIONS_FILE):
        if not (folder / name).is_file():
            raise DataError(folder / name, None, "file not found")
    bad = BadRows(skip_bad)
    products = read_products(folder / ITEMS_FILE, bad)
    item_index = {p.item_id: i for i, p in enumerate(products)}
    user_ids, users, items, times, events = read_interactions(
        folder / INTERACTIONS_FILE, item_index, bad
    )
    relations = read_relations(folder / RELATIONS_FILE, item_index, bad)
    return Dataset(
        name=folder.name,
        products=products,
        user_ids=user_ids,
        users=users,
        items=items,
        timestamps=times,
        events=events,
        skipped=tuple(str(e) for e in bad.errors),
        relations=relations,
        _item_index=item_index,
    )


def read_relations(
    path: Path, item_index: dict[str, int], bad: BadRows
) -> dict[str, dict[str, tuple[str, ...]]]:
    """relations.csv (optional) as {relation: {item_id: (other ids, in file order)}}."""
    if not path.is_file():
        return {}
    found: dict[str, dict[str, list[str]]] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        if tuple(h.strip() for h in header) != RELATION_COLUMNS:
            raise DataError(path, 1, f"expected the header {','.join(RELATION_COLUMNS)}")
        for line_no, row in enumerate(reader, start=2):
            if len(row) != 3:
                bad.report(DataError(path, line_no, f"expected 3 fields, found {len(row)}"))
                continue
            item, relation, other = (v.strip() for v in row)
            unknown = [i for i in (item, other) if i not in item_index]
            if unknown or not relation:
                detail = f"unknown item id {unknown[0]!r}" if unknown else "empty relation"
                bad.report(DataError(path, line_no, detail))
                continue
            found.setdefault(relation, {}).setdefault(item, []).append(other)
    return {r: {i: tuple(o) for i, o in items.items()} for r, items in found.items()}


def write_generic(dataset: Dataset, folder: Path) -> None:
    """Write a dataset in the generic format, interactions in their original file order."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ITEMS_FILE).open("w", encoding="utf-8") as handle:
        for product in dataset.products:
            row = product.model_dump(exclude_defaults=True)
            row.setdefault("item_id", product.item_id)
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    if dataset.relations:
        with (folder / RELATIONS_FILE).open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(RELATION_COLUMNS)
            for relation, items in sorted(dataset.relations.items()):
                for item_id, others in items.items():
                    writer.writerows([item_id, relation, other] for other in others)
    item_ids = dataset.item_ids
    with (folder / INTERACTIONS_FILE).open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["user_id", "item_id", "timestamp", "event"])
        for user, item, stamp, event in zip(
            dataset.users, dataset.items, dataset.timestamps, dataset.events, strict=True
        ):
            writer.writerow(
                [dataset.user_ids[user], item_ids[item], _format_time(stamp), EVENTS[event]]
            )


def _format_time(stamp: float) -> str:
    return str(int(stamp)) if float(stamp).is_integer() else repr(float(stamp))
