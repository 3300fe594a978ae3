"""Ed25519 keys: create (0600), load (PEM: PKCS#8 private / SubjectPublicKeyInfo public), thumbprint (RFC 7638).

The terminal's own key signs its results; the central system's public keys verify its commands. PEM is what
``openssl genpkey -algorithm ed25519`` writes and ``openssl pkey -pubout`` derives, so operators can make
and inspect keys with the tools they have.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from terminal.security.errors import KeyError_

KEY_MODE = 0o600
CREDENTIAL_NAME = "terminal_key"  # systemd: LoadCredential=terminal_key:/etc/terminal/credentials/terminal_key
DEFAULT_NAME = "terminal_key.pem"
INSTALLED_KEY = Path("/etc/terminal/credentials/terminal_key")  # firmware/install.sh; LoadCredential= source
MAX_PEM_BYTES = 16384


def b64url(data: bytes) -> str:
    """base64url without padding (RFC 7515 section 2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def generate() -> Ed25519PrivateKey:
    """A new random Ed25519 private key."""
    return Ed25519PrivateKey.generate()


def private_pem(key: Ed25519PrivateKey) -> bytes:
    """PKCS#8 PEM, unencrypted (the file mode and the systemd credential store protect it)."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def public_pem(key: Ed25519PublicKey) -> str:
    """SubjectPublicKeyInfo PEM."""
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def thumbprint(key: Ed25519PublicKey) -> str:
    """RFC 7638 JWK thumbprint (SHA-256, base64url): the ``kid`` of every signature this key makes."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    jwk = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": b64url(raw)}, separators=(",", ":"), sort_keys=True)
    return b64url(hashlib.sha256(jwk.encode()).digest())


def _read(path: Path, what: str) -> bytes:
    try:
        with Path(path).open("rb") as fh:
            data = fh.read(MAX_PEM_BYTES + 1)
    except FileNotFoundError:
        raise KeyError_(f"{what} {path}: not found") from None
    except OSError as err:
        raise KeyError_(f"{what} {path}: cannot read: {err.strerror or err}") from None
    if len(data) > MAX_PEM_BYTES:
        raise KeyError_(f"{what} {path}: larger than {MAX_PEM_BYTES} bytes, not a key")
    return data


def load_private(path: Path) -> Ed25519PrivateKey:
    """An Ed25519 private key from PEM (PKCS#8); KeyError_ names the file and the problem."""
    data = _read(path, "private key")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as err:
        raise KeyError_(f"private key {path}: not an unencrypted PEM private key ({err})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyError_(
            f"private key {path}: a {type(key).__name__}, not Ed25519 "
            "(make one with: openssl genpkey -algorithm ed25519)"
        )
    return key


def load_public(path: Path) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM (SubjectPublicKeyInfo); a private key file is accepted too."""
    data = _read(path, "public key")
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        try:
            return load_private(path).public_key()
        except KeyError_:
            raise KeyError_(f"public key {path}: not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise KeyError_(f"public key {path}: a {type(key).__name__}, not Ed25519")
    return key


def write_private(path: Path, key: Ed25519PrivateKey) -> None:
    """Write ``key`` owner-only (0600) without ever being readable by others, fsynced; never overwrites."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, KEY_MODE)
        try:
            os.write(fd, private_pem(key))
            os.fchmod(fd, KEY_MODE)  # O_CREAT's mode is filtered by the umask; fchmod is not
            os.fsync(fd)
        finally:
            os.close(fd)
        os.link(tmp, path)  # fails if the key appeared meanwhile: a key is never replaced by accident
    except FileExistsError:
        raise KeyError_(f"{path}: exists; a terminal key is never overwritten (remove it first to rotate)") from None
    except OSError as err:
        raise KeyError_(f"{path}: cannot write the key: {err.strerror or err}") from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def _present(path: Path) -> bool:
    try:
        return path.is_file()
    except PermissionError:
        return True  # there, but root-only: reading it says "permission denied", which is the useful answer


def terminal_key_path(state_dir: Path, configured: Path | None = None) -> Path:
    """Where the terminal's key is: $CREDENTIALS_DIRECTORY/terminal_key (the service), else [security] key_file,
    else the installed credential /etc/terminal/credentials/terminal_key (a technician's shell), else state dir."""
    cred_dir = os.environ.get("CREDENTIALS_DIRECTORY")
    if cred_dir and (Path(cred_dir) / CREDENTIAL_NAME).is_file():
        return Path(cred_dir) / CREDENTIAL_NAME
    if configured is not None:
        return Path(configured)
    if _present(INSTALLED_KEY):
        return INSTALLED_KEY
    return Path(state_dir) / DEFAULT_NAME
