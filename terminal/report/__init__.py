"""Reporting: the durable SQLite outbox and the MQTT client."""
