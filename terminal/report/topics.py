"""The topic tree of one terminal under its prefix (default ``terminal/<terminal_id>``)."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Request ids become topic levels (3.1.1 replies), so they must not contain '/', '+', '#'.
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


@dataclass(frozen=True)
class Topics:
    """Topic names for one terminal."""

    prefix: str

    @classmethod
    def for_terminal(cls, template: str, terminal_id: str) -> Topics:
        """Expand ``{terminal_id}`` in the configured prefix."""
        return cls(template.replace("{terminal_id}", terminal_id))

    @property
    def status(self) -> str:
        """Retained online/offline/stopped."""
        return f"{self.prefix}/status"

    @property
    def health(self) -> str:
        """Periodic health."""
        return f"{self.prefix}/health"

    @property
    def event(self) -> str:
        """Guidance and progress (QoS 0)."""
        return f"{self.prefix}/event"

    @property
    def result(self) -> str:
        """Results (QoS 1, through the outbox)."""
        return f"{self.prefix}/result"

    @property
    def commands(self) -> str:
        """Subscription filter for inbound commands."""
        return f"{self.prefix}/cmd/+"

    def sub(self, suffix: str) -> str:
        """``<prefix>/<suffix>``."""
        return f"{self.prefix}/{suffix}"

    def command_name(self, topic: str) -> str | None:
        """The command name of a ``<prefix>/cmd/<name>`` topic, else None."""
        head = f"{self.prefix}/cmd/"
        return topic[len(head) :] if topic.startswith(head) else None

    def reply(self, request_id: str | None) -> str:
        """Reply topic used when the command carried no MQTT 5 response topic (and under 3.1.1)."""
        rid = request_id if request_id and REQUEST_ID_RE.match(request_id) else "_invalid"
        return f"{self.prefix}/reply/{rid}"
