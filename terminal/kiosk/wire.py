"""The start request a member sends from the keypad (``<prefix>/request``): its one typed wire model."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from terminal.wire import WireModel, json_schema

# The JWS "typ" of a signed start request: a request can never pass for a result (terminal-result+jws).
REQUEST_TYP = "terminal-request+jws"


class StartRequest(WireModel):
    """A member started at the terminal; the central system answers with ``verify`` carrying ``request_id``."""

    request_id: str = Field(pattern=r"^k-[0-9a-f]{32}$", description="answer with a verify of this request_id")
    terminal_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    ts: str = Field(description="when the member pressed OK (ISO-8601 UTC, milliseconds)")
    kind: Literal["nik", "kpj"] = Field(description="which number the member typed")
    number: str = Field(
        pattern=r"^([0-9]{11}|[0-9]{16})$",
        description="NIK (16 digits) or KPJ (11 digits), checked on the device; never stored after",
    )
    timeout_s: float = Field(gt=0, description="the member waits this long; drop the request when it is older")


def request_schema() -> dict[str, Any]:
    """The JSON Schema shown in docs/mqtt.md."""
    return json_schema(StartRequest, schema_id="urn:capture-terminal:request", title="Start request")
