"""Forgery figures (issue 11): forged results rejected by ``terminal verify-result``, forged commands refused.

Results: N genuine signed records (the shape of a real result: nested quality/liveness/timings, Bahasa
Indonesia text, floats) and, for each, forgeries: single bytes changed at random positions (plus every position
of the first record), signed by another key, signed by another key under the genuine key id, the request id
changed, and the genuine payload replayed as the answer to another request (``--request-id``). Every variant
goes through ``terminal verify-result`` (its ``main``, in process; ``--subprocess K`` also runs K of them as
real processes). Commands: unsigned, wrongly signed and expired variants of all four commands through the
link's command processor with signing required (the code path of every MQTT command), plus genuine ones.

Run: .venv/bin/python bench/bench_forgery.py [--n 200] [--bytes 40] [--subprocess 30] [--seed 1] [--json]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from terminal.cli.main import build_parser
from terminal.errors import TerminalError
from terminal.matching.template import Template
from terminal.report.commands import CommandProcessor
from terminal.security import jws, keys
from terminal.security.canonical import canonical_json
from terminal.security.envelope import encode_signed, sign_command, sign_payload
from terminal.security.runtime import Security

REPO = Path(__file__).resolve().parents[1]
TID = "shop-7"


def record(i: int, rng: random.Random) -> dict[str, Any]:
    """A result record shaped like a real one."""
    score = round(rng.uniform(0.2, 0.95), 4)
    return {
        "schema": "terminal-verification-result",
        "schema_version": 1,
        "result_id": f"{rng.getrandbits(128):032x}"[:8] + "-0000-4000-8000-" + f"{i:012d}",
        "request_id": f"req-{i:06d}",
        "terminal_id": TID,
        "queued_at": "2026-12-02T07:00:00.123+00:00",
        "started_at": "2026-12-02T06:59:51.002Z",
        "finished_at": "2026-12-02T06:59:58.417Z",
        "decision": "match" if score >= 0.5507 else "no_match",
        "reason_code": None,
        "reason": None,
        "message": {
            "id": "Verifikasi berhasil. Terima kasih." if score >= 0.5507 else "Wajah tidak cocok.",
            "en": "Verified. Thank you.",
        },
        "score": score,
        "threshold": 0.5507,
        "models": {
            "embedder": {"name": "mobilefacenet_sirius_128d_fp16", "version": "1"},
            "landmarker": {"name": "face_landmarker", "version": "1"},
            "fusion": "mean",
        },
        "n_probe": 3,
        "n_reference": 2,
        "reference_sha256": f"{rng.getrandbits(256):064x}",
        "quality": {
            "frames": 180,
            "face_frames": 171,
            "passed_frames": 96,
            "counts": {"BLURRY": 12, "TOO_DARK": 40},
            "dominant": [{"code": "TOO_DARK", "share": 0.222}],
            "mean_quality": 0.7312,
            "best_quality": 1.0,
        },
        "guidance": [{"code": "MOVE_CLOSER", "t": 0.4}, {"code": "LOOK_STRAIGHT", "t": 2.125}],
        "liveness": {
            "enabled": True,
            "outcome": "passed",
            "reason": None,
            "duration_s": 2.31,
            "challenges": [{"kind": "blink", "outcome": "passed", "duration_s": 1.2}],
            "passive": None,
        },
        "light": {"duty": 0.62, "converged": True, "brightness": 131.5, "faults": []},
        "timings": {
            "first_face_s": 0.21,
            "light_converged_s": 0.9,
            "first_pass_s": 1.4,
            "liveness_s": 3.9,
            "decision_s": 7.415,
            "decision_after_face_s": 7.205,
        },
        "frames": 180,
    }


PARSER = build_parser()


def verify_result(data: bytes, pub: Path, *extra: str) -> int:
    """``terminal verify-result --key TID=pub [extra] < data`` in process (the CLI's parser and handler, as
    ``terminal.cli.main.main`` runs them, built once); its exit code."""
    old = sys.stdin
    sys.stdin = io.TextIOWrapper(io.BytesIO(data))
    try:
        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            args = PARSER.parse_args(["verify-result", "--key", f"{TID}={pub}", *extra])
            try:
                return int(args.func(args) or 0)
            except TerminalError as err:
                return err.exit_code
    finally:
        sys.stdin = old


def spoofed_kid(body: dict[str, Any], attacker: Any, genuine_kid: str) -> bytes:
    """Signed by the attacker's key under the genuine key id."""
    content = keys.b64url(canonical_json(body))
    protected = keys.b64url(canonical_json({"alg": "EdDSA", "kid": genuine_kid, "typ": "terminal-result+jws"}))
    sig = keys.b64url(attacker.sign(f"{protected}.{content}".encode()))
    return canonical_json({**body, "signature": f"{protected}..{sig}"})


def result_figures(n: int, per_result_bytes: int, rng: random.Random, pub: Path, key: Any) -> dict[str, Any]:
    attacker = keys.generate()
    kid = keys.thumbprint(key.public_key())
    counts: dict[str, list[int]] = {
        k: [0, 0]
        for k in (
            "genuine accepted",
            "one byte changed",
            "wrong key",
            "wrong key, genuine kid",
            "request id changed",
            "replayed for another request id",
        )
    }

    def rejected(what: str, data: bytes, *extra: str) -> None:
        counts[what][1] += 1
        counts[what][0] += verify_result(data, pub, *extra) != 0

    for i in range(n):
        body = record(i, rng)
        raw = encode_signed(sign_payload(body, key))
        counts["genuine accepted"][1] += 1
        counts["genuine accepted"][0] += verify_result(raw, pub, "--request-id", body["request_id"]) == 0
        positions = range(len(raw)) if i == 0 else [rng.randrange(len(raw)) for _ in range(per_result_bytes)]
        for pos in positions:
            b = bytearray(raw)
            b[pos] = (b[pos] + rng.randrange(1, 256)) % 256
            rejected("one byte changed", bytes(b))
        rejected("wrong key", encode_signed(sign_payload(body, attacker)))
        rejected("wrong key, genuine kid", spoofed_kid(body, attacker, kid))
        signed = json.loads(raw)
        signed["request_id"] = f"req-{i + n:06d}"
        rejected("request id changed", canonical_json(signed))
        rejected("replayed for another request id", raw, "--request-id", f"req-{i + n:06d}")
    return {
        k: {"rejected" if k != "genuine accepted" else "accepted": v[0], "of": v[1], "rate": round(v[0] / v[1], 6)}
        for k, v in counts.items()
    }


def command_figures(n: int, rng: random.Random) -> dict[str, Any]:
    central, other, attacker = keys.generate(), keys.generate(), keys.generate()
    sec = Security(TID, keys.generate(), [central.public_key(), other.public_key()], require_signed=True)
    proc = CommandProcessor(authenticate=sec.authenticate, require_deadline=False)
    ran: list[str] = []
    proc.handler = lambda name, payload, reply: (ran.append(payload["request_id"]), reply({"accepted": True}))
    tmpl = Template("m", "1", np.random.default_rng(0).normal(size=(2, 128)).astype(np.float32)).to_dict()
    now = time.time()
    seq = iter(range(10**9))

    def body(name: str) -> dict[str, Any]:
        rid = f"c-{next(seq):07d}"
        extra: dict[str, Any] = {
            "verify": {"template": tmpl, "deadline": now + 600},
            "cancel": {},
            "diagnose": {"checks": ["camera"]},
            "ping": {},
        }[name]
        return {"request_id": rid, **extra}

    def flip(env: dict[str, Any], field: str) -> dict[str, Any]:
        text = env[field]
        pos = rng.randrange(len(text))
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        return {**env, field: text[:pos] + rng.choice(alphabet.replace(text[pos], "")) + text[pos + 1 :]}

    variants: dict[str, str] = {}
    outcomes: dict[str, Counter[str]] = {}

    def send(kind: str, group: str, name: str, payload: dict[str, Any]) -> None:
        variants[kind] = group
        before = len(ran)
        code = proc.handle(name, json.dumps(payload).encode(), lambda _m: None)
        outcomes.setdefault(kind, Counter())["ran" if len(ran) > before else code] += 1

    for _ in range(n):
        for name in ("verify", "cancel", "diagnose", "ping"):
            send(
                "genuine (central key 1 or 2)",
                "genuine",
                name,
                sign_command(body(name), rng.choice([central, other]), terminal_id=TID, name=name),
            )
            send("unsigned", "unsigned", name, body(name))
            send(
                "signed by an unknown key",
                "wrongly signed",
                name,
                sign_command(body(name), attacker, terminal_id=TID, name=name),
            )
            good = sign_command(body(name), central, terminal_id=TID, name=name)
            for field in ("protected", "payload", "signature"):
                send(f"one {field} character changed", "wrongly signed", name, flip(good, field))
            send(
                "payload of another signed command",
                "wrongly signed",
                name,
                {**good, "payload": sign_command(body(name), central, terminal_id=TID, name=name)["payload"]},
            )
            target = rng.choice([t for t in ("verify", "cancel", "diagnose", "ping") if t != name])
            send(
                "signed for another command",
                "wrongly signed",
                target,
                sign_command(body(target), central, terminal_id=TID, name=name),
            )
            send(
                "signed for another terminal",
                "wrongly signed",
                name,
                sign_command(body(name), central, terminal_id="shop-8", name=name),
            )
            send(
                "expired (exp in the past)",
                "expired",
                name,
                sign_command(
                    body(name), central, terminal_id=TID, name=name, ttl_s=60, now=now - rng.uniform(61, 30 * 86400)
                ),
            )
            send(
                "issued in the future (beyond clock skew)",
                "expired",
                name,
                sign_command(body(name), central, terminal_id=TID, name=name, now=now + rng.uniform(400, 86400)),
            )
            send(
                "validity longer than 24 h",
                "expired",
                name,
                sign_command(body(name), central, terminal_id=TID, name=name, ttl_s=rng.uniform(86402, 365 * 86400)),
            )
    out: dict[str, Any] = {}
    for kind, c in outcomes.items():
        total = sum(c.values())
        # a genuine ping is answered by the processor itself ("OK"); everything else runs the handler
        ok = c["ran"] + c["OK"] if variants[kind] == "genuine" else total - c["ran"] - c["OK"]
        out[kind] = {
            "group": variants[kind],
            "of": total,
            ("accepted" if variants[kind] == "genuine" else "refused"): ok,
            "rate": round(ok / total, 6),
            "codes": dict(sorted(c.items())),
        }
    return out


def subprocess_check(k: int, rng: random.Random, pub: Path, key: Any) -> dict[str, int]:
    """K forged + K genuine payloads through the real ``terminal verify-result`` process."""
    exe = REPO / ".venv" / "bin" / "terminal"
    res = {"forged_rejected": 0, "genuine_accepted": 0, "of": k}
    for i in range(k):
        raw = encode_signed(sign_payload(record(i, rng), key))
        b = bytearray(raw)
        pos = rng.randrange(len(b))
        b[pos] ^= 1 << rng.randrange(8)
        for data, field, want in ((bytes(b), "forged_rejected", 1), (raw, "genuine_accepted", 0)):
            rc = subprocess.run(
                [str(exe), "verify-result", "--key", f"{TID}={pub}"], input=data, capture_output=True, timeout=60
            ).returncode
            res[field] += rc == want
    return res


def run(n: int, per_result_bytes: int, sub: int, seed: int) -> dict[str, Any]:
    """All figures as one dict."""
    rng = random.Random(seed)
    key = keys.generate()
    with tempfile.TemporaryDirectory() as d:
        pub = Path(d) / "terminal.pub.pem"
        pub.write_text(keys.public_pem(key.public_key()))
        t = time.perf_counter()
        results = result_figures(n, per_result_bytes, rng, pub, key)
        t_results = time.perf_counter() - t
        t = time.perf_counter()
        commands = command_figures(n, rng)
        t_commands = time.perf_counter() - t
        procs = subprocess_check(sub, rng, pub, key) if sub else None
    return {
        "n": n,
        "seed": seed,
        "results": results,
        "commands": commands,
        "subprocess": procs,
        "seconds": {"results": round(t_results, 1), "commands": round(t_commands, 1)},
        "jws_alg": jws.ALG,
        "pid": os.getpid(),
    }


def main_cli() -> int:
    """Parse arguments, print the tables (or one JSON line); exit 1 if any forgery passed."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--bytes", type=int, default=40, help="random single-byte changes per result")
    ap.add_argument("--subprocess", type=int, default=30)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    logging.disable(logging.CRITICAL)  # every refusal is logged: tens of thousands of lines
    fig = run(a.n, a.bytes, a.subprocess, a.seed)
    bad = [k for k, v in {**fig["results"], **fig["commands"]}.items() if v["rate"] != 1.0]
    if a.json:
        print(json.dumps(fig))
    else:
        print("| result variant | rejected (or accepted) | of | rate |\n|---|---|---|---|")
        for k, v in fig["results"].items():
            print(f"| {k} | {v.get('rejected', v.get('accepted'))} | {v['of']} | {v['rate']:.2%} |")
        print(
            "\n| command variant | group | refused (or accepted) | of | rate | reply codes |\n|---|---|---|---|---|---|"
        )
        for k, v in fig["commands"].items():
            codes = ", ".join(f"{c} {m}" for c, m in v["codes"].items())
            print(
                f"| {k} | {v['group']} | {v.get('refused', v.get('accepted'))} | {v['of']} | {v['rate']:.2%} | {codes} |"
            )
        print(f"\nsubprocess: {fig['subprocess']}  seconds: {fig['seconds']}")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main_cli())
