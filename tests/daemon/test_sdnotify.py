"""sd_notify against a socket the test creates, and the frame-driven watchdog."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from terminal.camera.base import FrameSource
from terminal.camera.frame import Frame
from terminal.camera.replay import ReplaySource
from terminal.daemon.sdnotify import FrameWatchdog, Notifier, watchdog_interval
from tests.daemon.sockets import DatagramListener, dgram_queue_length
from tests.support.shared import data


@pytest.fixture
def listener() -> Iterator[DatagramListener]:
    """A filesystem notify socket."""
    sock = DatagramListener()
    yield sock
    sock.close()


@pytest.fixture
def abstract_listener() -> Iterator[DatagramListener]:
    """An abstract-namespace notify socket ('@name' in NOTIFY_SOCKET)."""
    sock = DatagramListener(abstract=True)
    yield sock
    sock.close()


def test_ready_status_stopping_reach_the_socket(listener: DatagramListener, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", listener.env_value)
    n = Notifier()
    assert n.enabled
    assert n.ready("idle, light off")
    assert listener.receive() == b"READY=1\nSTATUS=idle, light off"
    assert n.status("session   running\n(face)")
    assert listener.receive() == b"STATUS=session running (face)"
    assert not n.status("session running (face)"), "unchanged status is not resent"
    assert n.stopping("stopping: SIGTERM")
    assert listener.receive() == b"STOPPING=1\nSTATUS=stopping: SIGTERM"
    assert n.reloading()
    assert listener.receive() == b"RELOADING=1"
    assert n.watchdog()
    assert listener.receive() == b"WATCHDOG=1"
    assert n.sent == 5
    n.close()


def test_abstract_socket(abstract_listener: DatagramListener) -> None:
    n = Notifier(env={"NOTIFY_SOCKET": abstract_listener.env_value})
    assert abstract_listener.env_value.startswith("@")
    assert n.ready()
    assert abstract_listener.receive() == b"READY=1"


def test_no_socket_is_a_no_op(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    n = Notifier()
    assert not n.enabled
    assert not n.ready() and not n.watchdog() and not n.stopping()
    assert n.sent == 0


def test_vanished_socket_is_logged_not_raised(listener: DatagramListener, caplog: pytest.LogCaptureFixture) -> None:
    n = Notifier(listener.env_value)
    listener.close()
    assert not n.ready()
    assert not n.watchdog()
    warnings = [r for r in caplog.records if "sd_notify" in r.getMessage()]
    assert len(warnings) == 1, "one warning, not one per call"


def test_newline_in_value_is_refused(listener: DatagramListener) -> None:
    n = Notifier(listener.env_value)
    with pytest.raises(ValueError):
        n.notify("STATUS=a\nREADY=1")
    assert listener.receive(0.05) is None


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, None),
        ({"WATCHDOG_USEC": "30000000"}, 30.0),
        ({"WATCHDOG_USEC": "500000", "WATCHDOG_PID": "4242"}, 0.5),
        ({"WATCHDOG_USEC": "500000", "WATCHDOG_PID": "1"}, None),  # armed for another process
        ({"WATCHDOG_USEC": "0"}, None),
        ({"WATCHDOG_USEC": "-5"}, None),
        ({"WATCHDOG_USEC": "soon"}, None),
        ({"WATCHDOG_USEC": "500000", "WATCHDOG_PID": "me"}, None),
    ],
)
def test_watchdog_interval(env: dict[str, str], expected: float | None) -> None:
    assert watchdog_interval(env, pid=4242) == expected


class FakeClock:
    """Monotonic time the test advances by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_pings_are_rate_limited_to_half_the_interval(listener: DatagramListener) -> None:
    clock = FakeClock()
    wd = FrameWatchdog(Notifier(listener.env_value), interval=2.0, clock=clock)
    assert wd.enabled and wd.ping_every == 1.0
    sent = []
    for i in range(60):  # 30 fps for 2 s
        sent.append(wd.frame_arrived(i / 30))
        clock.now += 1 / 30
    assert sum(sent) == 2, "one ping per second of frames, not one per frame"
    assert listener.drain() == [b"WATCHDOG=1", b"WATCHDOG=1"]


def test_stale_frames_do_not_ping(listener: DatagramListener) -> None:
    clock = FakeClock()
    wd = FrameWatchdog(Notifier(listener.env_value), interval=1.0, clock=clock)
    assert wd.frame_arrived(5.0)
    for _ in range(10):  # the driver keeps handing out the same buffer
        clock.now += 0.6
        assert not wd.frame_arrived(5.0)
    assert wd.pings == 1
    clock.now += 0.6
    assert wd.frame_arrived(5.1), "a frame that moves forward pings again"


def test_disabled_without_watchdog(listener: DatagramListener) -> None:
    wd = FrameWatchdog(Notifier(listener.env_value), interval=None)
    # interval=None reads WATCHDOG_USEC; the test environment has none.
    assert not wd.enabled
    assert not wd.frame_arrived(1.0)
    assert wd.seconds_since_frame() is not None
    assert listener.receive(0.05) is None


class FreezableSource(FrameSource):
    """Real replayed frames until ``freeze`` is set; then read() blocks like a hung camera driver."""

    name = "freezable"

    def __init__(self, inner: FrameSource) -> None:
        super().__init__()
        self.inner = inner
        self.freeze = threading.Event()
        self.release = threading.Event()
        self.frozen = threading.Event()

    def _start(self) -> None:
        self.inner.start()

    def _stop(self) -> None:
        self.inner.stop()

    def _read(self) -> Frame | None:
        if self.freeze.is_set():
            self.frozen.set()
            self.release.wait()
            return None
        return self.inner.read()


def test_pings_stop_when_frames_stop(listener: DatagramListener, monkeypatch: pytest.MonkeyPatch) -> None:
    """The frame loop pings while a replayed camera delivers; once the camera hangs, no ping is ever sent."""
    monkeypatch.setenv("NOTIFY_SOCKET", listener.env_value)
    monkeypatch.setenv("WATCHDOG_USEC", "200000")
    frames_dir = data("videos/pyfeat_single_face/frames")
    source = FreezableSource(ReplaySource(frames_dir, fps=30, realtime=True, loop=True))
    watchdog = FrameWatchdog(Notifier())
    assert watchdog.interval == 0.2
    delivered = []

    def frame_loop() -> None:
        for frame in source:
            delivered.append(frame.index)
            watchdog.frame_arrived(frame.timestamp)

    loop = threading.Thread(target=frame_loop, daemon=True)
    loop.start()
    try:
        flowing = []
        deadline = time.monotonic() + 10
        while len(flowing) < 3 and time.monotonic() < deadline:
            msg = listener.receive(1.0)
            if msg is not None:
                flowing.append(msg)
        assert flowing == [b"WATCHDOG=1"] * 3, "pings while frames flow"
        source.freeze.set()
        assert source.frozen.wait(5), "the camera is now stuck inside read()"
        listener.drain(0.0)  # a ping sent for the last delivered frame may still be queued
        frames_at_freeze = len(delivered)
        pings_at_freeze = watchdog.pings
        # Five watchdog periods without frames: systemd would have restarted us long ago.
        silent = listener.drain(1.0)
        assert silent == [], "no ping may be sent while the camera is stuck"
        assert watchdog.pings == pings_at_freeze
        assert len(delivered) == frames_at_freeze
        since = watchdog.seconds_since_frame()
        assert since is not None and since >= 1.0
    finally:
        source.release.set()
        loop.join(5)


def test_a_supervisor_that_stops_reading_does_not_block(listener: DatagramListener) -> None:
    """The datagram queue fills up (nobody reads): sends time out and return False instead of hanging."""
    n = Notifier(listener.env_value, send_timeout=0.02)
    results = [n.watchdog() for _ in range(dgram_queue_length() + 5)]
    assert results[0] is True and results[-1] is False
    assert len(listener.drain()) == n.sent
