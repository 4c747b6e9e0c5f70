"""Indirect needs and their expansions for learning the LLM-candidate weight (fake LLM)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.llm_steps import LLMStepError
from agent.need_texts import NeedWriter
from agent.vocabulary import Vocabulary
from catalog.dataset import Dataset
from tests.support.fakes import ScriptedChat

NEED = '{"need": "we are going camping in the mountains next week"}'
EXPANSION = '{"products": ["tent", "sleeping bag", "lawn mower"]}'


@pytest.fixture(scope="module")
def vocabulary(demo_dataset: Dataset) -> Vocabulary:
    return Vocabulary.from_products(demo_dataset.products)


def test_a_need_is_written_then_expanded_as_serving_does(
    vocabulary: Vocabulary, tmp_path: Path
) -> None:
    llm = ScriptedChat(script=[NEED, EXPANSION])
    writer = NeedWriter(llm, vocabulary, tmp_path / "texts.json")
    text = writer(["tent"])["tent"]
    assert text is not None
    assert text.need == "we are going camping in the mountains next week"
    # The served expansion keeps catalog kinds only ("lawn mower" is no word of this shop).
    assert text.texts == ("tent", "sleeping bag")
    assert text.message.endswith("; tent; sleeping bag") and "camping" in text.message
    prompts = [str(call["messages"][0].content) for call in llm.calls]
    assert "WITHOUT naming that product" in prompts[0]
    assert "concrete kinds of product" in prompts[1]  # expand.v1, the serving prompt
    # Cached per kind and per need: a rerun asks the LLM nothing.
    again = NeedWriter(ScriptedChat(script=[]), vocabulary, tmp_path / "texts.json")
    assert again(["tent"])["tent"] == text and again.llm_calls == 0


def test_needs_that_serving_would_not_expand_are_passed_over(
    vocabulary: Vocabulary, tmp_path: Path
) -> None:
    script = [
        '{"need": "I need a tent for a camping trip"}',  # names the kind: filtered, not expanded
        "not json at all",  # no need written
    ]
    llm = ScriptedChat(script=script)
    writer = NeedWriter(llm, vocabulary, tmp_path / "texts.json")
    texts = writer(["tent", "backpack"])
    assert texts == {"tent": None, "backpack": None}
    assert writer.passed_over == {"the need names a catalog kind": 1, "no need written": 1}
    assert len(llm.calls) == 2  # neither went on to the expansion


def test_a_stopped_server_raises_and_caches_nothing(vocabulary: Vocabulary, tmp_path: Path) -> None:
    cache = tmp_path / "texts.json"
    writer = NeedWriter(ScriptedChat(script=[ConnectionError("refused")]), vocabulary, cache)
    with pytest.raises(LLMStepError) as failed:
        writer(["tent"])
    assert failed.value.reason == "down"
    assert not cache.exists() or "need:tent" not in json.loads(cache.read_text())
