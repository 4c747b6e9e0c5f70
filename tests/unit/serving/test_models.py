"""Assembling packaged GGUF files: order, atomic write, sha256, clear errors; the real model."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from serving import models
from serving.models import (
    DEFAULT_MODEL,
    Chunk,
    ModelError,
    PackagedModel,
    Progress,
    assemble_file,
    ensure_model,
    locate_chunks,
)


def make_chunks(folder: Path, parts: list[bytes]) -> list[Path]:
    paths = []
    for i, data in enumerate(parts, 1):
        path = folder / f"part{i:02d}.bin"
        path.write_bytes(data)
        paths.append(path)
    return paths


PARTS = [os.urandom(3000), b"", os.urandom(70_001), b"tail"]
WHOLE = b"".join(PARTS)
SHA = hashlib.sha256(WHOLE).hexdigest()


class Counting(Progress):
    def __init__(self) -> None:
        self.total = 0
        self.closed = False

    def update(self, n: int) -> None:
        self.total += n

    def close(self) -> None:
        self.closed = True


def test_assemble_concatenates_in_order_and_verifies(tmp_path: Path) -> None:
    chunks = make_chunks(tmp_path, PARTS)
    progress = Counting()
    target = assemble_file(
        chunks, tmp_path / "out" / "m.gguf", sha256=SHA, size=len(WHOLE), progress=progress
    )
    assert target.read_bytes() == WHOLE
    assert progress.total == len(WHOLE) and progress.closed
    assert sorted(p.name for p in target.parent.iterdir()) == ["m.gguf", "m.gguf.verified.json"]


def test_wrong_order_fails_the_checksum_and_leaves_nothing(tmp_path: Path) -> None:
    chunks = make_chunks(tmp_path, PARTS)
    out = tmp_path / "out"
    with pytest.raises(ModelError, match="sha256"):
        assemble_file(list(reversed(chunks)), out / "m.gguf", sha256=SHA)
    assert list(out.iterdir()) == []  # no partial file, no temporary file


def test_size_mismatch_is_refused_before_writing(tmp_path: Path) -> None:
    chunks = make_chunks(tmp_path, PARTS)
    with pytest.raises(ModelError, match="bytes"):
        assemble_file(chunks, tmp_path / "out" / "m.gguf", sha256=SHA, size=len(WHOLE) + 1)
    assert not (tmp_path / "out" / "m.gguf").exists()


def test_a_failed_reassembly_keeps_the_good_file(tmp_path: Path) -> None:
    chunks = make_chunks(tmp_path, PARTS)
    target = assemble_file(chunks, tmp_path / "m.gguf", sha256=SHA)
    with pytest.raises(ModelError):
        assemble_file(chunks[:1], target, sha256=SHA)
    assert target.read_bytes() == WHOLE


@pytest.fixture
def fake_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """A registry entry whose chunk files are temp files (wheels cannot be faked)."""
    chunks = make_chunks(tmp_path, PARTS)
    model = PackagedModel(
        name="fake",
        description="test",
        filename="fake.gguf",
        sha256=SHA,
        size=len(WHOLE),
        chunks=tuple(Chunk(f"fake-part{i}", "1.0", f"x/part{i}") for i in range(len(PARTS))),
    )
    monkeypatch.setitem(models.MODELS, "fake", model)
    calls = {"n": 0}

    def fake_locate(m: PackagedModel) -> list[Path]:
        assert m is model
        calls["n"] += 1
        return chunks

    monkeypatch.setattr(models, "locate_chunks", fake_locate)
    return calls


def test_ensure_model_assembles_once_then_reuses(
    tmp_path: Path, fake_model: dict[str, int]
) -> None:
    home = tmp_path / "home"
    first = ensure_model("fake", home, progress=None)
    assert first == home / "models" / "fake.gguf" and first.read_bytes() == WHOLE
    again = ensure_model("fake", home, progress=None)
    assert again == first and fake_model["n"] == 1  # reused: verified stamp still matches


def test_ensure_model_reassembles_a_damaged_file(
    tmp_path: Path, fake_model: dict[str, int]
) -> None:
    home = tmp_path / "home"
    path = ensure_model("fake", home, progress=None)
    before = path.stat()
    path.write_bytes(bytes([WHOLE[0] ^ 0xFF]) + WHOLE[1:])  # same size, a new first byte
    # A new mtime, as any later write has; set, since a coarse clock may repeat the old one.
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))
    assert ensure_model("fake", home, progress=None).read_bytes() == WHOLE
    assert fake_model["n"] == 2


def test_ensure_model_verify_rehashes(tmp_path: Path, fake_model: dict[str, int]) -> None:
    home = tmp_path / "home"
    path = ensure_model("fake", home, progress=None)
    stat = path.stat()
    with path.open("r+b") as f:  # corrupt in place and restore the mtime: the stamp is fooled
        f.write(bytes([WHOLE[0] ^ 0xFF]))  # a new first byte, whatever the random one was
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert ensure_model("fake", home, progress=None) == path and fake_model["n"] == 1
    assert ensure_model("fake", home, verify=True, progress=None).read_bytes() == WHOLE
    assert fake_model["n"] == 2


def test_missing_wheel_error_names_it_and_the_pip_command() -> None:
    model = PackagedModel(
        name="ghost",
        description="",
        filename="ghost.gguf",
        sha256=SHA,
        size=1,
        chunks=(Chunk("longtail-test-no-such-wheel", "9.9.9", "x/part01.bin"),),
    )
    with pytest.raises(ModelError) as raised:
        locate_chunks(model)
    message = str(raised.value)
    assert "longtail-test-no-such-wheel==9.9.9" in message
    assert "pip install 'longtail-test-no-such-wheel==9.9.9'" in message


def test_unknown_model_lists_the_packaged_ones() -> None:
    with pytest.raises(ModelError) as raised:
        models.get_model("gpt-17")
    assert DEFAULT_MODEL in str(raised.value)


def test_default_model_chunks_are_installed_in_order() -> None:
    model = models.get_model(DEFAULT_MODEL)
    paths = locate_chunks(model)
    assert [p.name for p in paths] == [f"part{i:02d}.bin" for i in range(1, 7)]
    assert sum(p.stat().st_size for p in paths) == model.size == 491_400_064


def test_models_command_lists_the_registry() -> None:
    import json
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "longtail", "llm", "models", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    rows = {r["name"]: r for r in json.loads(result.stdout)}
    assert rows[DEFAULT_MODEL]["default"] is True
    assert rows[DEFAULT_MODEL]["wheels_installed"] is True
    assert {"smollm2-135m", "qwen2.5-coder-1.5b"} <= set(rows)
