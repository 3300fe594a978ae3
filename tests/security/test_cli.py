"""``terminal keys``, ``sign-command`` and ``verify-result`` as an operator runs them (openssl-made keys too)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from terminal.cli.main import main
from terminal.security import keys
from terminal.security.envelope import encode_signed, open_command, sign_payload


def run(argv: list[str], stdin: bytes = b"", monkeypatch: pytest.MonkeyPatch | None = None) -> int:
    assert monkeypatch is not None
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
    return main(argv)


def openssl_key(tmp: Path, name: str) -> tuple[Path, Path]:
    priv, pub = tmp / f"{name}.pem", tmp / f"{name}.pub.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", str(priv)], check=True)
    subprocess.run(["openssl", "pkey", "-in", str(priv), "-pubout", "-out", str(pub)], check=True)
    return priv, pub


def test_keys_init_is_private_idempotent_and_show_prints_pem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[terminal]\nid = "shop-7"\nstate_dir = "{tmp_path / "state"}"\n')
    old = os.umask(0o022)
    try:
        assert main(["keys", "init", "--config", str(cfg)]) == 0
    finally:
        os.umask(old)
    key_file = tmp_path / "state" / "terminal_key.pem"
    assert key_file.stat().st_mode & 0o777 == 0o600
    first = key_file.read_bytes()
    assert main(["keys", "init", "--config", str(cfg)]) == 0 and key_file.read_bytes() == first  # never replaced
    capsys.readouterr()
    assert main(["keys", "show", "--json", "--config", str(cfg)]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["terminal_id"] == "shop-7" and shown["public_key_pem"].startswith("-----BEGIN PUBLIC KEY-----")
    pub = tmp_path / "t.pub"
    pub.write_text(shown["public_key_pem"])
    assert keys.thumbprint(keys.load_public(pub)) == shown["kid"]
    out = subprocess.run(
        ["openssl", "pkey", "-pubin", "-in", str(pub), "-noout", "-text"], capture_output=True, text=True, check=True
    ).stdout
    assert "ED25519" in out.upper()
    # a systemd credential wins over the state dir
    creds = tmp_path / "creds"
    creds.mkdir()
    keys.write_private(creds / "terminal_key", keys.generate())
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    assert main(["keys", "show", "--json", "--config", str(cfg)]) == 0
    assert json.loads(capsys.readouterr().out)["key_file"] == str(creds / "terminal_key")


def test_non_ed25519_and_garbage_keys_are_one_line_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rsa = tmp_path / "rsa.pem"
    subprocess.run(
        ["openssl", "genpkey", "-algorithm", "rsa", "-pkeyopt", "rsa_keygen_bits:1024", "-out", str(rsa)],
        check=True,
        capture_output=True,
    )
    junk = tmp_path / "junk.pem"
    junk.write_text("hello")
    for f in (rsa, junk, tmp_path / "missing.pem"):
        assert main(["keys", "show", "--key", str(f)]) == 78
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and str(f) in err


def test_sign_command_and_verify_result_with_openssl_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    central_priv, central_pub = openssl_key(tmp_path, "central")
    cmd = {"request_id": "v-1", "deadline": "2030-01-01T00:00:00Z"}
    assert (
        run(
            ["sign-command", "--key", str(central_priv), "--terminal", "shop-7", "--command", "verify"],
            json.dumps(cmd).encode(),
            monkeypatch,
        )
        == 0
    )
    env = json.loads(capsys.readouterr().out)
    assert open_command(env, [keys.load_public(central_pub)], terminal_id="shop-7", name="verify") == cmd
    assert (
        run(
            ["sign-command", "--key", str(central_priv), "--terminal", "shop-7", "--command", "verify"],
            b'{"a":1,"a":2}',
            monkeypatch,
        )
        == 78
    )

    term_priv, term_pub = openssl_key(tmp_path, "terminal")
    raw = encode_signed(
        sign_payload({"request_id": "v-1", "terminal_id": "shop-7", "decision": "match"}, keys.load_private(term_priv))
    )
    ok: list[Any] = [
        ["--key", f"shop-7={term_pub}"],
        ["--key", f"shop-8={central_pub}", "--key", f"shop-7={term_pub}"],
        ["--key", str(term_pub), "--request-id", "v-1", "--terminal", "shop-7"],
    ]
    for extra in ok:
        assert run(["verify-result", *extra], raw, monkeypatch) == 0, extra
    bad: list[Any] = [
        (["--key", f"shop-7={central_pub}"], raw),
        (["--key", f"shop-7={term_pub}", "--request-id", "v-2"], raw),
        (["--key", f"shop-7={term_pub}"], raw.replace(b"match", b"mAtch")),
        (["--key", f"shop-7={term_pub}"], b""),
        (["--key", str(term_pub)], raw),
    ]
    for extra, data in bad:
        assert run(["verify-result", *extra], data, monkeypatch) == 1, extra
    assert "INVALID" in capsys.readouterr().err


def test_a_technician_shell_finds_the_installed_credential(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without $CREDENTIALS_DIRECTORY (a shell, not the service) ``keys show`` reads install.sh's key."""
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    installed = tmp_path / "etc" / "terminal_key"
    key = keys.generate()
    keys.write_private(installed, key)
    monkeypatch.setattr(keys, "INSTALLED_KEY", installed)
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[terminal]\nid = "shop-7"\nstate_dir = "{tmp_path / "state"}"\n')
    assert main(["keys", "init", "--config", str(cfg)]) == 0 and "exists" in capsys.readouterr().out
    assert main(["keys", "show", "--json", "--config", str(cfg)]) == 0
    assert json.loads(capsys.readouterr().out)["kid"] == keys.thumbprint(key.public_key())
    assert not (tmp_path / "state").exists()


@pytest.mark.parametrize(
    ("terminal", "command"), [("shop-7\n", "verify"), ("shop-7", "verify\n"), ("shop 7", "verify"), ("shop-7", "Ping")]
)
def test_sign_command_refuses_bad_names_in_one_line_naming_itself(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, terminal: str, command: str
) -> None:
    """A name with a trailing newline is not a name; the error line says `terminal sign-command`, not `verify`."""
    central_priv, _ = openssl_key(tmp_path, "central")
    argv = ["sign-command", "--key", str(central_priv), "--terminal", terminal, "--command", command]
    assert run(argv, b'{"request_id": "v-1"}', monkeypatch) == 78
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("terminal sign-command: error:"), err
