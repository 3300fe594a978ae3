"""Fill models/ from a local directory or the official URLs, checking every sha256 (used by setup.sh)."""

from __future__ import annotations

import argparse
import secrets
import shutil
import sys
import urllib.error
import urllib.request
from pathlib import Path

from terminal.modelstore import MANIFEST_PATH, ModelSpec, load_manifest, sha256_of


def provision_one(spec: ModelSpec, into: Path, source_dir: Path | None) -> str:
    """Make ``into/spec.file`` exist with the right sha256; return how, or raise RuntimeError."""
    dest = into / spec.file
    if dest.is_file() and sha256_of(dest) == spec.sha256:
        return "present"
    if source_dir is not None:
        src = source_dir / spec.file
        if src.is_file():
            if sha256_of(src) != spec.sha256:
                raise RuntimeError(f"{src}: sha256 does not match {MANIFEST_PATH.name}; refusing to copy it")
            shutil.copyfile(src, dest)
            return f"copied from {source_dir}"
    if not spec.url:  # converted here (e.g. the PAD models): no official file to download
        where = f"not in {source_dir}" if source_dir else "no source directory given"
        raise RuntimeError(
            f"{spec.file}: {where} and it has no download URL; provide it with "
            "TERMINAL_MODELS_FROM=/dir/with/models ./setup.sh"
        )
    tmp_path = _partial_name(into, spec.file)
    try:
        with tmp_path.open("xb") as tmp, urllib.request.urlopen(spec.url, timeout=60) as resp:
            shutil.copyfileobj(resp, tmp)
        got = sha256_of(tmp_path)
        if got != spec.sha256:
            raise RuntimeError(f"{spec.file}: downloaded file has sha256 {got}, expected {spec.sha256}; not installed")
        tmp_path.replace(dest)
    except (urllib.error.URLError, OSError) as err:
        where = f"not in {source_dir}, and " if source_dir else ""
        raise RuntimeError(
            f"{spec.file}: {where}download from {spec.url} failed ({err}). Provide it with "
            f"TERMINAL_MODELS_FROM=/dir/with/models ./setup.sh"
        ) from None
    finally:
        tmp_path.unlink(missing_ok=True)  # a failed or refused download leaves nothing behind
    return "downloaded"


def _partial_name(into: Path, file: str) -> Path:
    """A unique ``.FILE.part-XXXXXX`` name beside the destination (hidden; removed whatever happens)."""
    return into / f".{file}.part-{secrets.token_hex(4)}"


def main(argv: list[str] | None = None) -> int:
    """Provision every model of the manifest; optional ones may be missing."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--into", type=Path, default=MANIFEST_PATH.parent)
    ap.add_argument("--from", dest="source", type=Path, default=None)
    args = ap.parse_args(argv)
    args.into.mkdir(parents=True, exist_ok=True)
    failed = 0
    for spec in load_manifest().values():
        try:
            how = provision_one(spec, args.into, args.source)
            print(f"  {spec.file}: {how}")
        except RuntimeError as err:
            if spec.optional:
                print(f"  {spec.file}: skipped (optional): {err}")
            else:
                print(f"setup.sh: error: {err}", file=sys.stderr)
                failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
