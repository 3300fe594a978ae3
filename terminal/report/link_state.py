"""What the link reports about itself: its real state (up, down, stalled, dead) and the health message body."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from terminal.stamps import utc_iso

if TYPE_CHECKING:
    from terminal.report.link import MqttLink
    from terminal.report.link_supervisor import LinkSupervisor

log = logging.getLogger(__name__)

STALL_S = 15.0  # the supervisor loop turns every 0.1 s; silent this long, it is stuck (and reported so)


def link_state(link: MqttLink, now: float | None = None) -> dict[str, Any]:
    """``state`` (up, down, stalled, dead, disabled), broker, seconds down, thread restarts."""
    now = time.monotonic() if now is None else now
    thread = link._thread
    if not link.cfg.enabled:
        name = "disabled"
    elif thread is None or not thread.is_alive():
        name = "dead"
    elif now - link._beat > STALL_S:
        name = "stalled"
    else:
        name = "up" if link.connected else "down"
    since = link._down_since
    return {
        "state": name,
        "broker": str(link.broker) if link.broker else None,
        "down_for_s": None if name == "up" or since is None else round(now - since, 1),
        "restarts": link.stats["restarts"],
    }


def health_body(link: MqttLink, health: dict[str, Any] | None) -> dict[str, Any]:
    """The health message: the daemon's fields, the outbox's state and alarms, the link's counters."""
    out = link.outbox.stats()
    if out["alarm"] != link._last_alarm:
        if out["alarm"]:
            log.warning(
                "outbox alarm %s: %d results waiting (%d bytes), policy %s",
                out["alarm"],
                out["depth"],
                out["bytes"],
                out["policy"],
            )
        link._last_alarm = out["alarm"]
    fields = dict(health or {})
    alarms = [a for a in fields.pop("alarms", []) if isinstance(a, str)]
    if out["alarm"]:
        alarms.append(out["alarm"])
    return {
        "terminal_id": link.terminal_id,
        "ts": utc_iso(),
        "version": link.version,
        **fields,
        "outbox": out,
        "alarms": alarms,
        "link": {
            "broker": str(link.broker) if link.broker else None,
            "protocol": link.cfg.protocol,
            **link.stats,
            "state": link_state(link)["state"],
        },
    }


def log_flapping(link: LinkSupervisor, url: object) -> None:
    """The broker dropped the session right after connecting three times in a row: name the likely cause."""
    # Mosquitto closes the session when it refuses a publish: an ACL that does not match our topics looks like
    # an endless reconnect loop, with no PUBACK refusal ever seen.
    log.error(
        "broker %s drops the session right after connecting (3 times in a row): check that its ACL lets "
        "user %r publish to %s/# and the credentials; 'terminal diagnose' tests it",
        url,
        link.cfg.username,
        link.topics.prefix,
        extra={"journal": {"RESULT": "mqtt_flapping", "REASON": "MQTT_ACL"}},
    )
