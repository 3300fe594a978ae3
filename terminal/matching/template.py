"""Reference templates: embeddings with their model name and version, serialised as base64 JSON."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from terminal.errors import TerminalError

log = logging.getLogger(__name__)

FORMAT = "terminal-template/1"
DTYPES: dict[str, np.dtype[Any]] = {"float32": np.dtype("<f4"), "float16": np.dtype("<f2")}
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".pgm", ".ppm", ".tif", ".tiff"}
MAX_DIM = 4096  # embedders make 128-512 values; a larger dim is a forged or broken template
MAX_COUNT = 64  # reference embeddings per member (enrolment uses a handful)
NORM_TOLERANCE = 0.05  # stored embeddings are unit length; float16 leaves +-1e-3, anything past 5 % is not ours


class TemplateError(TerminalError):
    """A reference template is unusable; ``code`` says why (BAD_BASE64, WRONG_DIM, WRONG_MODEL, ...)."""

    exit_code = 65  # EX_DATAERR: the input data is wrong, not the program or the config

    def __init__(self, code: str, message: str) -> None:
        """An error with a machine-readable ``code`` and a one-line message."""
        super().__init__(f"{code}: {message}")
        self.code = code


@dataclass
class Template:
    """One member's reference: (k, dim) unit-length embeddings from model ``model`` at ``version``."""

    model: str
    version: str
    embeddings: np.ndarray
    sources: list[dict[str, Any]] = field(default_factory=list)
    # SHA-256 (hex) of the RFC 8785 canonical JSON of the template as received; signed into every result
    sha256: str | None = None

    def __post_init__(self) -> None:
        try:
            emb = np.asarray(self.embeddings, dtype=np.float32)
        except (TypeError, ValueError):
            raise TemplateError("BAD_FORMAT", "embeddings are not numbers") from None
        if emb.ndim == 1:
            emb = emb[None, :]
        if emb.ndim != 2:
            raise TemplateError("BAD_FORMAT", f"embeddings must be a (count, dim) matrix, got shape {emb.shape}")
        if emb.shape[0] == 0 or emb.shape[1] == 0:
            raise TemplateError("EMPTY", f"a template needs at least one embedding, got shape {emb.shape}")
        if not np.all(np.isfinite(emb)):
            raise TemplateError("NOT_FINITE", "the template holds NaN or infinite values")
        norms = np.linalg.norm(emb, axis=1, keepdims=True)
        if np.any(norms < 1e-6):
            raise TemplateError("NOT_FINITE", "the template holds a zero embedding")
        # Renormalise: a float16 round trip leaves the norm at 1 +- 1e-3.
        self.embeddings = (emb / norms).astype(np.float32)

    @property
    def dim(self) -> int:
        """Embedding dimension."""
        return int(self.embeddings.shape[1])

    @property
    def count(self) -> int:
        """Number of reference embeddings."""
        return int(self.embeddings.shape[0])

    def to_dict(self, dtype: str = "float16") -> dict[str, Any]:
        """JSON-safe form: each embedding a base64 string of little-endian ``dtype`` values."""
        if dtype not in DTYPES:
            raise TemplateError("BAD_DTYPE", f"dtype must be one of {', '.join(DTYPES)}, not {dtype!r}")
        arr = self.embeddings.astype(DTYPES[dtype])
        return {
            "format": FORMAT,
            "model": self.model,
            "model_version": self.version,
            "dim": self.dim,
            "dtype": dtype,
            "count": self.count,
            "embeddings": [base64.b64encode(row.tobytes()).decode("ascii") for row in arr],
            "sources": self.sources,
        }

    @classmethod
    def from_dict(
        cls, d: Any, model: str | None = None, version: str | None = None, dim: int | None = None
    ) -> Template:
        """Parse and check a template; with ``model``/``version``/``dim`` given, refuse one made otherwise."""
        if not isinstance(d, dict):
            raise TemplateError("BAD_FORMAT", f"a template is a JSON object, got {type(d).__name__}")
        fmt = d.get("format", FORMAT)
        if fmt != FORMAT:
            raise TemplateError("BAD_FORMAT", f"unknown template format {fmt!r} (expected {FORMAT})")
        missing = [k for k in ("model", "model_version", "dim", "dtype", "embeddings") if k not in d]
        if missing:
            raise TemplateError("BAD_FORMAT", f"template lacks {', '.join(missing)}")
        t_model, t_version = str(d["model"]), str(d["model_version"])
        if model is not None and (t_model != model or (version is not None and t_version != version)):
            raise TemplateError(
                "WRONG_MODEL",
                f"template was made by {t_model} ({t_version}); this terminal uses {model} ({version}): re-enrol",
            )
        dtype = d["dtype"]
        if dtype not in DTYPES:
            raise TemplateError("BAD_DTYPE", f"dtype must be one of {', '.join(DTYPES)}, not {dtype!r}")
        t_dim = d["dim"]
        if not isinstance(t_dim, int) or isinstance(t_dim, bool) or not 1 <= t_dim <= MAX_DIM:
            raise TemplateError("BAD_FORMAT", f"dim must be an integer 1..{MAX_DIM}, got {str(t_dim)[:20]}")
        if dim is not None and t_dim != dim:
            raise TemplateError("WRONG_DIM", f"template has {t_dim}-d embeddings; the model makes {dim}-d")
        items = d["embeddings"]
        if not isinstance(items, list):
            raise TemplateError(
                "BAD_FORMAT", f"embeddings must be a list of base64 strings, got {type(items).__name__}"
            )
        if not items:
            raise TemplateError("EMPTY", "template has no embeddings")
        if len(items) > MAX_COUNT:
            raise TemplateError("BAD_FORMAT", f"template has {len(items)} embeddings; at most {MAX_COUNT}")
        rows = [_decode_row(item, DTYPES[dtype], t_dim, i) for i, item in enumerate(items)]
        emb = np.stack(rows).astype(np.float32)
        if not np.all(np.isfinite(emb)):
            raise TemplateError("NOT_FINITE", "the template holds NaN or infinite values")
        norms = np.linalg.norm(emb, axis=1)
        if np.any(norms < 1e-6):
            raise TemplateError("NOT_FINITE", "the template holds a zero embedding")
        count = d.get("count", len(items))
        if not isinstance(count, int) or isinstance(count, bool) or count != len(items):
            raise TemplateError("BAD_FORMAT", f"count {str(count)[:20]} does not match the {len(items)} embeddings")
        if np.any(np.abs(norms - 1.0) > NORM_TOLERANCE):
            raise TemplateError(
                "VALUE_RANGE",
                f"embeddings must be unit length (norms {norms.min():.3g}.."
                f"{norms.max():.3g}): not a template this terminal made",
            )
        sources = d.get("sources") if isinstance(d.get("sources"), list) else []
        return cls(t_model, t_version, emb, sources=sources or [], sha256=template_sha256(d))

    def save(self, path: Path, dtype: str = "float16") -> None:
        """Write the template as JSON, owner-only (0600): embeddings are biometric."""
        from terminal.privacy import write_private

        write_private(path, (json.dumps(self.to_dict(dtype), indent=1) + "\n").encode())


def template_sha256(d: dict[str, Any]) -> str:
    """SHA-256 (hex) of a template's RFC 8785 canonical JSON: what the central system computes of what it sent."""
    from terminal.security.canonical import canonical_json

    try:
        return hashlib.sha256(canonical_json(d)).hexdigest()
    except ValueError as err:
        raise TemplateError("BAD_FORMAT", f"template is not plain JSON ({err})") from None


def _decode_row(item: Any, dtype: np.dtype[Any], dim: int, i: int) -> np.ndarray:
    """One base64 embedding, checked for alphabet, length and dimension."""
    if not isinstance(item, str):
        raise TemplateError("BAD_BASE64", f"embedding {i} is not a base64 string")
    try:
        raw = base64.b64decode(item.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise TemplateError("BAD_BASE64", f"embedding {i} is not valid base64") from None
    if len(raw) % dtype.itemsize:
        raise TemplateError("WRONG_DIM", f"embedding {i} has {len(raw)} bytes, not a whole number of {dtype.name}")
    row = np.frombuffer(raw, dtype=dtype)
    if row.size != dim:
        raise TemplateError("WRONG_DIM", f"embedding {i} has {row.size} values; the template says dim={dim}")
    return row.astype(np.float32)


def load_template(path: Path, model: str | None = None, version: str | None = None, dim: int | None = None) -> Template:
    """Read a template JSON file; TemplateError (BAD_FORMAT, ...) when it is unreadable or not a template."""
    try:
        text = Path(path).read_text()
    except OSError as err:
        raise TemplateError("UNREADABLE", f"cannot read reference {path}: {err.strerror or err}") from None
    try:
        data = json.loads(text)
    except ValueError:
        raise TemplateError("BAD_FORMAT", f"reference {path} is not JSON") from None
    return Template.from_dict(data, model=model, version=version, dim=dim)


def is_image_path(path: Path) -> bool:
    """True when ``path`` names an image file rather than a template."""
    return Path(path).suffix.lower() in IMAGE_SUFFIXES
