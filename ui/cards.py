"""Product cards as HTML: title, price, category, brand, the explanation, a tail badge."""

from __future__ import annotations

from html import escape

from agent.trace import Suggestion

CSS = """
.lt-card {border: 1px solid #d0d7de; border-radius: 10px; padding: 10px 12px; min-height: 120px;
  background: #fff; color: #1f2328; text-align: left; cursor: pointer; font-size: 14px}
.lt-card:hover {border-color: #0969da}
.lt-card h4 {margin: 0 0 4px 0; font-size: 15px; line-height: 1.25}
.lt-meta {color: #57606a; font-size: 12px; margin-bottom: 6px}
.lt-price {font-weight: 600; color: #1a7f37}
.lt-why {font-size: 13px; margin-top: 4px}
.lt-badge {display: inline-block; background: #fff8c5; color: #7d4e00; border: 1px solid #d4a72c;
  border-radius: 999px; padding: 0 8px; font-size: 11px; font-weight: 600; margin-left: 6px}
.lt-compact .lt-card {min-height: 0; padding: 6px 8px; font-size: 12px}
.lt-compact .lt-why {display: none}
"""

TAIL_BADGE = "lesser-known find"


def price_text(price: float | None) -> str:
    return "price on request" if price is None else f"${price:.2f}"


def card_html(s: Suggestion, number: int) -> str:
    badge = f'<span class="lt-badge">{TAIL_BADGE}</span>' if s.tail else ""
    return (
        f'<div class="lt-card" data-item-id="{escape(s.item_id)}">'
        f"<h4>#{number} {escape(s.title)}{badge}</h4>"
        f'<div class="lt-meta"><span class="lt-price">{price_text(s.price)}</span> · '
        f"{escape(s.category)} · {escape(s.brand)}</div>"
        f'<div class="lt-why">{escape(s.explanation)}</div></div>'
    )


def card_samples(suggestions: list[Suggestion]) -> list[list[str]]:
    """gr.Dataset samples, one card per row (a click selects the card's index)."""
    return [[card_html(s, n)] for n, s in enumerate(suggestions, 1)]
