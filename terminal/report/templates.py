"""Checks on the reference template carried by a ``verify`` command, before any session starts.

The template format belongs to terminal.matching.template (``Template.from_dict``: base64 embeddings with
model name, model_version, dtype and dim). We call it with this terminal's model, version and dimension and
turn its reason into the command error code sent back: BAD_BASE64, WRONG_DIM, WRONG_MODEL or BAD_TEMPLATE.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from terminal.report.errors import CommandError

log = logging.getLogger(__name__)

TemplateValidator = Callable[[dict[str, Any]], None]

# TemplateError codes passed through unchanged; every other one becomes BAD_TEMPLATE.
PASSED_CODES = {"BAD_BASE64", "WRONG_DIM", "WRONG_MODEL"}


def default_template_validator(
    model: str | None = None, version: str | None = None, dim: int | None = None
) -> TemplateValidator:
    """A validator running terminal.matching's Template.from_dict with the expected model, version and dim."""
    from terminal.matching.template import Template, TemplateError

    def validate(template: dict[str, Any]) -> None:
        try:
            Template.from_dict(template, model=model, version=version, dim=dim)
        except TemplateError as err:
            code = err.code if err.code in PASSED_CODES else "BAD_TEMPLATE"
            raise CommandError(code, str(err)[:300]) from None
        except (ValueError, TypeError, OverflowError) as err:  # anything the parser did not foresee
            raise CommandError("BAD_TEMPLATE", f"template unusable: {type(err).__name__}") from None

    return validate
