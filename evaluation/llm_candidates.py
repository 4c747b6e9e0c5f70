"""LLM-generated candidates: the LLM describes products that would fit, the visor finds them.

The paper's fourth candidate source. The LLM sees the titles of the shopper's recent
products (and their message) and writes a few short descriptions of what would fit next;
those texts are embedded with the semantic visor's encoder and every product gets its best
cosine to them as the `llm` signal. The LLM never names catalog items, so it cannot invent
one: only real products are ever ranked. Offline only: `longtail eval --llm-users` asks
for the sampled users' descriptions before scoring; serving takes them from the agent.
"""

from __future__ import annotations

from collections.abc import Sequence

from serving.client import LLMConfig, complete_json
from serving.prompts import PromptLibrary

PROMPT = "candidates"
RECENT = 5  # history titles shown to the LLM
MAX_DESCRIPTIONS = 3
SCHEMA = {
    "type": "object",
    "properties": {
        "products": {
            "type": "array",
            "items": {"type": "string", "maxLength": 80},
            "minItems": 1,
            "maxItems": MAX_DESCRIPTIONS,
        }
    },
    "required": ["products"],
}
MAX_TOKENS = 120  # three descriptions of ≤ 12 words fit; caps a looping small model


def describe_fitting_products(
    config: LLMConfig, titles: Sequence[str], message: str = ""
) -> list[str]:
    """Up to three short descriptions of products that would fit after `titles`.

    Raises serving.client.LLMError when the server is down, slow or answers off-schema.
    """
    prompt = PromptLibrary().get(PROMPT)
    history = "\n".join(f"- {title[:120]}" for title in list(titles)[-RECENT:]) or "- (none)"
    messages = prompt.render(history=history, message=message.strip())
    reply = complete_json(config, messages, SCHEMA, name="candidates", max_tokens=MAX_TOKENS)
    return [text.strip() for text in reply["products"] if text.strip()]
