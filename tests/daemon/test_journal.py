"""The journald native-protocol handler against a datagram socket the test creates, and the biometric guard."""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from terminal.daemon.journal import (
    JournalHandler,
    WithFields,
    decode_fields,
    encode_fields,
    journal_handler_if_available,
)
from terminal.logsetup import JournalPrefixFormatter, setup_logging
from terminal.logsink import priority_of
from terminal.privacy import BiometricGuard, looks_biometric
from tests.daemon.sockets import DatagramListener, dgram_queue_length


@pytest.fixture
def journald() -> Iterator[DatagramListener]:
    """A socket standing in for /run/systemd/journal/socket."""
    sock = DatagramListener(name="journal")
    yield sock
    sock.close()


@pytest.fixture
def jlog(journald: DatagramListener) -> Iterator[logging.Logger]:
    """A logger whose only handler is a JournalHandler aimed at the test socket."""
    logger = logging.getLogger(f"test.journal.{id(journald)}")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    handler = JournalHandler(journald.path, identifier="terminal", static_fields={"TERMINAL_ID": "t-01"})
    logger.addHandler(handler)
    yield logger
    logger.removeHandler(handler)
    handler.close()


def entry(journald: DatagramListener) -> dict[str, bytes]:
    """The next journal entry as a dict (asserting that one arrived)."""
    payload = journald.receive()
    assert payload is not None, "nothing reached the journal socket"
    return dict(decode_fields(payload))


def test_record_becomes_journal_fields(journald: DatagramListener, jlog: logging.Logger) -> None:
    jlog.warning(
        "session %s ended: %s",
        "s-1",
        "no_match",
        extra={"journal": {"SESSION_ID": "s-1", "RESULT": "no_match", "REASON": "POSE_YAW"}},
    )
    e = entry(journald)
    assert e["MESSAGE"] == b"session s-1 ended: no_match"
    assert e["PRIORITY"] == b"4"
    assert e["SYSLOG_IDENTIFIER"] == b"terminal"
    assert e["CODE_FILE"].endswith(b"test_journal.py")
    assert int(e["CODE_LINE"]) > 0
    assert e["CODE_FUNC"] == b"test_record_becomes_journal_fields"
    assert e["TERMINAL_ID"] == b"t-01"
    assert (e["SESSION_ID"], e["RESULT"], e["REASON"]) == (b"s-1", b"no_match", b"POSE_YAW")


@pytest.mark.parametrize(
    ("level", "prio"),
    [
        (logging.DEBUG, 7),
        (logging.INFO, 6),
        (logging.WARNING, 4),
        (logging.ERROR, 3),
        (logging.CRITICAL, 2),
        (25, 4),
        (55, 2),
    ],
)
def test_priorities(level: int, prio: int) -> None:
    assert priority_of(level) == prio


def test_multiline_message_uses_binary_safe_encoding(journald: DatagramListener, jlog: logging.Logger) -> None:
    try:
        raise RuntimeError("camera vanished")
    except RuntimeError:
        jlog.exception("frame loop failed\nsecond line")
    payload = journald.receive()
    assert payload is not None
    # The binary form: "MESSAGE\n" + little-endian u64 length + bytes + "\n".
    assert b"MESSAGE\n" in payload
    e = dict(decode_fields(payload))
    assert e["MESSAGE"].startswith(b"frame loop failed\nsecond line\nTraceback")
    assert b"RuntimeError: camera vanished" in e["MESSAGE"]
    assert e["EXCEPTION"] == b"RuntimeError: camera vanished"
    assert e["PRIORITY"] == b"3"


@given(st.lists(st.tuples(st.from_regex(r"[A-Z][A-Z0-9_]{0,20}", fullmatch=True), st.binary(max_size=64)), max_size=8))
def test_encode_decode_round_trip(fields: list[tuple[str, bytes]]) -> None:
    assert decode_fields(encode_fields(fields)) == fields


def test_bad_field_names_are_dropped_not_fatal(journald: DatagramListener, jlog: logging.Logger) -> None:
    jlog.info("x", extra={"journal": {"session id": "a", "_PRIVATE": "b", "9LIVES": "c", "ok": "d", "NONE": None}})
    e = entry(journald)
    assert e["SESSION_ID"] == b"a"  # lower case and spaces are normalised
    assert e["OK"] == b"d"
    assert "_PRIVATE" not in e and "9LIVES" not in e and "NONE" not in e


def test_huge_record_goes_through_a_sealed_memfd(journald: DatagramListener, jlog: logging.Logger) -> None:
    big = "x" * (1 << 20)  # larger than any AF_UNIX datagram the kernel accepts by default
    jlog.info("blob %s", big)
    got = journald.receive_with_fds()
    assert got is not None
    data, fds = got
    assert data == b"" and len(fds) == 1
    fd = fds[0]
    try:
        payload = os.pread(fd, 4 << 20, 0)
        with pytest.raises(PermissionError):
            os.pwrite(fd, b"tamper", 0)  # sealed: journald can trust the content
    finally:
        os.close(fd)
    assert dict(decode_fields(payload))["MESSAGE"] == f"blob {big}".encode()


def test_guard_redacts_biometric_data(journald: DatagramListener, jlog: logging.Logger) -> None:
    embedding = np.random.default_rng(0).normal(size=128).astype(np.float32)
    jlog.info(
        "matched with %s",
        embedding,
        extra={
            "journal": {
                "SESSION_ID": "s-2",
                "EMBEDDING": "0.1,0.2",
                "face_image": "x",
                "LANDMARKS": [[0.1, 0.2]] * 478,
                "SCORE": 0.83,
                "RAW": b"\xff\xd8",
            }
        },
    )
    payload = journald.receive()
    assert payload is not None
    assert b"0.1,0.2" not in payload and b"\xff\xd8" not in payload and b"0.2]" not in payload
    e = dict(decode_fields(payload))
    assert e["MESSAGE"] == b"matched with <redacted> ndarray"
    for key in ("EMBEDDING", "FACE_IMAGE", "LANDMARKS", "RAW"):
        assert e[key].startswith(b"<redacted>"), key
    assert e["SESSION_ID"] == b"s-2" and e["SCORE"] == b"0.83"
    assert set(e["REDACTED"].decode().split(",")) == {"args", "EMBEDDING", "face_image", "LANDMARKS", "RAW"}


@pytest.mark.parametrize(
    ("value", "bad"),
    [
        (np.zeros((4, 4, 3), np.uint8), True),
        (b"jpeg", True),
        (bytearray(3), True),
        (memoryview(b"a"), True),
        ([0.5] * 128, True),
        ([[1, 2]] * 20, True),
        ("a string", False),
        (0.83, False),
        ([1, 2, 3], False),
        (["reason"] * 30, False),
    ],
)
def test_looks_biometric(value: object, bad: bool) -> None:
    assert looks_biometric(value) is bad


def test_guard_runs_twice_without_losing_track() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "v %s", (b"\x00",), None)
    record.journal = {"TEMPLATE": "abc"}
    guard = BiometricGuard()
    assert guard.filter(record) and guard.filter(record)
    assert record.redacted == ["TEMPLATE", "args"]
    assert record.getMessage() == "v <redacted> bytes"


def test_stream_fallback_keeps_fields_and_prefixes() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(WithFields(JournalPrefixFormatter("%(name)s: %(message)s")))
    handler.addFilter(BiometricGuard())
    logger = logging.getLogger("test.journal.stream")
    logger.propagate = False
    logger.addHandler(handler)
    try:
        logger.error("session ended\ndetail", extra={"journal": {"RESULT": "error", "IMAGE": "secret"}})
    finally:
        logger.removeHandler(handler)
    assert stream.getvalue() == "<3>test.journal.stream: session ended [RESULT=error IMAGE=<redacted>]\n<3>detail\n"


def test_setup_logging_picks_the_journal_under_systemd(
    journald: DatagramListener, monkeypatch: pytest.MonkeyPatch
) -> None:
    import terminal.daemon.journal as journal

    st_ = os.fstat(2)
    monkeypatch.setenv("JOURNAL_STREAM", f"{st_.st_dev}:{st_.st_ino}")  # stderr "is" the journal
    monkeypatch.setattr(journal, "JOURNAL_SOCKET", journald.path)
    monkeypatch.setattr(journal.journal_handler_if_available, "__defaults__", (journald.path, "terminal"))
    root = logging.getLogger()
    saved, saved_level = root.handlers[:], root.level
    try:
        setup_logging("info")
        assert isinstance(root.handlers[0], JournalHandler)
        logging.getLogger("terminal.test").info("ready", extra={"journal": {"TERMINAL_ID": "t-9"}})
        e = entry(journald)
        assert e["MESSAGE"] == b"ready" and e["TERMINAL_ID"] == b"t-9" and e["LOGGER"] == b"terminal.test"
    finally:
        for h in root.handlers:
            h.close()
        root.handlers[:] = saved
        root.setLevel(saved_level)


def test_no_journal_handler_outside_systemd(journald: DatagramListener, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JOURNAL_STREAM", raising=False)
    assert journal_handler_if_available(journald.path) is None
    assert JournalHandler.available(journald.path)
    assert not JournalHandler.available(journald.path.with_name("missing"))


def test_a_journal_that_stops_reading_does_not_block(journald: DatagramListener) -> None:
    """A full journald queue drops (and counts) records after the send timeout instead of blocking the caller."""
    logger = logging.getLogger("test.journal.full")
    logger.propagate = False
    handler = JournalHandler(journald.path, send_timeout=0.02)
    logger.addHandler(handler)
    total = dgram_queue_length() + 5
    try:
        for i in range(total):
            logger.warning("line %d", i)
    finally:
        logger.removeHandler(handler)
        handler.close()
    assert handler.dropped > 0
    assert 1 <= handler.dropped <= 5 and len(journald.drain()) == total - handler.dropped
