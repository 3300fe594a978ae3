"""``terminal outbox ...`` and ``terminal monitor`` through the real CLI entry point."""

from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from terminal.cli.main import main
from terminal.report.link import MqttLink
from terminal.report.outbox import Outbox
from terminal.report.settings import MqttConfig


def config(tmp_path: Path) -> Path:
    p = tmp_path / "config.toml"
    p.write_text(f'[terminal]\nstate_dir = "{tmp_path}"\n[outbox]\nmax_rows = 10\n')
    return p


def test_outbox_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = config(tmp_path)
    ob = Outbox(tmp_path / "outbox.sqlite")
    ids = [ob.put(f"res-{i}", "result", {"decision": "match"}) for i in range(3)]
    ob.mark_failed(ids[0], "PUBACK 135 Not authorized", 3600)
    assert main(["outbox", "count", "--config", str(cfg)]) == 0
    assert "3 waiting" in capsys.readouterr().out
    assert main(["outbox", "list", "--config", str(cfg)]) == 0
    out = capsys.readouterr().out
    header, *rows = out.splitlines()
    assert header.split()[:6] == ["ROW", "QUEUED", "KIND", "RESULT_ID", "DECISION", "BYTES"] and len(rows) == 3
    assert "res-0" in rows[0] and "135 Not authorized" in rows[0] and "held" in rows[0]
    assert all(" match " in r for r in rows) and all("waiting" in r for r in rows[1:])
    assert all(re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}", r) for r in rows)  # the zone is shown
    assert main(["outbox", "list", "--json", "--config", str(cfg)]) == 0
    assert '"decision":"match"' in capsys.readouterr().out
    assert main(["outbox", "retry", "--config", str(cfg)]) == 0
    assert "1 result(s) released" in capsys.readouterr().out and ob.alarm() is None
    assert main(["outbox", "purge", str(ids[1]), "--config", str(cfg)]) == 2  # needs --yes: a usage error
    assert "--yes" in capsys.readouterr().err
    assert main(["outbox", "purge", str(ids[1]), "--yes", "--config", str(cfg)]) == 0
    assert [it.result_id for it in ob.list()] == ["res-0", "res-2"]
    assert main(["outbox", "purge", "--all", "--yes", "--config", str(cfg)]) == 0
    capsys.readouterr()
    assert main(["outbox", "list", "--config", str(cfg)]) == 0
    assert capsys.readouterr().out.startswith("outbox is empty")


@pytest.mark.broker
def test_monitor_prints_status_and_results(
    mosquitto_factory: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broker = mosquitto_factory()
    cfg = config(tmp_path)
    rc: list[int] = []
    t = threading.Thread(
        target=lambda: rc.append(
            main(["monitor", "--broker", broker.url, "--count", "3", "--seconds", "20", "--config", str(cfg)])
        )
    )
    t.start()
    link = MqttLink(MqttConfig(brokers=[broker.url], health_interval_s=3600), "shop-7", Outbox(tmp_path / "o.sqlite"))
    link.start()
    out = ""
    try:
        # the result is not retained: publish it only once the monitor has printed the (retained) ONLINE status,
        # i.e. once its subscription is live
        end = time.monotonic() + 15
        while "ONLINE" not in out and t.is_alive() and time.monotonic() < end:
            time.sleep(0.02)
            out += capsys.readouterr().out
        assert "shop-7" in out and "ONLINE" in out, f"the monitor never printed the ONLINE status: {out!r}"
        link.publish_result({"result_id": "r-42", "decision": "match", "score": 0.91})
        t.join(20)
    finally:
        link.stop()
    out += capsys.readouterr().out
    assert rc == [0]
    assert "shop-7" in out and "ONLINE" in out and "r-42 decision=match score=0.91" in out


def test_monitor_masks_a_start_requests_number() -> None:
    from terminal.cli.monitor import _fmt, shown

    nik = "3201015507890001"
    body = {
        "request_id": "k-" + "a" * 32,
        "terminal_id": "shop-7",
        "ts": "2026-01-01T00:00:00.000+00:00",
        "kind": "nik",
        "number": nik,
        "timeout_s": 30.0,
    }
    line = _fmt("terminal/shop-7/request", json.dumps(body).encode(), False)
    assert nik not in line
    assert line.split() == ["shop-7", "request", "k-" + "a" * 32, "kind=nik", "number=" + "*" * 16, "timeout_s=30.0"]
    as_json = json.dumps(shown("terminal/shop-7/request", body))  # what --json prints as the payload
    assert nik not in as_json and '"number": "****************"' in as_json
    assert shown("terminal/shop-7/result", {"number": 3})["number"] == 3  # only a request's number is masked
