"""The MQTT password (env, systemd credential, file) and the TLS context for mqtts://."""

from __future__ import annotations

import logging
import os
import ssl
from pathlib import Path

from terminal.report.errors import CredentialError
from terminal.report.settings import MqttConfig

log = logging.getLogger(__name__)

PASSWORD_ENV = "TERMINAL_MQTT_PASSWORD"
CREDENTIAL_NAME = "mqtt_password"


def mqtt_password(cfg: MqttConfig) -> str | None:
    """The password: $TERMINAL_MQTT_PASSWORD, else mqtt.password_file, else $CREDENTIALS_DIRECTORY/mqtt_password."""
    env = os.environ.get(PASSWORD_ENV)
    if env:
        return env
    candidates: list[Path] = []
    if cfg.password_file is not None:
        candidates.append(cfg.password_file)
    cred_dir = os.environ.get("CREDENTIALS_DIRECTORY")
    if cred_dir:
        candidates.append(Path(cred_dir) / CREDENTIAL_NAME)
    for path in candidates:
        try:
            secret = path.read_text().rstrip("\r\n")
            if secret:
                return secret
            # install.sh creates an empty credential so that LoadCredential= does not fail before it is filled.
            log.warning("MQTT password file %s is empty: connecting without a password", path)
            continue
        except FileNotFoundError:
            if path == cfg.password_file:
                raise CredentialError(f"mqtt.password_file {path}: not found") from None
        except OSError as err:
            raise CredentialError(f"{path}: cannot read MQTT password: {err.strerror}") from None
    return None


def tls_context(cfg: MqttConfig) -> ssl.SSLContext:
    """A client TLS context: CA verification and hostname check on unless tls_insecure is set."""
    try:
        ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(cfg.ca_file) if cfg.ca_file else None)
        if cfg.client_cert and cfg.client_key:
            ctx.load_cert_chain(str(cfg.client_cert), str(cfg.client_key))
    except FileNotFoundError as err:
        raise CredentialError(f"TLS file not found: {err.filename}") from None
    except (ssl.SSLError, OSError) as err:
        raise CredentialError(f"cannot load TLS files (ca_file/client_cert/client_key): {err}") from None
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if cfg.tls_insecure:
        log.warning("mqtt.tls_insecure is on: the broker's certificate is NOT checked (never use in the field)")
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx
