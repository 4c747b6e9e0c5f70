"""The hybrid ranker's LLM candidate source against the real embedded llama.cpp server."""

from __future__ import annotations

import pytest

from evaluation.llm_candidates import MAX_DESCRIPTIONS, describe_fitting_products
from serving.client import LLMConfig

pytestmark = pytest.mark.llm


def test_the_llm_describes_products_that_would_fit(embedded_llm: LLMConfig) -> None:
    config = embedded_llm.with_(max_tokens=120)
    titles = ["Swingline Stapler, 20 Sheet Capacity", "Post-it Notes, 3 x 3 in, Canary Yellow"]
    texts = describe_fitting_products(config, titles)
    assert 1 <= len(texts) <= MAX_DESCRIPTIONS
    assert all(0 < len(text) <= 80 for text in texts)
