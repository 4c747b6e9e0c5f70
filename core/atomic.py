"""Replace a folder of files as one step, so a process killed half-way through writing it
leaves the previous folder in place (a retrain killed between `arrays.npz` and
`config.json` keeps the old model serving).

The new files go to a sibling temporary folder; only when all are written (and synced) is
the old folder renamed aside and the new one renamed into place. The only moment with no
folder at `folder` is between those two renames; `current` reads the aside copy then.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _aside(folder: Path) -> Path:
    return folder.parent / f".{folder.name}.old"


@contextmanager
def replaced_folder(folder: Path) -> Iterator[Path]:
    """Yields an empty temporary folder; on a clean exit it becomes `folder`."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    if not folder.exists() and _aside(folder).exists():  # a swap was killed mid-way
        os.rename(_aside(folder), folder)
    for stale in folder.parent.glob(f".{folder.name}.new-*"):  # writes that were killed
        shutil.rmtree(stale, ignore_errors=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.new-", dir=folder.parent))
    try:
        yield staging
        _sync(staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    shutil.rmtree(_aside(folder), ignore_errors=True)
    if folder.exists():
        os.rename(folder, _aside(folder))
    os.rename(staging, folder)
    shutil.rmtree(_aside(folder), ignore_errors=True)


def current(folder: Path) -> Path:
    """`folder`, or the previous copy when a swap was killed between its two renames."""
    folder = Path(folder)
    return _aside(folder) if not folder.exists() and _aside(folder).exists() else folder


def _sync(root: Path) -> None:
    """Flush every file's data to disk, so the rename never publishes empty files."""
    for path in root.rglob("*"):
        if path.is_file():
            with open(path, "rb") as f:
                os.fsync(f.fileno())
