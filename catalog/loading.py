"""One entry point that loads any supported dataset folder, recognising its format."""

from __future__ import annotations

from pathlib import Path

from catalog.amazon import is_amazon, load_amazon
from catalog.dataset import Dataset
from catalog.errors import DataError
from catalog.generic import is_generic, load_generic

FORMATS = ("generic", "amazon")


def detect_format(folder: Path) -> str:
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(folder, None, "dataset folder not found")
    if is_generic(folder):
        return "generic"
    if is_amazon(folder):
        return "amazon"
    raise DataError(
        folder,
        None,
        "not a dataset folder: expected items.jsonl + interactions.csv (generic) or "
        "train.csv/dev.csv/test.csv + *.item2index + *.text (amazon)",
    )


def load_dataset(folder: Path, fmt: str = "auto", skip_bad: bool = False) -> Dataset:
    """Load a dataset folder; `fmt` is 'auto', 'generic' or 'amazon'."""
    folder = Path(folder)
    if fmt == "auto":
        fmt = detect_format(folder)
    if fmt == "generic":
        return load_generic(folder, skip_bad=skip_bad)
    if fmt == "amazon":
        return load_amazon(folder, skip_bad=skip_bad)
    raise ValueError(f"unknown format {fmt!r}; expected one of auto, {', '.join(FORMATS)}")
