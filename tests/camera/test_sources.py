"""Frame sources: replay of a recording, an image folder, a video; record -> replay round trip; picamera2 fake."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from terminal.camera import open_source
from terminal.camera.fake_picamera2 import FakePicamera2
from terminal.camera.frame import Frame
from terminal.camera.picamera2_source import Picamera2Source
from terminal.camera.recording import RecordingWriter
from terminal.camera.replay import ReplaySource
from terminal.cli.main import main
from terminal.errors import SourceError
from tests.support.shared import data

CLIP = "videos/pyfeat_single_face"


def test_replay_image_folder() -> None:
    frames_dir = data(f"{CLIP}/frames")
    n_files = len(list(frames_dir.glob("*.jpg")))
    src = ReplaySource(frames_dir, fps=30.0)
    frames = list(src)
    assert len(frames) == n_files == 72
    assert frames[0].image.dtype == np.uint8 and frames[0].image.shape == (360, 640, 3)
    ts = [f.timestamp for f in frames]
    assert ts == sorted(ts) and ts[1] == pytest.approx(1 / 30)


def test_replay_video_matches_decoded_frames() -> None:
    video = data(f"{CLIP}/original.mp4")
    frames = list(open_source(str(video)))
    assert len(frames) == 72
    first_jpg = cv2.cvtColor(cv2.imread(str(data(f"{CLIP}/frames/000000.jpg"))), cv2.COLOR_BGR2RGB)
    # The shared frames are JPEG q85 of the same decode: close, not identical.
    assert np.abs(frames[0].image.astype(int) - first_jpg.astype(int)).mean() < 4


def test_record_then_replay_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    out = tmp_path / "rec"
    originals = []
    with RecordingWriter(out, source="test") as rec:
        for i in range(5):
            img = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
            originals.append(img)
            rec.write(
                Frame(img, 10.0 + i * 0.04, i, {"ExposureTime": 1000 + i, "AnalogueGain": 1.5, "RingLight": 0.2 * i})
            )
    header = json.loads((out / "recording.json").read_text())
    assert header["format"] == "terminal-recording"
    replayed = list(ReplaySource(out))
    assert len(replayed) == 5
    for i, f in enumerate(replayed):
        assert np.array_equal(f.image, originals[i])  # PNG is lossless
        assert f.timestamp == pytest.approx(10.0 + i * 0.04)
        assert f.metadata["ExposureTime"] == 1000 + i
        assert f.metadata["RingLight"] == pytest.approx(0.2 * i)


def test_cli_record_then_replay(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "rec"
    assert main(["record", "--source", f"replay:{data(CLIP + '/frames')}", "--out", str(out), "--frames", "10"]) == 0
    capsys.readouterr()
    assert main(["replay", str(out)]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert len(lines) == 10
    assert lines[3]["timestamp"] == pytest.approx(3 / 30, abs=1e-3)
    assert all(0 < x["brightness"] < 255 and x["width"] == 640 for x in lines)


def test_replay_loop_keeps_time_increasing() -> None:
    src = ReplaySource(data(f"{CLIP}/frames"), loop=True)
    ts = [next(iter(src)).timestamp for _ in range(150)]
    assert all(b > a for a, b in itertools.pairwise(ts))


def test_corrupt_frame_is_a_clear_error(tmp_path: Path) -> None:
    out = tmp_path / "rec"
    with RecordingWriter(out) as rec:
        rec.write(Frame(np.zeros((8, 8, 3), np.uint8), 0.0, 0))
    (out / "000000.png").write_bytes(b"not a png")
    with pytest.raises(SourceError, match="000000.png"):
        list(ReplaySource(out))


def test_bad_index_line_names_line(tmp_path: Path) -> None:
    out = tmp_path / "rec"
    out.mkdir()
    (out / "frames.jsonl").write_text('{"index": 0, "file": "a.png", "timestamp": 0}\n{broken\n')
    with pytest.raises(SourceError, match="frames.jsonl:2"):
        ReplaySource(out).start()


def test_missing_source_cli_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    rc = main(["replay", str(tmp_path / "missing")])
    err = capsys.readouterr().err
    assert rc == 66
    assert "no such recording" in err and "Traceback" not in err


def test_picamera2_backend_against_fake() -> None:
    fake = FakePicamera2(data(f"{CLIP}/frames"))
    src = Picamera2Source(width=320, height=240, fps=30, flicker_hz=50, factory=lambda: fake)
    with src:
        f0 = src.read()
        assert f0 is not None
        assert f0.image.shape == (240, 320, 3)
        # Anti-flicker for 50 Hz mains: exposure quantised to 10 ms.
        assert fake.controls["AeFlickerPeriod"] == 10_000
        assert fake.controls["FrameDurationLimits"] == (33_333, 33_333)
        src.set_controls({"ExposureTime": 8000, "AnalogueGain": 2.0, "AeEnable": False})
        f1 = src.read()
        assert f1 is not None
        assert f1.metadata["ExposureTime"] == 8000 and f1.metadata["AnalogueGain"] == 2.0
        assert f1.timestamp > f0.timestamp
        # Colour order: BGR888 in libcamera terms is R,G,B in memory, so no swap is needed.
        ref = cv2.resize(
            cv2.cvtColor(cv2.imread(str(data(f"{CLIP}/frames/000000.jpg"))), cv2.COLOR_BGR2RGB),
            (320, 240),
            interpolation=cv2.INTER_AREA,
        )
        assert np.abs(f0.image.astype(int) - ref.astype(int)).mean() < 2
        # Out-of-range control: logged, not raised, capture continues.
        src.set_controls({"ExposureTime": 10**9})
        assert src.read() is not None
    assert fake.closed


def test_picamera2_dead_camera_raises_from_read() -> None:
    fake = FakePicamera2(data(f"{CLIP}/frames"), fail_after=2)
    src = Picamera2Source(factory=lambda: fake)
    src.start()
    assert src.read() is not None and src.read() is not None
    with pytest.raises(SourceError, match="stopped delivering frames"):
        src.read()
    src.stop()


def test_picamera2_missing_module_is_source_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "picamera2", None)  # as on a laptop, even where it is installed (a Pi)
    with pytest.raises(SourceError, match="picamera2 is not installed"):
        Picamera2Source().start()
