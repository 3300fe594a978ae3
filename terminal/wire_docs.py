"""Writes (or checks) the JSON Schemas the documentation shows, generated from the wire models.

``python -m terminal.wire_docs`` regenerates docs/result-schema.md's JSON block and docs/commands.md;
``--check`` exits 1 when a page is stale (tests/test_wire_docs.py runs the same check).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parents[1] / "docs"
RESULT_MARKER = "## JSON Schema (draft 2020-12)\n"
FENCE = "```json\n"


def _block(schema: dict[str, Any]) -> str:
    return FENCE + json.dumps(schema, indent=2) + "\n```\n"


def result_page(current: str) -> str:
    """docs/result-schema.md with its JSON block replaced by the schema of VerificationResult."""
    from terminal.session.result import result_schema

    before, after = current.split(RESULT_MARKER, 1)
    head, rest = after.split(FENCE, 1)
    tail = rest.split("\n```\n", 1)[1]
    return before + RESULT_MARKER + head + _block(result_schema()) + tail


def commands_page() -> str:
    """docs/commands.md: the schema of each command, of its reply, and of the reply envelope."""
    from terminal.report.commands import SCHEMAS
    from terminal.report.replies import REPLY_BODIES, CommandReply
    from terminal.wire import json_schema

    out = [
        "# Commands and replies (generated: `python -m terminal.wire_docs`; do not edit)\n",
        "Commands arrive on `<prefix>/cmd/<name>` (docs/mqtt.md: topics, refusals, de-duplication). Each",
        "schema below is generated from the pydantic model that validates or builds the payload",
        "(`terminal/report/commands.py`, `terminal/report/replies.py`).\n",
        "## Reply envelope\n",
        "Every reply has these fields; an accepted command's reply adds the fields of its own reply below.\n",
        _block(json_schema(CommandReply, schema_id="urn:capture-terminal:reply", title="Command reply")),
    ]
    for name, model in SCHEMAS.items():
        out += [
            f"## `{name}`\n",
            "Command:\n",
            _block(
                json_schema(
                    model, schema_id=f"urn:capture-terminal:command:{name}", title=f"{name} command", mode="validation"
                )
            ),
        ]
        if name in REPLY_BODIES:
            out += [
                "Reply fields when accepted (`ok: true`):\n",
                _block(
                    json_schema(
                        REPLY_BODIES[name], schema_id=f"urn:capture-terminal:reply:{name}", title=f"{name} reply"
                    )
                ),
            ]
    return "\n".join(out)


def pages() -> dict[Path, str]:
    """Each generated page and the text it should have."""
    result = DOCS / "result-schema.md"
    return {result: result_page(result.read_text()), DOCS / "commands.md": commands_page()}


def main(argv: list[str] | None = None) -> int:
    """Regenerate the pages, or with --check name the stale ones and exit 1."""
    parser = argparse.ArgumentParser(prog="python -m terminal.wire_docs", description=__doc__)
    parser.add_argument("--check", action="store_true", help="only check; exit 1 if a page is stale")
    args = parser.parse_args(argv)
    stale = [p for p, text in pages().items() if not p.exists() or p.read_text() != text]
    if args.check:
        for p in stale:
            print(f"{p.name} is stale: run python -m terminal.wire_docs", file=sys.stderr)
        return 1 if stale else 0
    for p, text in pages().items():
        p.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
