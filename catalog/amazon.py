"""Loader for the Amazon review data in ReChorus layout (e.g. ../shared/data/amazon-office-2014).

Files: train.csv, dev.csv, test.csv (TSV `user_id item_id time [neg_items]`; the sampled
negatives are ignored), Office.text (`ASIN<TAB>text`), Office.item2index (`ASIN<TAB>id`)
and optionally item_meta.csv (`item_id i_category i_brand r_complement r_substitute`; the
relation lists become `Dataset.relations`: r_complement = "also_bought", r_substitute =
"also_viewed"). The three splits are read
in the order train, dev, test, so file order keeps the original split order on time ties.

Source: McAuley et al., Amazon product data (2014); cite He & McAuley, WWW 2016 and
McAuley et al., SIGIR 2015. Research use only: it is read in place, never copied here.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np

from catalog.dataset import Dataset
from catalog.errors import BadRows, DataError
from catalog.models import EVENTS, Product

SPLITS = ("train.csv", "dev.csv", "test.csv")
RELATIONS = {"r_complement": "also_bought", "r_substitute": "also_viewed"}
SOURCE = "McAuley et al., Amazon product data 2014 (He & McAuley WWW'16; McAuley et al. SIGIR'15)"


def is_amazon(folder: Path) -> bool:
    return all((folder / name).is_file() for name in SPLITS) and any(folder.glob("*.item2index"))


def _single(folder: Path, pattern: str) -> Path:
    found = sorted(folder.glob(pattern))
    if len(found) != 1:
        raise DataError(folder / pattern, None, f"expected exactly one file, found {len(found)}")
    return found[0]


def _read_tsv(path: Path, columns: int, bad: BadRows, header: bool) -> list[tuple[int, list[str]]]:
    rows: list[tuple[int, list[str]]] = []
    with path.open(encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            if header and line_no == 1:
                continue
            line = line.rstrip("\n")
            if not line:
                continue
            parts = line.split("\t")
            if len(parts) < columns:
                bad.report(
                    DataError(
                        path,
                        line_no,
                        f"expected at least {columns} tab-separated fields, found {len(parts)}",
                    )
                )
                continue
            rows.append((line_no, parts))
    return rows


def _common_suffix(texts: list[list[str]]) -> list[str]:
    shortest = min(len(words) for words in texts)
    k = 0
    while k < shortest - 1 and len({words[-1 - k] for words in texts}) == 1:
        k += 1
    return texts[0][len(texts[0]) - k :] if k else []


def _brands(texts: dict[int, str], brand_codes: dict[int, str]) -> dict[int, str]:
    """The brand name of each item: the words that every item of its brand code ends with.

    The text field is "title + leaf category + brand"; items that share a brand code share
    that last part. A brand code held by a single item (or code 0, unknown) gives "".
    """
    groups: dict[str, list[int]] = defaultdict(list)
    for item, code in brand_codes.items():
        groups[code].append(item)
    names: dict[int, str] = {}
    for code, members in groups.items():
        name = ""
        if code != "0" and len(members) > 1:
            name = " ".join(_common_suffix([texts[m].split() for m in members]))
        for m in members:
            names[m] = name
    return names


def load_amazon(folder: Path, skip_bad: bool = False) -> Dataset:
    """Load the ReChorus-style Amazon folder into a Dataset (event = rating: these are reviews)."""
    folder = Path(folder)
    bad = BadRows(skip_bad)
    for name in SPLITS:
        if not (folder / name).is_file():
            raise DataError(folder / name, None, "file not found")
    index_path = _single(folder, "*.item2index")
    text_path = _single(folder, "*.text")

    asin_to_id: dict[str, int] = {}
    for line_no, (asin, raw_id) in _read_tsv(index_path, 2, bad, header=False):
        if not raw_id.strip().isdigit():
            bad.report(DataError(index_path, line_no, f"item id {raw_id!r} is not an integer"))
            continue
        if asin in asin_to_id:
            bad.report(DataError(index_path, line_no, f"duplicate ASIN {asin!r}"))
            continue
        asin_to_id[asin] = int(raw_id)
    id_to_asin = {v: k for k, v in asin_to_id.items()}
    if len(id_to_asin) != len(asin_to_id):
        raise DataError(index_path, None, "two ASINs share one item id")

    texts: dict[int, str] = {}
    for line_no, (asin, text, *_) in _read_tsv(text_path, 2, bad, header=True):
        if asin not in asin_to_id:
            bad.report(DataError(text_path, line_no, f"ASIN {asin!r} is not in {index_path.name}"))
            continue
        texts[asin_to_id[asin]] = text.strip()

    meta: dict[int, tuple[str, str]] = {}
    related: dict[str, dict[int, list[int]]] = {}
    meta_path = folder / "item_meta.csv"
    if meta_path.is_file():
        header = meta_path.open(encoding="utf-8").readline().rstrip("\n").split("\t")
        columns = {n: c for c, n in enumerate(header) if n in RELATIONS}
        for line_no, parts in _read_tsv(meta_path, 3, bad, header=True):
            if not parts[0].isdigit():
                bad.report(DataError(meta_path, line_no, f"item id {parts[0]!r} is not an integer"))
                continue
            meta[int(parts[0])] = (parts[1], parts[2])
            for name, column in columns.items():
                ids = _id_list(parts[column] if column < len(parts) else "[]")
                if ids is None:
                    bad.report(
                        DataError(meta_path, line_no, f"field {name!r}: not a list of item ids")
                    )
                    continue
                related.setdefault(RELATIONS[name], {})[int(parts[0])] = ids

    ids = sorted(i for i in id_to_asin if i in texts)
    brands = _brands({i: texts[i] for i in ids}, {i: meta[i][1] for i in ids if i in meta})
    products = [
        Product(
            item_id=id_to_asin[i],
            title=texts[i],
            category=f"Office category {meta[i][0]}" if i in meta else "",
            brand=brands.get(i, ""),
            attributes={"rechorus_id": i},
        )
        for i in ids
    ]
    dense = {i: n for n, i in enumerate(ids)}
    relations = {
        name: {
            id_to_asin[i]: tuple(id_to_asin[j] for j in others if j in dense and j != i)
            for i, others in lists.items()
            if i in dense
        }
        for name, lists in related.items()
    }

    user_index: dict[str, int] = {}
    users: list[int] = []
    items: list[int] = []
    times: list[float] = []
    for split in SPLITS:
        path = folder / split
        for line_no, parts in _read_tsv(path, 3, bad, header=True):
            user_raw, item_raw, time_raw = parts[0], parts[1], parts[2]
            if not item_raw.isdigit() or int(item_raw) not in dense:
                bad.report(DataError(path, line_no, f"unknown item id {item_raw!r}"))
                continue
            try:
                stamp = float(time_raw)
            except ValueError:
                bad.report(DataError(path, line_no, f"field 'time': {time_raw!r} is not a number"))
                continue
            users.append(user_index.setdefault(user_raw, len(user_index)))
            items.append(dense[int(item_raw)])
            times.append(stamp)
    return Dataset(
        name=folder.name,
        products=products,
        user_ids=list(user_index),
        users=np.asarray(users, dtype=np.int32),
        items=np.asarray(items, dtype=np.int32),
        timestamps=np.asarray(times, dtype=np.float64),
        events=np.full(len(items), EVENTS.index("rating"), dtype=np.int8),
        skipped=tuple(str(e) for e in bad.errors),
        relations={n: {i: r for i, r in rel.items() if r} for n, rel in relations.items()},
    )


def _id_list(text: str) -> list[int] | None:
    """ "[451, 1886]" -> [451, 1886]; None when it is not such a list."""
    text = text.strip()
    if not (text.startswith("[") and text.endswith("]")):
        return None
    parts = [p.strip() for p in text[1:-1].split(",") if p.strip()]
    return [int(p) for p in parts] if all(p.isdigit() for p in parts) else None
