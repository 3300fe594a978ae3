"""Reporting: the durable SQLite outbox and the MQTT client."""

# The config schema imports terminal.report.settings; loading terminal.config first means importing
# terminal.report.settings directly (settings -> config.base -> config -> schema -> settings) cannot cycle.
import terminal.config  # noqa: F401
