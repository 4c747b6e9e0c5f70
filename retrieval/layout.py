"""Where the store of one dataset lives: a folder under LONGTAIL_HOME and a collection name.

    $LONGTAIL_HOME/stores/<dataset>-<hash of its path>/
        chroma/        the embedded Chroma database (store.mode = embedded)
        snapshots/     the catalog snapshot and BM25 index of each ingest, CURRENT names
                       the live one (in server mode too: BM25 is always local)

Keying by the dataset's resolved path keeps two datasets with the same folder name apart.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from core.settings import Settings


@dataclass(frozen=True)
class StoreLayout:
    data_dir: Path
    folder: Path
    collection: str

    @classmethod
    def for_data(cls, settings: Settings, data_dir: Path) -> StoreLayout:
        resolved = Path(data_dir).expanduser().resolve()
        slug = re.sub(r"[^a-z0-9_-]+", "-", resolved.name.lower()).strip("-_")[:40] or "data"
        key = f"{slug}-{hashlib.sha256(str(resolved).encode()).hexdigest()[:8]}"
        return cls(
            data_dir=resolved,
            folder=settings.home / "stores" / key,
            collection=f"{settings.store.collection}-{key}",
        )

    @property
    def chroma_dir(self) -> Path:
        return self.folder / "chroma"

    @property
    def snapshots_dir(self) -> Path:
        return self.folder / "snapshots"
