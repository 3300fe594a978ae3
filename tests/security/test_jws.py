"""JWS/EdDSA and canonical JSON against the RFC test vectors; result and command envelopes, strictly."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from terminal.security import jws, keys
from terminal.security.canonical import canonical_json, es6_number, strict_loads
from terminal.security.envelope import encode_signed, open_command, sign_command, sign_payload, verify_payload
from terminal.security.errors import SignatureError

# RFC 8037 appendix A.1/A.3/A.4
RFC_D = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
RFC_THUMB = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
RFC_JWS = (
    "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc."
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
)


def rfc_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(jws.b64url_decode(RFC_D, "d"))


def test_rfc8037_vector_thumbprint_and_signature() -> None:
    key = rfc_key()
    assert keys.thumbprint(key.public_key()) == RFC_THUMB
    protected, payload, sig = RFC_JWS.split(".")
    assert jws.verify(protected, payload, sig, [key.public_key()]) == {"alg": "EdDSA"}
    # Ed25519 is deterministic: we produce the RFC's signature for the RFC's signing input
    assert keys.b64url(key.sign(f"{protected}.{payload}".encode())) == sig


def test_rfc8785_numbers_and_key_order() -> None:
    cases = {
        0.0: "0",
        1e30: "1e+30",
        4.5: "4.5",
        0.002: "0.002",
        1e-7: "1e-7",
        1e21: "1e+21",
        1e20: "100000000000000000000",
        333333333.3333333: "333333333.3333333",
        5e-324: "5e-324",
        -1.7976931348623157e308: "-1.7976931348623157e+308",
        1.0: "1",
        0.000001: "0.000001",
    }
    for x, want in cases.items():
        assert es6_number(x) == want, x
    assert es6_number(-0.0) == "0"
    obj = {"\u20ac": 0, "\r": 1, "\ufb33": 2, "1": 3, "\U0001f600": 4, "\u0080": 5, "\u00f6": 6}
    order = list(json.loads(canonical_json(obj)))
    assert order == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]
    assert canonical_json({"b": [1, 2.5, None, True], "a": "x\ny"}) == b'{"a":"x\\ny","b":[1,2.5,null,true]}'
    for bad in (float("nan"), 2**60, {"k": "\ud800"}, object()):
        with pytest.raises(ValueError):
            canonical_json(bad)


@pytest.mark.parametrize(
    "raw", [b'{"a":1,"a":2}', b'{"a":NaN}', b'{"a":123456789012345678901}', b"\xff", b"[" * 5000 + b"]" * 5000]
)
def test_strict_loads_refuses(raw: bytes) -> None:
    with pytest.raises(ValueError):
        strict_loads(raw)


def test_result_signature_round_trip_and_forgeries() -> None:
    key, other = keys.generate(), keys.generate()
    record = {
        "request_id": "r-1",
        "decision": "no_match",
        "score": 0.41,
        "threshold": 0.5507,
        "finished_at": "2026-12-02T06:00:00.000Z",
        "reference_sha256": "ab" * 32,
        "message": {"id": "Maaf"},
    }
    raw = encode_signed(sign_payload(record, key))
    assert verify_payload(raw, [key.public_key()]) == record
    assert verify_payload(raw + b"\n", [other.public_key(), key.public_key()]) == record  # rotation: any key
    forged = json.loads(raw)
    forged["decision"] = "match"
    cases: dict[str, bytes] = {
        "changed field": encode_signed(forged),
        "other request id": raw.replace(b'"r-1"', b'"r-2"'),
        "re-encoded": json.dumps(json.loads(raw), indent=1).encode(),
        "duplicate key": raw[:-1] + b',"decision":"match"}',
        "unsigned": canonical_json(record),
        "signed by another key": encode_signed(sign_payload(record, other)),
        "signature field emptied": raw.replace(b'"signature":"', b'"signature":"x'),
    }
    for what, data in cases.items():
        with pytest.raises(SignatureError):
            verify_payload(data, [key.public_key()])
            pytest.fail(what)


def test_every_single_byte_change_is_rejected() -> None:
    key = keys.generate()
    raw = encode_signed(sign_payload({"request_id": "r-9", "decision": "match", "score": 0.8123, "x": [1e-7, 2]}, key))
    for i in range(len(raw)):
        for delta in (1, 32):
            data = bytearray(raw)
            data[i] = (data[i] + delta) % 256
            with pytest.raises(SignatureError):
                verify_payload(bytes(data), [key.public_key()])


def sign(cmd: dict[str, Any], key: Ed25519PrivateKey, **kw: Any) -> dict[str, Any]:
    return sign_command(cmd, key, **{"terminal_id": "t1", "name": "verify", **kw})


def test_command_envelope_binds_name_terminal_and_time() -> None:
    central, other = keys.generate(), keys.generate()
    trusted = [other.public_key(), central.public_key()]
    cmd = {"request_id": "v1", "deadline": 1}
    env = sign(cmd, central)
    assert open_command(env, trusted, terminal_id="t1", name="verify") == cmd
    now = time.time()
    refused = {
        "unsigned": cmd,
        "other key": sign(cmd, keys.generate()),
        "as ping": sign(cmd, central, name="ping"),
        "other terminal": sign(cmd, central, terminal_id="t2"),
        "expired": sign(cmd, central, now=now - 700),
        "from the future": sign(cmd, central, now=now + 3600),
        "valid too long": sign(cmd, central, ttl_s=10 * 86400),
        "payload swapped": {**env, "payload": sign({"request_id": "v2"}, central)["payload"]},
        "header swapped": {**env, "protected": sign(cmd, central, name="ping")["protected"]},
        "extra member": {**env, "header": {}},
        "not base64": {**env, "signature": env["signature"] + "="},
    }
    for what, body in refused.items():
        with pytest.raises(SignatureError):
            open_command(body, trusted, terminal_id="t1", name="verify")
            pytest.fail(what)


def test_alg_none_and_crit_are_refused() -> None:
    key = keys.generate()
    payload = keys.b64url(b"{}")
    for header in ({"alg": "none"}, {"alg": "HS256"}, {"alg": "EdDSA", "crit": ["x"], "x": 1}):
        protected = keys.b64url(canonical_json(header))
        sig = keys.b64url(key.sign(f"{protected}.{payload}".encode()))
        with pytest.raises(SignatureError):
            jws.verify(protected, payload, sig, [key.public_key()])
