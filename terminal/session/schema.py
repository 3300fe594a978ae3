"""The versioned JSON Schema (draft 2020-12) of the verification result, generated from the typed model.

``RESULT_SCHEMA`` is :func:`terminal.session.result.result_schema`; docs/result-schema.md shows it (a test
checks, ``python -m terminal.wire_docs`` regenerates it).
"""

from __future__ import annotations

from typing import Any

from terminal.session.result import result_schema

RESULT_SCHEMA: dict[str, Any] = result_schema()


def validate_result(record: dict[str, Any]) -> None:
    """Raise jsonschema.ValidationError if ``record`` does not follow RESULT_SCHEMA (needs jsonschema: tests, tools)."""
    import jsonschema

    jsonschema.validate(record, RESULT_SCHEMA, format_checker=jsonschema.FormatChecker())
