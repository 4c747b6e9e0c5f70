"""Per-candidate features of the hybrid ranker, computed for a batch of requests at once.

Every signal is a full-catalog score row per request (the semantic visor's cosine, the
intent encoder, ItemKNN, ALS, first-order transitions, BM25 for the message, LLM-written
descriptions). Each gives two features per candidate: its z-score over the allowed items,
so scales are comparable, and a rank feature 1 / log2(2 + rank), which is how far up that
signal alone would put it. Context features (popularity overall and among the latest
interactions, category and price fit to the history) complete the vector.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Raw signals, each a (batch, n_items) score matrix; absent signals give zero features.
SIGNALS = ("semantic", "message", "sparse", "intent", "knn", "als", "markov", "llm")
CONTEXT = ("popularity", "recent_popularity", "category_share", "price_fit")
FEATURES = tuple(f"{s}_{kind}" for s in SIGNALS for kind in ("z", "rank")) + CONTEXT

# Which explanation-level signal each feature belongs to (what contributions are summed to).
GROUP = {
    **{f"{s}_{kind}": s for s in SIGNALS for kind in ("z", "rank")},
    "message_z": "semantic",
    "message_rank": "semantic",
    "knn_z": "cf",
    "knn_rank": "cf",
    "als_z": "cf",
    "als_rank": "cf",
    "markov_z": "cf",
    "markov_rank": "cf",
    "popularity": "popularity",
    "recent_popularity": "popularity",
    "category_share": "context",
    "price_fit": "context",
}

# Candidate generators (RankRequest.SOURCES) and the signals whose top lists they contribute.
GENERATORS = {
    "semantic": ("semantic", "message"),
    "sparse": ("sparse",),
    "intent": ("intent",),
    "cf": ("knn", "als", "markov"),
    "llm": ("llm",),
}


RECENT_WINDOW = 3  # a shopper's latest interactions that count as recent popularity


@dataclass
class CatalogContext:
    """Per-item facts the context features need."""

    popularity: np.ndarray  # (n_items,) training interactions
    recent: np.ndarray  # (n_items,) of those, among each shopper's RECENT_WINDOW latest
    category: np.ndarray  # (n_items,) category code, -1 = none
    price: np.ndarray  # (n_items,) price, nan = unknown

    @property
    def n_categories(self) -> int:
        return int(self.category.max()) + 1 if len(self.category) else 0


def recent_counts(sequences: list[np.ndarray], n_items: int) -> np.ndarray:
    """Per item, how often it is among a shopper's RECENT_WINDOW latest interactions: what
    is in demand now, read from the sequences alone (no timestamps needed)."""
    latest = [s[-RECENT_WINDOW:] for s in sequences if len(s)]
    if not latest:
        return np.zeros(n_items, dtype=np.int64)
    return np.bincount(np.concatenate(latest), minlength=n_items)


def zscores(scores: np.ndarray, allowed: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """(batch, C) z-scores of the candidates among the allowed items of their row."""
    count = np.maximum(allowed.sum(axis=1, keepdims=True), 1)
    kept = np.where(allowed, scores, 0.0).astype(np.float64)
    mean = kept.sum(axis=1, keepdims=True) / count
    centred = np.where(allowed, scores - mean, 0.0)
    std = np.sqrt((centred * centred).sum(axis=1, keepdims=True) / count)
    safe = np.maximum(candidates, 0)
    z = (np.take_along_axis(scores, safe, axis=1) - mean) / np.maximum(std, 1e-9)
    return np.where(np.take_along_axis(allowed, safe, axis=1), z, 0.0).astype(np.float32)


def rank_features(scores: np.ndarray, allowed: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """(batch, C) 1 / log2(2 + rank) of each candidate among the allowed items of its row
    (best = 1; ties in item order, as a stable sort would put them).

    Only the candidates' ranks are needed, so instead of sorting the row's items by score,
    a candidate's rank is the count of allowed items scoring above it (a search in the
    sorted scores) plus the count of its ties with a smaller index.
    """
    masked = np.where(allowed, scores, -np.inf)
    n = masked.shape[1]
    ranks = np.zeros(candidates.shape, dtype=np.int64)
    for row in range(masked.shape[0]):
        items = candidates[row][candidates[row] >= 0]
        values = masked[row, items]
        ascending = np.sort(masked[row])
        above = np.searchsorted(ascending, values, side="right")
        ranks[row, : len(items)] = n - above
        tied = above - np.searchsorted(ascending, values, side="left") > 1
        for value in np.unique(values[tied]):
            holders = np.flatnonzero(masked[row] == value)  # ascending item order
            at = tied & (values == value)
            ranks[row, : len(items)][at] += np.searchsorted(holders, items[at])
    ok = np.take_along_axis(allowed, np.maximum(candidates, 0), axis=1)
    return np.where(ok, 1.0 / np.log2(2.0 + ranks), 0.0).astype(np.float32)


def top_per_row(scores: np.ndarray, allowed: np.ndarray, depth: int) -> np.ndarray:
    """(batch, ≤depth) best allowed items per row, unordered; -1 pads rows with fewer."""
    masked = np.where(allowed, scores, -np.inf)
    depth = min(depth, masked.shape[1])
    top = np.argpartition(-masked, depth - 1, axis=1)[:, :depth]
    ok = np.isfinite(np.take_along_axis(masked, top, axis=1))
    return np.where(ok, top, -1)


def context_features(histories: list[np.ndarray], context: CatalogContext) -> dict[str, np.ndarray]:
    """Popularity (overall and recent), the history's share of each item's category, and
    price fit, per row."""
    n_items = len(context.popularity)
    batch = len(histories)
    popularity = _log_share(context.popularity)
    shares = np.zeros((batch, max(context.n_categories, 1)), dtype=np.float32)
    price_fit = np.zeros((batch, n_items), dtype=np.float32)
    known_price = np.isfinite(context.price)
    for row, history in enumerate(histories):
        if len(history):
            cats = context.category[history]
            cats = cats[cats >= 0]
            if len(cats):
                shares[row] = np.bincount(cats, minlength=shares.shape[1]) / len(history)
            prices = context.price[history]
            prices = prices[np.isfinite(prices)]
            if len(prices):
                ratio = np.log1p(context.price[known_price]) - np.log1p(np.median(prices))
                price_fit[row, known_price] = -np.minimum(np.abs(ratio), 3.0)
    category_share = np.where(
        context.category[None, :] >= 0, shares[:, np.maximum(context.category, 0)], 0.0
    )
    return {
        "popularity": np.broadcast_to(popularity, (batch, n_items)),
        "recent_popularity": np.broadcast_to(_log_share(context.recent), (batch, n_items)),
        "category_share": category_share.astype(np.float32),
        "price_fit": price_fit,
    }


def _log_share(counts: np.ndarray) -> np.ndarray:
    """log(1 + count) scaled to [0, 1] by the catalog's largest."""
    logs = np.log1p(counts.astype(np.float32))
    return logs / max(float(logs.max(initial=0.0)), 1e-9)


def candidate_sets(
    signals: dict[str, np.ndarray],
    allowed: np.ndarray,
    generators: tuple[str, ...],
    depth: int,
    proposed: dict[str, list[np.ndarray]] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Union of each generator's top `depth` per row, with provenance.

    `proposed[generator][row]` adds items found outside the score rows (the semantic
    visor's Chroma search for a message); they must be allowed items.
    Returns (candidates (batch, C) padded with -1, provenance (batch, C, len(generators))).
    """
    tops: list[tuple[int, np.ndarray]] = []
    for g, generator in enumerate(generators):
        for signal in GENERATORS[generator]:
            if signal in signals:
                tops.append((g, top_per_row(signals[signal], allowed, depth)))
        row_items = (proposed or {}).get(generator)
        if row_items is not None:
            width = max((len(r) for r in row_items), default=0)
            padded = np.full((len(row_items), width), -1, dtype=np.int64)
            for row, items in enumerate(row_items):
                padded[row, : len(items)] = items
            tops.append((g, padded))
    batch = allowed.shape[0]
    rows: list[np.ndarray] = []
    provenance_rows: list[np.ndarray] = []
    for row in range(batch):
        found = [(g, top[row][top[row] >= 0]) for g, top in tops]
        items = np.unique(np.concatenate([f for _, f in found] or [np.zeros(0, np.int64)]))
        prov = np.zeros((len(items), len(generators)), dtype=bool)
        for g, hits in found:
            prov[np.searchsorted(items, hits), g] = True
        rows.append(items.astype(np.int64))
        provenance_rows.append(prov)
    width = max((len(r) for r in rows), default=0)
    candidates = np.full((batch, width), -1, dtype=np.int64)
    provenance = np.zeros((batch, width, len(generators)), dtype=bool)
    for row, (items, prov) in enumerate(zip(rows, provenance_rows, strict=True)):
        candidates[row, : len(items)] = items
        provenance[row, : len(items)] = prov
    return candidates, provenance


def feature_tensor(
    signals: dict[str, np.ndarray],
    context: dict[str, np.ndarray],
    allowed: np.ndarray,
    candidates: np.ndarray,
) -> np.ndarray:
    """(batch, C, len(FEATURES)) features of the candidates; padding rows are zero."""
    batch, width = candidates.shape
    out = np.zeros((batch, width, len(FEATURES)), dtype=np.float32)
    safe = np.maximum(candidates, 0)
    valid = candidates >= 0
    columns: dict[str, np.ndarray] = {}  # feature name -> (batch, C) candidate values
    for name, values in context.items():
        columns[name] = np.take_along_axis(np.asarray(values), safe, axis=1)
    for signal, scores in signals.items():
        columns[f"{signal}_z"] = zscores(scores, allowed, candidates)
        columns[f"{signal}_rank"] = rank_features(scores, allowed, candidates)
    for f, name in enumerate(FEATURES):
        if name in columns:
            out[:, :, f] = np.where(valid, columns[name], 0.0)
    return out
