"""The real packaged GGUF, assembled from its installed wheels: size, sha256 (hashes all
491 MB) and header."""

from __future__ import annotations

from pathlib import Path

import pytest

from serving import models
from serving.models import DEFAULT_MODEL, verify_file

pytestmark = pytest.mark.slow


def test_real_packaged_model_matches_its_sha256(packaged_model: Path) -> None:
    model = models.get_model(DEFAULT_MODEL)
    assert packaged_model.stat().st_size == 491_400_064
    assert verify_file(packaged_model, model.sha256)  # hashes all 491 MB again
    assert model.sha256 == "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
    with packaged_model.open("rb") as f:
        assert f.read(4) == b"GGUF"
