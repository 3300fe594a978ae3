"""Config section ``[kiosk]``: the member screen served on 127.0.0.1 and the start-at-terminal keypad."""

from __future__ import annotations

from pydantic import Field

from terminal.config.base import Section


class KioskConfig(Section):
    """The local member screen (a web page for the Chromium kiosk); off by default."""

    enabled: bool = Field(False, description="serve the member screen on http://127.0.0.1:<port>/")
    port: int = Field(8080, ge=1024, le=65535, description="loopback TCP port of the page (never on other interfaces)")
    preview: bool = Field(True, description="show the mirrored live preview (JPEG in memory, loopback only)")
    preview_fps: float = Field(12.0, ge=1, le=30, description="preview frames per second sent to the page")
    preview_width: int = Field(320, ge=80, le=1280, description="preview width in pixels (height keeps the aspect)")
    jpeg_quality: int = Field(70, ge=20, le=95, description="preview JPEG quality")
    support_phone: str = Field(
        "",
        max_length=32,
        pattern=r"^[0-9+() -]*$",
        description="support number shown on the result and out-of-service screens",
    )
    result_hold_s: float = Field(8.0, ge=1, le=120, description="the result screen stays this long")
    keypad: bool = Field(True, description="members may start a verification by typing their NIK or KPJ")
    keypad_idle_s: float = Field(45.0, ge=5, le=600, description="an untouched keypad goes back to idle after this")
    request_timeout_s: float = Field(
        30.0, ge=3, le=300, description="no verify from the central system within this: 'no answer' message"
    )
    maintenance: bool = Field(False, description="show the out-of-service screen (maintenance) and refuse the keypad")
    hide_cursor: bool = Field(True, description="hide the mouse cursor on the page (touch screen)")
    heartbeat_s: float = Field(1.0, gt=0, le=10, description="the state is re-sent at least this often")
