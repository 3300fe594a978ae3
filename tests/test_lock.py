"""The hash locks agree with pyproject.toml and requirements*.txt (regenerate with tools/lock.sh)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PAIRS = [("requirements.txt", "requirements.lock"), ("requirements-dev.txt", "requirements-dev.lock")]
# pyproject extras that are locked; "tflite" (tflite-runtime) is the unlocked alternative to ai-edge-litert.
LOCKED_EXTRAS = {"requirements.lock": ["litert", "pi"], "requirements-dev.lock": ["litert", "pi", "dev"]}
FIX_HINT = "run tools/lock.sh and commit the locks"


def parse_lock(path: Path) -> dict[str, list[tuple[str, str, int]]]:
    """name -> [(version, marker, number of sha256 hashes)] (a name appears twice when markers fork it)."""
    out: dict[str, list[tuple[str, str, int]]] = {}
    current: list[tuple[str, str, int]] | None = None
    name = version = marker = ""
    hashes = 0
    for line in [*path.read_text().splitlines(), "END"]:
        if re.match(r"[A-Za-z0-9]", line):
            if current is not None:
                current.append((version, marker, hashes))
            if line == "END":
                break
            m = re.match(r"([A-Za-z0-9_.\-]+)==([^\s;\\]+)\s*(?:;\s*([^\\]+))?", line)
            assert m, f"{path.name}: unexpected line {line!r} (not name==version)"
            name, version, marker = canonicalize_name(m.group(1)), m.group(2), (m.group(3) or "").strip()
            current = out.setdefault(name, [])
            hashes = 0
        elif "--hash=sha256:" in line:
            assert re.search(r"--hash=sha256:[0-9a-f]{64}\b", line), f"{path.name}: bad hash line {line!r}"
            hashes += 1
    return out


def pins(path: Path) -> dict[str, str]:
    """name -> version of every ``name==version`` line of a requirements file (following ``-r``)."""
    out: dict[str, str] = {}
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line.startswith("-r "):
            out.update(pins(path.parent / line[3:].strip()))
        elif line:
            req = Requirement(line)
            spec = str(req.specifier)
            assert spec.startswith("==") and "," not in spec, f"{path.name}: {line!r} must be pinned with =="
            out[canonicalize_name(req.name)] = spec[2:]
    return out


@pytest.mark.parametrize(("src", "lock"), PAIRS)
def test_every_pin_is_locked_at_its_version_with_hashes(src: str, lock: str) -> None:
    locked = parse_lock(ROOT / lock)
    assert locked, f"{lock} is empty"
    for name, entries in locked.items():
        for version, _marker, hashes in entries:
            assert hashes >= 1, f"{lock}: {name}=={version} has no sha256 hash ({FIX_HINT})"
    for name, version in pins(ROOT / src).items():
        versions = {v for v, _m, _h in locked.get(name, [])}
        assert versions == {version}, (
            f"{src} pins {name}=={version} but {lock} has {sorted(versions) or 'nothing'} ({FIX_HINT})"
        )


@pytest.mark.parametrize(("src", "lock"), PAIRS)
def test_pyproject_dependencies_are_satisfied_by_the_lock(src: str, lock: str) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = list(project["dependencies"])
    for extra in LOCKED_EXTRAS[lock]:
        wanted += project["optional-dependencies"][extra]
    locked = parse_lock(ROOT / lock)
    for text in wanted:
        req = Requirement(text)
        name = canonicalize_name(req.name)
        assert name in locked, f"pyproject.toml needs {text!r}; {lock} lacks {name} ({FIX_HINT})"
        for version, _marker, _h in locked[name]:
            assert req.specifier.contains(version, prereleases=True), (
                f"pyproject.toml needs {text!r}; {lock} has {name}=={version} ({FIX_HINT})"
            )
        pinned = pins(ROOT / src)
        assert name in pinned, f"pyproject.toml needs {text!r} but {src} does not pin it"


def test_runtime_lock_is_the_dev_lock_minus_dev_tools() -> None:
    runtime, dev = parse_lock(ROOT / "requirements.lock"), parse_lock(ROOT / "requirements-dev.lock")
    for name, entries in runtime.items():
        assert name in dev, f"requirements-dev.lock lacks {name} ({FIX_HINT})"
        assert {v for v, _m, _h in entries} == {v for v, _m, _h in dev[name]}, (
            f"{name}: runtime and dev locks disagree ({FIX_HINT})"
        )


def test_locks_are_made_by_the_kept_tool_for_every_target() -> None:
    script = (ROOT / "tools" / "lock.sh").read_text()
    assert "--universal" in script and "--generate-hashes" in script and "--python-version 3.11" in script
    for _src, lock in PAIRS:
        head = (ROOT / lock).read_text().splitlines()[:3]
        assert any("tools/lock.sh" in line for line in head), f"{lock} was not written by tools/lock.sh"
    setup = (ROOT / "setup.sh").read_text()
    assert '--require-hashes -r "$lock"' in setup and "requirements-dev.lock" in setup


def test_parser_rejects_an_unhashed_or_unpinned_entry(tmp_path: Path) -> None:
    bad = tmp_path / "x.lock"
    bad.write_text("numpy==2.4.6 \\\n    --hash=sha256:" + "a" * 64 + "\nfoo>=1\n")
    with pytest.raises(AssertionError, match="not name==version"):
        parse_lock(bad)
    bad.write_text("numpy==2.4.6\n    # via x\n")
    assert parse_lock(bad) == {"numpy": [("2.4.6", "", 0)]}
