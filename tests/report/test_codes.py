"""Every reply error code is documented in docs/mqtt.md with its temporary/permanent nature."""

from __future__ import annotations

from pathlib import Path

from terminal.report.codes import CODES

DOC = Path(__file__).resolve().parents[2] / "docs" / "mqtt.md"


def test_every_code_is_in_the_docs_table() -> None:
    text = DOC.read_text()
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    for code in CODES.values():
        row = next((r for r in rows if f"`{code.name}`" in r.split("|")[1]), None)
        assert row is not None, f"{code.name} missing from docs/mqtt.md"
        assert row.split("|")[2].strip() == ("yes" if code.temporary else "no"), code.name
