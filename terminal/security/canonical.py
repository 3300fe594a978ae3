"""Canonical JSON (RFC 8785, JSON Canonicalization Scheme) and a strict JSON parser.

A signature covers bytes, not values: two parsers may read the same bytes differently (duplicate keys,
NaN, 2**64 integers) and two serialisers write the same value differently (``1.0`` / ``1``, key order).
The signer serialises with :func:`canonical_json`; the verifier parses with :func:`strict_loads` and, for
results, checks that what it received is exactly the canonical form, so a changed byte never goes unnoticed.
"""

from __future__ import annotations

import json
import math
from typing import Any

MAX_SAFE_INT = 2**53  # I-JSON (RFC 7493): integers beyond this lose precision in most JSON parsers


def canonical_json(value: Any) -> bytes:
    """``value`` as RFC 8785 canonical UTF-8 JSON; ValueError for NaN, infinities, unsafe ints, bad strings."""
    out: list[str] = []
    _write(value, out, 0)
    try:
        return "".join(out).encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("a string holds a lone surrogate (not valid Unicode)") from None


def _write(v: Any, out: list[str], depth: int) -> None:
    if depth > 64:
        raise ValueError("nested deeper than 64 levels")
    if v is None:
        out.append("null")
    elif v is True:
        out.append("true")
    elif v is False:
        out.append("false")
    elif isinstance(v, int):
        if abs(v) > MAX_SAFE_INT:
            raise ValueError(f"integer {str(v)[:20]}... is outside +-2**53")
        out.append(str(int(v)))
    elif isinstance(v, float):
        out.append(es6_number(v))
    elif isinstance(v, str):
        out.append(json.dumps(v, ensure_ascii=False))
    elif isinstance(v, dict):
        if not all(isinstance(k, str) for k in v):
            raise ValueError("object keys must be strings")
        out.append("{")
        for i, k in enumerate(sorted(v, key=lambda s: s.encode("utf-16-be"))):  # RFC 8785: UTF-16 code units
            if i:
                out.append(",")
            out.append(json.dumps(k, ensure_ascii=False))
            out.append(":")
            _write(v[k], out, depth + 1)
        out.append("}")
    elif isinstance(v, (list, tuple)):
        out.append("[")
        for i, item in enumerate(v):
            if i:
                out.append(",")
            _write(item, out, depth + 1)
        out.append("]")
    else:
        raise ValueError(f"{type(v).__name__} is not JSON")


def es6_number(x: float) -> str:
    """A double the way ECMAScript's Number.prototype.toString writes it (RFC 8785 section 3.2.2.3)."""
    if not math.isfinite(x):
        raise ValueError("NaN and infinities are not JSON")
    if x == 0:
        return "0"
    sign = "-" if x < 0 else ""
    mantissa, _, exp_text = repr(abs(x)).partition("e")  # repr: the shortest digits that round-trip
    int_part, _, frac = mantissa.partition(".")
    digits = (int_part + frac).lstrip("0")
    stripped = digits.rstrip("0")
    k = len(stripped)
    # value = stripped * 10**(n - k)
    n = k + int(exp_text or 0) - len(frac) + (len(digits) - k)
    if k <= n <= 21:
        body = stripped + "0" * (n - k)
    elif 0 < n <= 21:
        body = stripped[:n] + "." + stripped[n:]
    elif -6 < n <= 0:
        body = "0." + "0" * (-n) + stripped
    else:
        e = n - 1
        head = stripped if k == 1 else stripped[0] + "." + stripped[1:]
        body = f"{head}e{'+' if e >= 0 else '-'}{abs(e)}"
    return sign + body


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"duplicate key {k[:40]!r}")
        out[k] = v
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _safe_int(text: str) -> int:
    if len(text) > 17 or abs(int(text)) > MAX_SAFE_INT:
        raise ValueError("integer outside +-2**53")
    return int(text)


def strict_loads(raw: bytes | str) -> Any:
    """Parse JSON refusing duplicate keys, NaN/Infinity, unsafe integers and bad UTF-8 (ValueError)."""
    text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant, parse_int=_safe_int)
    except RecursionError:
        raise ValueError("nested too deeply") from None
