"""Find model files listed in models/manifest.json and refuse any whose sha256 does not match."""

from __future__ import annotations

import functools
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from terminal.errors import ModelError

REPO_ROOT = Path(__file__).resolve().parent.parent
MANIFEST_PATH = REPO_ROOT / "models" / "manifest.json"
ENV_DIR = "TERMINAL_MODELS_DIR"
INSTALLED_DIR = Path("/usr/local/share/terminal/models")


@dataclass(frozen=True)
class ModelSpec:
    """One manifest entry: where the file is and how to feed it."""

    name: str
    file: str
    sha256: str
    url: str
    kind: str
    version: str
    input: dict[str, Any]
    output: dict[str, Any]
    optional: bool = False


@functools.cache
def load_manifest(path: Path = MANIFEST_PATH) -> dict[str, ModelSpec]:
    """Parse the manifest into ModelSpec objects keyed by model name."""
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise ModelError(f"{path}: cannot read the model manifest: {err}") from None
    specs = {}
    for name, m in raw["models"].items():
        specs[name] = ModelSpec(
            name=name,
            file=m["file"],
            sha256=m["sha256"],
            url=m["url"],
            kind=m["kind"],
            version=m.get("version", ""),
            input=m.get("input", {}),
            output=m.get("output", {}),
            optional=bool(m.get("optional", False)),
        )
    return specs


def models_dir(configured: Path | None = None) -> Path:
    """The directory to look in: config, then $TERMINAL_MODELS_DIR, then ./models, then the install dir."""
    if configured is not None:
        return Path(configured)
    env = os.environ.get(ENV_DIR)
    if env:
        return Path(env)
    local = REPO_ROOT / "models"
    if any(local.glob("*.task")) or any(local.glob("*.tflite")):
        return local
    return INSTALLED_DIR if INSTALLED_DIR.exists() else local


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def expected_sha256(path: Path) -> str | None:
    """The manifest's sha256 for the file ``path`` names (None when no manifest entry has that file name)."""
    name = Path(path).name
    return next((s.sha256 for s in load_manifest().values() if s.file == name), None)


def verified_bytes(path: Path, expected: str | None = None) -> bytes:
    """The model file's bytes, read once and hashed as read; the caller builds its model FROM THESE BYTES.

    No cache by (path, mtime, size) and no second open: a file swapped after the check (or before a SIGHUP
    reload) can never be what gets loaded. ModelError when the bytes do not match the manifest.
    """
    path = Path(path)
    want = expected or expected_sha256(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise ModelError(f"model file {path}: cannot read: {err.strerror or err}") from None
    if want is not None and _hex(data) != want:
        raise ModelError(
            f"model file {path} has the wrong sha256 (corrupt or tampered); expected {want}: "
            "delete it and run ./setup.sh again"
        )
    return data


def spec(name: str) -> ModelSpec:
    """The manifest entry of ``name``; ModelError if there is none."""
    specs = load_manifest()
    if name not in specs:
        raise ModelError(f"model '{name}' is not in {MANIFEST_PATH} (known: {', '.join(sorted(specs))})")
    return specs[name]


def model_path(name: str, configured_dir: Path | None = None, verify: bool = True) -> Path:
    """Path of model ``name``, checked against its sha256; ModelError says how to provide it."""
    s = spec(name)
    path = models_dir(configured_dir) / s.file
    if not path.is_file():
        raise ModelError(
            f"model file {path} is missing: run ./setup.sh (it copies from TERMINAL_MODELS_FROM or downloads "
            f"{s.url}) or set {ENV_DIR} / [models] dir"
        )
    if verify:
        verified_bytes(path, s.sha256)  # a fresh read every time; loaders hash the buffer they load again
    return path
