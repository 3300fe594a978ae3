"""Broker URLs: ``mqtt://host[:port]`` (plain) and ``mqtts://host[:port]`` (TLS)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}


@dataclass(frozen=True)
class BrokerUrl:
    """One parsed broker address."""

    scheme: str
    host: str
    port: int

    @property
    def tls(self) -> bool:
        """True for mqtts://."""
        return self.scheme == "mqtts"

    def __str__(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"


def parse_broker_url(url: str) -> BrokerUrl:
    """Parse and check a broker URL; ValueError says what is wrong."""
    parts = urlsplit(url)
    if parts.scheme not in DEFAULT_PORTS:
        raise ValueError(f"{url!r}: scheme must be mqtt:// or mqtts://")
    if parts.username or parts.password:
        # Credentials in URLs end up in logs; they belong in username / the credential file.
        raise ValueError(f"{url!r}: put the user in mqtt.username and the password in a credential, not in the URL")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"{url!r}: no path, query or fragment allowed")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"{url!r}: bad port") from None
    if not parts.hostname:
        raise ValueError(f"{url!r}: missing host")
    return BrokerUrl(parts.scheme, parts.hostname, port or DEFAULT_PORTS[parts.scheme])
