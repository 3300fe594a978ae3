"""``verify-result`` checks that the key that verified belongs to the terminal the result claims (review 1)."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from terminal.cli.main import main
from terminal.security import keys
from terminal.security.envelope import encode_signed, sign_payload, verify_payload
from terminal.security.jws import b64url_decode


def run(argv: list[str], stdin: bytes, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
    return main(argv)


@pytest.fixture()
def two_terminals(tmp_path: Path) -> tuple[Path, Path, bytes, bytes]:
    a, b = keys.generate(), keys.generate()
    pa, pb = tmp_path / "a.pub", tmp_path / "b.pub"
    for key, pub in ((a, pa), (b, pb)):
        pub.write_bytes(
            key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        )
    genuine = encode_signed(sign_payload({"request_id": "q1", "terminal_id": "shop-A", "decision": "match"}, a))
    forged = encode_signed(sign_payload({"request_id": "q1", "terminal_id": "shop-B", "decision": "match"}, a))
    return pa, pb, genuine, forged


def test_a_result_signed_by_terminal_a_claiming_b_is_refused(
    two_terminals: tuple[Path, Path, bytes, bytes],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pa, pb, genuine, forged = two_terminals
    # the review's reproduction: two bare keys and --terminal shop-B
    assert run(["verify-result", "--key", str(pa), "--key", str(pb), "--terminal", "shop-B"], forged, monkeypatch) == 1
    bound = ["--key", f"shop-A={pa}", "--key", f"shop-B={pb}"]
    assert run(["verify-result", *bound], forged, monkeypatch) == 1
    assert run(["verify-result", *bound, "--terminal", "shop-B"], forged, monkeypatch) == 1
    assert "wrong_key" in capsys.readouterr().err
    assert run(["verify-result", *bound], genuine, monkeypatch) == 0
    assert run(["verify-result", *bound, "--terminal", "shop-A"], genuine, monkeypatch) == 0
    ring = tmp_path / "ring.json"
    ring.write_text(json.dumps({"shop-A": pa.name, "shop-B": [pb.name]}))
    assert run(["verify-result", "--keyring", str(ring)], genuine, monkeypatch) == 0
    assert run(["verify-result", "--keyring", str(ring)], forged, monkeypatch) == 1
    toml = tmp_path / "ring.toml"
    toml.write_text(f'shop-A = "{pa}"\nshop-B = "{pb}"\n')
    assert run(["verify-result", "--keyring", str(toml)], genuine, monkeypatch) == 0
    assert run(["verify-result", "--keyring", str(toml)], forged, monkeypatch) == 1


def test_a_bare_key_needs_to_be_alone_and_named_by_terminal(
    two_terminals: tuple[Path, Path, bytes, bytes], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pa, pb, genuine, _ = two_terminals
    assert run(["verify-result", "--key", str(pa), "--terminal", "shop-A"], genuine, monkeypatch) == 0
    # one bare key with --terminal: the operator vouches that this is shop-B's key (it is not, but we cannot know)
    assert run(["verify-result", "--key", str(pa)], genuine, monkeypatch) == 1  # which terminal is this key?
    assert "unbound_key" in capsys.readouterr().err
    assert (
        run(["verify-result", "--key", str(pa), "--key", f"shop-B={pb}", "--terminal", "shop-A"], genuine, monkeypatch)
        == 1
    )
    assert run(["verify-result"], genuine, monkeypatch) == 78


def test_the_result_header_carries_the_terminal_id() -> None:
    a = keys.generate()
    signed = sign_payload({"request_id": "q1", "terminal_id": "shop-A"}, a)
    header = json.loads(b64url_decode(signed["signature"].split(".")[0], "header"))
    assert header["sub"] == "shop-A"
    # a verifier that only reads the body cannot be fooled by a header/body mismatch either
    assert verify_payload(encode_signed(signed), [a.public_key()])["terminal_id"] == "shop-A"
