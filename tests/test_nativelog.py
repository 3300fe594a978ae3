"""The C++ log filter: MediaPipe/LiteRT INFO and WARNING lines on fd 2 are dropped, everything else passes."""

from __future__ import annotations

import os
import sys

import pytest

from terminal.camera import parse_source_spec
from terminal.nativelog import NativeLogFilter

NOISE = [
    b"WARNING: Logging before InitGoogle() is written to STDERR\n",
    b"W0000 00:00:1796193681.541545     647 face_landmarker_graph.cc:181] Sets FaceBlendshapesGraph acceleration\n",
    b"I0000 00:00:1796193681.541545     647 gl_context.cc:357] GL version: 3.2\n",
    b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n",
    b"INFO: [accelerator_registry.cc:43] DestroyAccelerator: ptr=0x7f9a64003bf0, name=CpuAccelerator\n",
]
KEPT = [
    b"E0000 00:00:1796193681.541545     647 model.cc:12] could not open the model\n",  # errors always pass
    b"F0000 00:00:1796193681.541545     647 check.cc:9] Check failed: x\n",
    b"terminal analyze: error: something a user must see\n",
    b"partial line without newline",
]


def test_filter_drops_only_the_chatter(capfd: pytest.CaptureFixture[str]) -> None:
    with NativeLogFilter() as flt:
        for line in NOISE + KEPT:
            os.write(2, line)  # as the C++ threads do: straight to the file descriptor
        print("python's own stderr", file=sys.stderr)
    err = capfd.readouterr().err
    assert flt.dropped == len(NOISE)
    for line in KEPT:
        assert line.decode().strip() in err
    assert "python's own stderr" in err
    assert "XNNPACK" not in err and "InitGoogle" not in err and "DestroyAccelerator" not in err


def test_filter_restores_stderr(capfd: pytest.CaptureFixture[str]) -> None:
    before = os.fstat(2).st_ino
    with NativeLogFilter():
        pass
    assert os.fstat(2).st_ino == before
    os.write(2, NOISE[3])
    assert "XNNPACK" in capfd.readouterr().err  # outside the filter nothing is hidden


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("replay:/data/clip", ("replay", "/data/clip")),
        ("opencv:0", ("opencv", "0")),
        ("opencv:/v/a.mp4", ("opencv", "/v/a.mp4")),
        ("picamera2", ("picamera2", "")),
        ("sim:face.jpg?ambient=0.3", ("sim", "face.jpg?ambient=0.3")),
        ("/bare/folder", ("replay", "/bare/folder")),
        ("unknown:thing", ("replay", "unknown:thing")),
    ],
)
def test_one_source_spec_parser(spec: str, expected: tuple[str, str]) -> None:
    assert parse_source_spec(spec) == expected


def test_camera_is_picamera2_or_opencv_device_0() -> None:
    backend, arg = parse_source_spec("camera")
    assert (backend, arg) in {("picamera2", "0"), ("opencv", "0")}


def test_a_crash_dump_is_not_lost_in_the_pipe() -> None:
    """faulthandler writes to the real stderr while the filter runs (the pipe would die with the process)."""
    import subprocess

    code = (
        "import os, signal\n"
        "from terminal.nativelog import NativeLogFilter\n"
        "NativeLogFilter().__enter__()\n"
        "os.kill(os.getpid(), signal.SIGABRT)\n"
    )
    r = subprocess.run([sys.executable, "-X", "faulthandler", "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode != 0 and "Fatal Python error: Aborted" in r.stderr, r.stderr
