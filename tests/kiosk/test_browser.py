"""The member screen in real headless Chromium against ``terminal run`` on replayed clips.

Walk-up story: idle → the member walks up (session, blink prompt) → the scene turns dark (the instruction
changes) → light and blinks → the result screen with the decision → the daemon stops (out of service).
Keypad story (real mosquitto): touch, type a NIK, the request reaches the central client, which answers with
``verify``; the session runs and the result carries only the request id; a KPJ nobody answers times out.
Screenshots of every screen (800x480, <= 200 KB) go to $TERMINAL_SCREENS_OUT when set (docs/screens/).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import cv2
import pytest

from terminal.analysis.guidance import MESSAGES
from terminal.cli.main import main
from terminal.kiosk.texts import SCREENS
from terminal.kiosk.wire import REQUEST_TYP
from terminal.security import keys
from terminal.security.envelope import sign_command, verify_payload
from terminal.security.errors import SignatureError
from tests.kiosk.daemon import CENTRAL_KEY, KioskDaemon, kiosk_config, live_clip_at, walkup_story, write_clip
from tests.report.helpers import Central
from tests.session.clips import yale
from tests.support.broker import free_port
from tests.support.browser import PAGE_STATE_JS, SMALLEST_TEXT_JS, chromium, require_chromium, resize, wait_until
from tests.support.shared import data

pytestmark = [pytest.mark.slow]
SESSION_STATES = {"searching", "guiding", "liveness", "capturing", "matching"}
NIK = "3201015507890001"  # plausible NIK: West Java, born 15 July 1989 (woman: day + 40), serial 0001
KPJ = "16001234567"


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reference of the real member of the walk-up clip (clm_franck's ref.jpg), enrolled with the real models."""
    d = tmp_path_factory.mktemp("ref")
    out = d / "ref.json"
    assert main(["enroll", str(data("live/clm_franck/ref.jpg")), "--out", str(out), "--skip", "UNSTEADY"]) == 0
    return out


@pytest.fixture(scope="module")
def other_reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Yale subject 05's reference: someone else than the member of the clips."""
    d = tmp_path_factory.mktemp("ref5")
    img = d / "subject05.png"
    cv2.imwrite(str(img), cv2.cvtColor(yale(5, "normal"), cv2.COLOR_RGB2BGR))
    out = d / "ref.json"
    assert main(["enroll", str(img), "--out", str(out), "--skip", "UNSTEADY,OCCLUDED_GLASSES"]) == 0
    return out


def shot(driver: Any, name: str, tmp: Path) -> Path:
    """A screenshot, checked small (<= 200 KB), copied to $TERMINAL_SCREENS_OUT if set."""
    p = tmp / f"{name}.png"
    assert driver.save_screenshot(str(p))
    assert 0 < p.stat().st_size <= 200_000, f"{name}.png is {p.stat().st_size} bytes"
    out = os.environ.get("TERMINAL_SCREENS_OUT")
    if out:
        # The copy for the docs hides the live preview behind a heavy blur: the faces of the research data sets
        # the clips come from must never be published; the page's text, icons and oval stay sharp.
        Path(out).mkdir(parents=True, exist_ok=True)
        driver.execute_script("document.getElementById('frame').style.filter = 'blur(40px)'")
        assert driver.save_screenshot(str(Path(out) / p.name))
        driver.execute_script("document.getElementById('frame').style.filter = ''")
    return p


class Watcher:
    """Polls the page and keeps every distinct (state, instruction, liveness prompt) it showed."""

    def __init__(self, driver: Any) -> None:
        self.driver = driver
        self.seen: list[dict[str, Any]] = []
        self.oval_green = False

    def poll(self) -> dict[str, Any]:
        s = self.driver.execute_script(PAGE_STATE_JS)
        self.oval_green |= s["state"] in SESSION_STATES and "ok" in s["oval"].split()
        key = (s["state"], s["instruction"], s["liveness"])
        if not self.seen or key != (self.seen[-1]["state"], self.seen[-1]["instruction"], self.seen[-1]["liveness"]):
            self.seen.append(s)
        return s

    def until(self, pred: Any, timeout: float, what: str) -> dict[str, Any]:
        return wait_until(
            lambda: (lambda s: s if pred(s) else None)(self.poll()),
            timeout,
            f"{what}; page showed {[(x['state'], x['instruction'], x['liveness']) for x in self.seen[-8:]]}",
        )


def test_walkup_story_in_chromium(tmp_path: Path, reference: Path) -> None:
    require_chromium()
    clip = write_clip(walkup_story(), tmp_path / "walkup")
    port = free_port()
    # The voice speaks on ALSA's null device (CI has no sound card): the daemon log names each prompt.
    cfg = kiosk_config(
        tmp_path, clip, port=port, walkup=reference, extra={"voice": {"enabled": "true", "device": '"null"'}}
    )
    d = KioskDaemon(cfg, port, tmp_path / "daemon.log", level="debug")
    try:
        with chromium(tmp_path / "profile") as driver:
            driver.get(d.url)
            w = Watcher(driver)
            idle = w.until(lambda s: s["state"] == "idle", 60, "the idle screen")
            assert idle["instruction"] == SCREENS["SCREEN_IDLE_WALKUP"]["id"]
            assert driver.find_element("id", "terminal-id").text == "Terminal kiosk-t1"
            assert "175" in driver.find_element("id", "support").text
            smallest, where = driver.execute_script(SMALLEST_TEXT_JS)
            assert smallest >= 24, f"text of {smallest}px in {where} at 800x480"
            shot(driver, "idle", tmp_path)
            resize(driver, 1920, 1080)  # the same page on a 1080p HDMI screen scales up
            wait_until(
                lambda: (lambda r: r if r[0] >= 36 else None)(driver.execute_script(SMALLEST_TEXT_JS)),
                5,
                "text of at least 36 px at 1080p",
            )
            resize(driver, 800, 480)
            blink = MESSAGES["LIVENESS_BLINK"]["id"]
            live = w.until(
                lambda s: s["state"] == "liveness" and blink in (s["instruction"], s["liveness"]),
                30,
                "the blink prompt",
            )
            assert live["instruction"]
            smallest, where = driver.execute_script(SMALLEST_TEXT_JS)
            assert smallest >= 24, f"text of {smallest}px in {where} during the session"
            shot(driver, "liveness", tmp_path)
            dark = {MESSAGES["TOO_DARK"]["id"], MESSAGES["NO_FACE"]["id"]}
            w.until(
                lambda s: s["state"] in SESSION_STATES and s["instruction"] in dark, 15, "the dark-scene instruction"
            )
            shot(driver, "guidance-dark", tmp_path)
            res = w.until(lambda s: s["state"] == "result", 20, "the result screen")
            assert res["instruction"] == SCREENS["RESULT_MATCH"]["id"]
            shot(driver, "result-match", tmp_path)
            stats = driver.execute_script("return window.kioskStats")
            assert stats["previews"] >= 10, stats  # the live preview was shown
            assert w.oval_green, "the face oval never turned green while the face was framed"
            order = iter([x["state"] for x in w.seen])
            assert all(step in order for step in ("idle", "liveness", "result")), w.seen  # in this order
            assert d.stop() == 0
            spoken = [ln.split("voice: ", 1)[1] for ln in d.log.read_text().splitlines() if "voice: " in ln]
            assert "LIVENESS_BLINK" in spoken and "RESULT_MATCH" in spoken, spoken
            oos = w.until(lambda s: s["state"] == "out_of_service", 10, "out of service after the daemon stopped")
            assert oos["instruction"] == SCREENS["OOS_STARTING"]["id"]
            shot(driver, "out-of-service", tmp_path)
    finally:
        d.stop()


def press(driver: Any, digits: str) -> None:
    """Touch the on-screen keys."""
    for ch in digits:
        driver.find_element("css selector", f'#keys button[data-key="{ch}"]').click()


def raw_start(port: int, body: dict[str, Any], origin: str | None = None) -> Any:
    """Send a start message straight to the socket (bypassing the page's own checks); the reply or the status.

    Like a browser, it first loads the page, whose HttpOnly cookie /ws requires."""
    import asyncio

    import aiohttp

    async def go() -> Any:
        headers = {"Origin": origin} if origin else {}
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as s:
            async with s.get(f"http://127.0.0.1:{port}/") as page:
                assert page.status == 200
            try:
                async with s.ws_connect(f"http://127.0.0.1:{port}/ws", headers=headers) as ws:
                    sent = False
                    while True:
                        frame = await ws.receive(timeout=60)
                        if frame.type != aiohttp.WSMsgType.TEXT:
                            continue  # a preview JPEG (binary): this socket gets them too
                        msg = json.loads(frame.data)
                        if msg.get("type") != "state":
                            return msg
                        if not sent and msg.get("screen") == "idle":  # the terminal is ready (camera up)
                            await ws.send_str(json.dumps(body))
                            sent = True
            except aiohttp.WSServerHandshakeError as err:
                return err.status

    return asyncio.run(go())


def test_keypad_request_answered_by_verify(
    tmp_path: Path, reference: Path, other_reference: Path, mosquitto_factory: Any
) -> None:
    require_chromium()
    broker = mosquitto_factory()
    tid = "kiosk-t2"
    central = Central(broker, f"terminal/{tid}/#")
    clip = write_clip(live_clip_at("clm_franck"), tmp_path / "live")  # a real member (blinks at 2.1 s and 7.8 s)
    port = free_port()
    cfg = kiosk_config(
        tmp_path,
        clip,
        port=port,
        broker_port=broker.port,
        tid=tid,
        extra={"kiosk": {"request_timeout_s": "3.0", "result_hold_s": "2.0"}},
    )
    d = KioskDaemon(cfg, port, tmp_path / "daemon.log")
    try:
        central.wait_for("status", lambda p: p.get("state") == "online", timeout=60)
        # The device checks the number itself, whatever the page sends; other web origins are refused.
        bad = raw_start(port, {"type": "start", "kind": "nik", "number": "0000000000000000"})
        assert bad == {"type": "start_refused", "code": "REQUEST_REFUSED", "why": "NIK province code not valid"}
        assert raw_start(port, {"type": "start", "kind": "kpj", "number": "1" * 11})["code"] == "REQUEST_REFUSED"
        assert raw_start(port, {"type": "start", "kind": "nik", "number": NIK}, origin="http://evil.example") == 403
        with chromium(tmp_path / "profile") as driver:
            driver.get(d.url)
            w = Watcher(driver)
            idle = w.until(lambda s: s["state"] == "idle", 60, "the idle screen")
            assert idle["instruction"] == SCREENS["SCREEN_IDLE"]["id"]
            driver.find_element("id", "instruction").click()
            w.until(lambda s: s["state"] == "keypad", 5, "the keypad")
            press(driver, "0012")  # province 00: the page refuses it, nothing is sent
            assert driver.find_element("id", "ok").get_attribute("disabled")
            press(driver, "345678901234")
            driver.find_element("id", "ok").click()
            w.until(lambda s: s["state"] == "keypad" and "NIK" in s["instruction"], 5, "the NIK format message")
            press(driver, NIK)
            smallest, where = driver.execute_script(SMALLEST_TEXT_JS)
            assert smallest >= 24, f"text of {smallest}px in {where} on the keypad"
            shot(driver, "keypad", tmp_path)
            driver.find_element("id", "ok").click()
            w.until(lambda s: s["state"] == "waiting", 10, "the waiting screen")
            shot(driver, "waiting", tmp_path)
            req = central.wait_for("/request", timeout=15)[0]
            assert req["kind"] == "nik" and req["number"] == NIK and req["terminal_id"] == tid
            rid = req["request_id"]
            assert rid.startswith("k-") and NIK not in rid
            # Signed by the terminal's key like its results, with its own typ (never taken for a result).
            raw = next(bytes(m.payload) for m in central.messages if m.topic.endswith("/request"))
            pub = keys.load_private(keys.terminal_key_path(tmp_path / "state")).public_key()
            assert verify_payload(raw, [pub], typ=REQUEST_TYP)["number"] == NIK
            with pytest.raises(SignatureError):
                verify_payload(raw, [pub])  # the result typ
            central.client.publish(
                f"terminal/{tid}/cmd/verify",
                json.dumps(
                    sign_command(
                        {"request_id": rid, "template": json.loads(reference.read_text())},
                        CENTRAL_KEY,
                        terminal_id=tid,
                        name="verify",
                    )
                ),
                qos=1,
            )
            w.until(lambda s: s["state"] in SESSION_STATES, 15, "the session after verify")
            res = w.until(lambda s: s["state"] == "result", 30, "the result screen")
            assert res["instruction"] == SCREENS["RESULT_MATCH"]["id"]
            result = central.wait_for("/result", timeout=15)[0]
            assert result["request_id"] == rid and result["decision"] == "match"
            assert NIK not in json.dumps(result)
            # A KPJ nobody answers: the member is told, after request_timeout_s.
            w.until(lambda s: s["state"] == "idle", 15, "idle again")
            driver.find_element("id", "instruction").click()
            w.until(lambda s: s["state"] == "keypad", 5, "the keypad again")
            driver.find_element("css selector", 'button[data-kind="kpj"]').click()
            press(driver, KPJ)
            driver.find_element("id", "ok").click()
            assert central.wait_for("/request", lambda p: p.get("kind") == "kpj", timeout=15)[0]["number"] == KPJ
            late = w.until(lambda s: s["state"] == "request_timeout", 15, "the no-answer message")
            assert late["instruction"] == SCREENS["REQUEST_TIMEOUT"]["id"]
            shot(driver, "request-timeout", tmp_path)
            # Central-initiated verify still works beside the keypad; someone else's template: no match.
            w.until(lambda s: s["state"] == "idle", 15, "idle after the no-answer message")
            central.client.publish(
                f"terminal/{tid}/cmd/verify",
                json.dumps(
                    sign_command(
                        {"request_id": "central-77", "template": json.loads(other_reference.read_text())},
                        CENTRAL_KEY,
                        terminal_id=tid,
                        name="verify",
                    )
                ),
                qos=1,
            )
            nm = w.until(lambda s: s["state"] == "result", 30, "the no-match result")
            assert nm["instruction"] == SCREENS["RESULT_NO_MATCH"]["id"]
            shot(driver, "result-no-match", tmp_path)
        assert d.stop() == 0
    finally:
        d.stop()
    # The numbers were never logged nor left on disk (outbox rows are deleted with secure_delete).
    log = (tmp_path / "daemon.log").read_bytes()
    assert NIK.encode() not in log and KPJ.encode() not in log
    for f in (tmp_path / "state").rglob("*"):
        if f.is_file():
            data = f.read_bytes()
            assert NIK.encode() not in data and KPJ.encode() not in data, f"a member number is left in {f.name}"
