"""Diagnostics of the hardware: camera (frames, frame rate, exposure), ring light (steps it and measures the
brightness response), and the annotated snapshot."""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from terminal.camera import open_source, source_from_config
from terminal.camera.frame import Frame, mean_luma
from terminal.config import Config
from terminal.diagnostics.report import CheckResult, DiagnoseLimits
from terminal.errors import SourceError, TerminalError
from terminal.privacy import private_dir, write_image

if TYPE_CHECKING:
    from gpiozero import Factory

    from terminal.camera.base import FrameSource
    from terminal.light.devices import LightDevices

log = logging.getLogger(__name__)


class CameraHung(SourceError):
    """No frame arrived within the timeout (the read is stuck in the driver)."""


class Hardware:
    """The frame source and light devices a diagnostics run uses: given by the daemon, or opened here.

    Reads go through a helper thread with a deadline, because a hung camera blocks read() forever and the
    self-test must still finish and say so.
    """

    def __init__(
        self,
        cfg: Config,
        *,
        source: FrameSource | None,
        source_spec: str | None,
        devices: LightDevices | None,
        pin_factory: Factory | None,
        need_light: bool,
    ) -> None:
        self.cfg = cfg
        self.source = source
        self.devices = devices
        self._own_source = source is None
        self._own_devices = devices is None
        self._spec = source_spec
        self.source_error: str | None = None
        self.device_error: str | None = None
        self.hung = False
        self.last_frame: Frame | None = None
        if devices is None and need_light and cfg.light.enabled:
            from terminal.light.devices import LightDevices

            try:
                self.devices = LightDevices.from_config(cfg.light, pin_factory)
            except TerminalError as err:
                self.device_error = str(err)

    def camera(self) -> FrameSource | None:
        """The started frame source, opened on first use; None (with source_error set) if it cannot be."""
        if self.source is None and self.source_error is None:
            try:
                if self._spec:
                    # A simulated scene is lit by our light devices, like a real camera by the real lamp.
                    kw: dict[str, Any] = {"devices": self.devices} if self._spec.startswith("sim:") else {}
                    self.source = open_source(self._spec, self.cfg.camera, **kw)
                else:
                    self.source = source_from_config(self.cfg.camera)
                self.source.start()
            except TerminalError as err:
                self.source_error = str(err)
                self.source = None
        return self.source

    def read(self, timeout: float) -> Frame | None:
        """The next frame; None at the end of a finite source; CameraHung after ``timeout`` seconds."""
        src = self.camera()
        if src is None:
            raise SourceError(self.source_error or "no camera")
        if self.hung:
            raise CameraHung("the camera is still stuck in an earlier read")
        box: queue.Queue[tuple[Frame | None, BaseException | None]] = queue.Queue(1)

        def reader() -> None:
            try:
                box.put((src.read(), None))
            except BaseException as err:  # handed to the caller's thread
                box.put((None, err))

        threading.Thread(target=reader, name="diagnose-read", daemon=True).start()
        try:
            frame, err = box.get(timeout=timeout)
        except queue.Empty:
            self.hung = True
            raise CameraHung(f"no frame within {timeout:.0f} s: the camera hangs") from None
        if err is not None:
            raise err
        if frame is not None:
            self.last_frame = frame
        return frame

    def last_image(self) -> np.ndarray | None:
        """The most recent frame's image (for the model check), if any."""
        return self.last_frame.image if self.last_frame is not None else None

    def close(self) -> None:
        """Light off; close what this run opened (the daemon's own source and devices stay open)."""
        if self.devices is not None:
            try:
                self.devices.off()
            except TerminalError as err:
                log.warning("diagnose: light off failed: %s", err)
            if self._own_devices:
                self.devices.close()
        if self._own_source and self.source is not None and not self.hung:
            self.source.stop()


def check_camera(cfg: Config, hw: Hardware, lim: DiagnoseLimits) -> CheckResult:
    """Frames arrive, their timestamps advance at the configured rate, and they are neither black nor white."""
    if hw.camera() is None:
        return CheckResult("camera", "fail", f"cannot open: {hw.source_error}")
    frames: list[Frame] = []
    t0 = time.monotonic()
    try:
        for _ in range(lim.camera_frames):
            frame = hw.read(lim.camera_timeout_s)
            if frame is None:
                break
            frames.append(frame)
    except CameraHung as err:
        return CheckResult("camera", "fail", f"{err} after {len(frames)} frames", {"frames": len(frames)})
    wall = time.monotonic() - t0
    if len(frames) < 2:
        return CheckResult(
            "camera", "fail", f"only {len(frames)} frame(s) before the source ended", {"frames": len(frames)}
        )
    stamps = [f.timestamp for f in frames]
    stale = sum(1 for a, b in itertools.pairwise(stamps) if b <= a)
    span = stamps[-1] - stamps[0]
    fps = (len(frames) - 1) / span if span > 0 else 0.0
    luma = float(np.mean([mean_luma(f.image) for f in frames[-3:]]))
    md = frames[-1].metadata
    details = {
        "frames": len(frames),
        "fps": round(fps, 2),
        "wall_fps": round(len(frames) / wall, 1) if wall else None,
        "stale_frames": stale,
        "mean_luma": round(luma, 1),
        "width": frames[-1].width,
        "height": frames[-1].height,
        "exposure_us": md.get("ExposureTime"),
        "gain": md.get("AnalogueGain"),
        "source": hw.source.describe() if hw.source is not None else None,
    }
    summary = f"{len(frames)} frames {frames[-1].width}x{frames[-1].height} at {fps:.1f} fps, luma {luma:.0f}" + (
        f", exposure {md['ExposureTime']} µs gain {md.get('AnalogueGain')}" if "ExposureTime" in md else ""
    )
    if stale >= len(frames) - 1:
        return CheckResult("camera", "fail", f"{summary}: timestamps do not advance (frozen buffer)", details)
    if fps < lim.min_fps_ratio * cfg.camera.fps:
        return CheckResult(
            "camera", "fail", f"{summary}: below {lim.min_fps_ratio:.0%} of {cfg.camera.fps:g} fps", details
        )
    if luma < lim.dark_luma:
        return CheckResult("camera", "fail", f"{summary}: black frames (lens cap? sensor cable?)", details)
    if luma > lim.bright_luma:
        return CheckResult("camera", "fail", f"{summary}: saturated frames", details)
    return CheckResult("camera", "pass", summary, details)


@contextmanager
def fixed_exposure(src: FrameSource, exposure_us: int) -> Iterator[None]:
    """Auto-exposure off at a fixed exposure and gain 1 (so the light's effect shows), restored afterwards."""
    src.set_controls({"AeEnable": False, "ExposureTime": exposure_us, "AnalogueGain": 1.0})
    try:
        yield
    finally:
        src.set_controls({"AeEnable": True})


def _ramp(hw: Hardware, level: float, fps: float, timeout: float) -> None:
    """Fade the ring light to ``level`` at frame pace (the devices enforce the ramp limits)."""
    assert hw.devices is not None
    for _ in range(200):
        if abs(hw.devices.duty - level) <= 1e-6:
            return
        hw.devices.set_duty(level, dt=1.0 / fps)
        if hw.read(timeout) is None:
            raise SourceError("the source ended during the light test")
    raise TerminalError(f"the ring light does not reach duty {level:.2f} (stuck at {hw.devices.duty:.2f})")


def check_light(cfg: Config, hw: Hardware, lim: DiagnoseLimits) -> CheckResult:
    """Step the ring light from off to max_duty and check that the measured brightness follows."""
    from terminal.light.measure import measure, to_linear

    light = cfg.light
    if not light.enabled:
        return CheckResult("light", "skip", "light.enabled = false")
    if hw.devices is None:
        return CheckResult("light", "fail", f"cannot open the light: {hw.device_error}")
    src = hw.camera()
    if src is None:
        return CheckResult("light", "fail", f"needs the camera to see the light: {hw.source_error}")
    rows: list[dict[str, Any]] = []
    n = max(2, lim.light_steps)
    with fixed_exposure(src, light.base_exposure_us):
        for i in range(n):
            level = light.max_duty * i / (n - 1)
            _ramp(hw, level, cfg.camera.fps, lim.camera_timeout_s)
            values = []
            for _ in range(2 + lim.light_frames):  # two frames for the pipeline to catch up
                frame = hw.read(lim.camera_timeout_s)
                if frame is None:
                    raise SourceError("the source ended during the light test")
                values.append(measure(frame.image).brightness)
            pin = getattr(getattr(hw.devices.ring, "pin", None), "state", None)
            rows.append(
                {
                    "duty": round(hw.devices.duty, 3),
                    "pin": None if pin is None else round(float(pin), 3),
                    "brightness": round(float(np.mean(values[2:])), 1),
                }
            )
        flicker = _flicker(cfg, hw, lim)
    hw.devices.off()
    lo, hi = to_linear(rows[0]["brightness"]), to_linear(rows[-1]["brightness"])
    response = (hi - lo) / max(hi, lo, 1e-9)
    details = {
        "steps": rows,
        "response": round(response, 3),
        "min_response": light.fault_min_response,
        "flicker": flicker,
    }
    summary = (
        f"brightness {rows[0]['brightness']:.0f} -> {rows[-1]['brightness']:.0f} for duty 0 -> "
        f"{rows[-1]['duty']:.2f} ({100 * response:+.0f}% linear); {hw.devices.driver} PWM flicker "
        f"{100 * flicker['frame_variation']:.2f}% frame-to-frame, {100 * flicker['banding']:.2f}% banding"
    )
    mismatched = [r for r in rows if r["pin"] is not None and abs(r["pin"] - r["duty"]) > 0.02]
    if mismatched:
        return CheckResult("light", "fail", f"{summary}; the GPIO pin does not follow the duty", details)
    if rows[0]["brightness"] >= 250:
        return CheckResult("light", "warn", f"{summary}; saturated at duty 0, too much ambient light to judge", details)
    if response < light.fault_min_response:
        return CheckResult("light", "fail", f"{summary}: lamp dead, unplugged, or MOSFET/wiring fault", details)
    if flicker["verdict"] != "ok":
        return CheckResult(
            "light", "warn", f"{summary}: flickers on camera (goal < 1%; light.driver = 'sysfs_pwm')", details
        )
    return CheckResult("light", "pass", summary, details)


def _flicker(cfg: Config, hw: Hardware, lim: DiagnoseLimits) -> dict[str, Any]:
    """Frame-to-frame variation and banding with the light held at half of max_duty (terminal.light.flicker)."""
    from terminal.light.flicker import hold_and_measure, verdict

    assert hw.devices is not None
    _ramp(hw, cfg.light.max_duty / 2, cfg.camera.fps, lim.camera_timeout_s)

    def read() -> Frame:
        frame = hw.read(lim.camera_timeout_s)
        if frame is None:
            raise SourceError("the source ended during the flicker test")
        return frame

    fig = hold_and_measure(read, lim.flicker_frames)
    return {
        "duty": round(hw.devices.duty, 3),
        "driver": hw.devices.driver,
        "pwm_hz": hw.devices.pwm_hz,
        "frames": lim.flicker_frames,
        "frame_variation": round(fig["frame_variation"], 5),
        "banding": round(fig["banding"], 5),
        "verdict": verdict(fig),
    }


def write_snapshot(cfg: Config, hw: Hardware, path: Path) -> CheckResult:
    """Write the current frame with landmarks, head pose, verdict, light duty and brightness drawn on it.

    A face image: written only when the technician asks (``--snapshot``), with the service's umask 0077.
    """
    import cv2

    from terminal.analysis.annotate import draw_verdict
    from terminal.analysis.gate import QualityGate
    from terminal.light.measure import measure

    duty = 0.0
    if hw.devices is not None and hw.camera() is not None:
        duty = cfg.light.max_duty / 2  # light the face for the picture, as a session would
        _ramp(hw, duty, cfg.camera.fps, 10.0)
    frame = None
    for _ in range(3):
        frame = hw.read(10.0) or frame
    if frame is None:
        raise SourceError("snapshot: no frame from the camera")
    with QualityGate.from_config(cfg, mode="image") as gate:
        verdict = gate.analyze(frame.image)
    img = draw_verdict(frame.image, verdict)
    face = verdict.face
    m = measure(frame.image, tuple(int(v) for v in face.bbox) if face is not None else None)  # type: ignore[arg-type]
    lines = [
        f"light duty {duty:.2f}  face luma {m.brightness:.0f}",
        f"exposure {frame.metadata.get('ExposureTime', '?')} us  gain {frame.metadata.get('AnalogueGain', '?')}",
    ]
    if face is not None:
        lines.append(f"yaw {face.yaw:+.0f}  pitch {face.pitch:+.0f}  roll {face.roll:+.0f}")
    h = img.shape[0]
    for i, text in enumerate(reversed(lines)):
        cv2.putText(img, text, (6, h - 8 - 18 * i), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
    private_dir(path.parent)
    write_image(path, img)  # owner-only: the snapshot shows a face
    if hw.devices is not None:
        hw.devices.off()
    details = {
        "path": str(path),
        "face": face is not None,
        "passed": verdict.passed,
        "failures": list(verdict.failures),
        "advisories": list(verdict.advisories),
        # PAD scores only frames at least [pad] min_sharpness sharp: a technician checks the lens against it.
        "sharpness": None if verdict.sharpness is None else round(verdict.sharpness, 3),
        "duty": duty,
        "face_luma": round(m.brightness, 1),
    }
    summary = (
        f"{path}: "
        + ("face found" if face is not None else "no face")
        + (f", gate {'PASS' if verdict.passed else 'FAIL ' + ' '.join(verdict.failures)}")
    )
    return CheckResult("snapshot", "pass", summary, details)
