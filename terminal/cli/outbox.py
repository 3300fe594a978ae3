"""``terminal outbox list|count|retry|purge``: inspect and repair the result outbox (field technicians)."""

from __future__ import annotations

import argparse
import logging
from datetime import UTC, datetime
from typing import Any

from terminal.cli.common import add_config_arg, config_from_args, print_json
from terminal.errors import UsageError
from terminal.report.outbox import Outbox, OutboxItem

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    """Add the ``outbox`` subcommand and its actions."""
    p = sub.add_parser("outbox", help="inspect, retry or purge results waiting for the broker")
    acts = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    ls = acts.add_parser("list", help="one line per waiting result (no payloads unless --json)")
    ls.add_argument("--json", action="store_true", help="JSON lines including the payload")
    ls.add_argument("--limit", type=int, default=None)
    acts.add_parser("count", help="number of waiting results, bytes, alarm")
    rt = acts.add_parser("retry", help="release results the broker refused, for sending now")
    rt.add_argument("ids", nargs="*", type=int, help="row ids (default: all held)")
    pg = acts.add_parser("purge", help="DELETE waiting results (they will never be delivered)")
    pg.add_argument("ids", nargs="*", type=int, help="row ids")
    pg.add_argument("--all", action="store_true", help="every waiting result")
    pg.add_argument("--older-than-days", type=float, default=None)
    pg.add_argument("--yes", action="store_true", help="required: confirms that these results are given up")
    for a in (ls, rt, pg, acts.choices["count"]):
        add_config_arg(a)
    p.set_defaults(func=run)


def _open(args: argparse.Namespace) -> Outbox:
    cfg = config_from_args(args)
    return Outbox.from_config(cfg.outbox, cfg.terminal.state_dir)


def _when(ts: float) -> str:
    """Local time with its UTC offset, so a technician can match it with the journal and the central log."""
    return datetime.fromtimestamp(ts, UTC).astimezone().strftime("%Y-%m-%d %H:%M:%S %z")


def _decision(item: OutboxItem) -> str:
    try:
        return str(item.payload_dict().get("decision") or "-")
    except ValueError:
        return "?"


def _shown(item: OutboxItem) -> dict[str, Any]:
    """The payload as a technician may see it: a member's NIK/KPJ in a start request is masked."""
    body = item.payload_dict()
    if item.topic_suffix == "request" and "number" in body:
        body["number"] = "*" * len(str(body["number"]))
    return body


LIST_HEADER = f"{'ROW':>7}  {'QUEUED':<25}  {'KIND':<8}  {'RESULT_ID':<36}  {'DECISION':<9}  {'BYTES':>6}  STATE"


def _list(items: list[OutboxItem], as_json: bool) -> None:
    """One line per waiting message under a header; the state says why a message is held."""
    if as_json:
        for it in items:
            print_json(
                {
                    "row_id": it.row_id,
                    "result_id": it.result_id,
                    "topic": it.topic_suffix,
                    "created": it.created,
                    "queued_at": _when(it.created),
                    "decision": _decision(it),
                    "attempts": it.attempts,
                    "last_error": it.last_error,
                    "payload": _shown(it),
                }
            )
        return
    if not items:
        print("outbox is empty: every result was delivered")
        return
    print(LIST_HEADER)
    for it in items:
        state = f"held after {it.attempts} refusal(s): {it.last_error}" if it.last_error else "waiting"
        print(
            f"{it.row_id:>7}  {_when(it.created):<25}  {it.topic_suffix:<8}  {it.result_id:<36}  "
            f"{_decision(it):<9}  {len(it.payload):>6}  {state}"
        )


def run(args: argparse.Namespace) -> int:
    """Carry out the chosen action."""
    with _open(args) as ob:
        if args.action == "count":
            s = ob.stats()
            print(
                f"{s['depth']} waiting, {s['bytes']} bytes (max {s['max_rows']} rows / {s['max_bytes']} bytes, "
                f"policy {s['policy']}), alarm: {s['alarm'] or 'none'}"
            )
        elif args.action == "list":
            _list(ob.list(args.limit), args.json)
        elif args.action == "retry":
            n = ob.retry(args.ids or None)
            print(f"{n} result(s) released for sending")
        else:
            if not (args.ids or args.all or args.older_than_days is not None):
                raise UsageError("purge: give row ids, --all or --older-than-days")
            if not args.yes:
                raise UsageError("purge deletes results that were never delivered; add --yes to confirm")
            gone = ob.purge(
                args.ids or None,
                all_rows=args.all,
                older_than_s=None if args.older_than_days is None else args.older_than_days * 86400,
            )
            print(f"purged {len(gone)} result(s)")
    return 0
