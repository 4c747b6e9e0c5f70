"""The shipped conversation sets load and fit the catalogs they were written for: every
expected word, brand and history item exists there (a set over the wrong catalog, or a typo
in a script, would measure nothing)."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog.amazon import load_amazon
from catalog.demo import DemoConfig, generate_demo
from catalog.generic import load_generic
from catalog.models import Product
from evaluation.conversations import (
    SET_NAMES,
    Script,
    ScriptError,
    catalog_problems,
    load_scripts,
    set_folder,
)
from tests.conftest import AMAZON_OFFICE

AMAZON_BEAUTY = AMAZON_OFFICE.parent / "amazon-beauty-2014"


def catalog(name: str) -> list[Product]:
    if name == "demo":
        return generate_demo(DemoConfig()).products  # the store `longtail demo` serves
    folder = AMAZON_OFFICE if name == "office" else AMAZON_BEAUTY
    if not folder.is_dir():
        pytest.skip(f"the {name} data is not at {folder}")
    return (load_amazon(folder) if name == "office" else load_generic(folder)).products


@pytest.mark.parametrize("name", SET_NAMES)
def test_set_fits_its_catalog(name: str) -> None:
    scripts = load_scripts(set_folder(name))
    assert catalog_problems(scripts, catalog(name)) == []


@pytest.mark.parametrize("name", ["office", "beauty"])
def test_real_catalog_sets_are_large_and_cover_every_kind_of_request(name: str) -> None:
    scripts = load_scripts(set_folder(name))
    turns = [t for s in scripts for t in s.turns]
    assert len(scripts) >= 40 and len(turns) >= 80
    assert len({s.name for s in scripts}) == len(scripts)
    said = [t.say.lower() for t in turns]
    expects = [t.expect for t in turns]
    assert sum(e.out_of_catalog for e in expects) >= 3
    assert sum(bool(e.answer_excludes) for e in expects) >= 2  # injection attempts
    assert sum(bool(e.exclude_brands) for e in expects) >= 5
    assert sum(e.details is not None or e.refers_to is not None for e in expects) >= 8
    assert sum("goes well with" in s or "what else do i need" in s for s in said) >= 3
    assert sum(bool(s.history) for s in scripts) >= 1
    assert sum(len(s.turns) > 1 for s in scripts) >= 30  # multi-turn refinements
    if name == "beauty":
        assert sum(e.max_price is not None for e in expects) >= 15


def test_set_by_name_or_folder(tmp_path: Path) -> None:
    assert set_folder("office").name == "office"
    assert set_folder(str(tmp_path)) == tmp_path
    with pytest.raises(ScriptError, match="not one of demo, office, beauty"):
        set_folder("nowhere")


def test_a_bad_script_names_file_and_field(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("name: a\nturns:\n- say: hi\n  expect: {wordz: [x]}\n")
    with pytest.raises(ScriptError, match=r"a\.yaml: turns\.0\.expect\.wordz"):
        load_scripts(tmp_path)
    assert Script.model_validate({"name": "b", "turns": [{"say": "x"}]}).turns[0].expect.words == []
