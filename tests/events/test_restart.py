"""``listrak-sync serve`` as a real process: killed with SIGKILL after its 2xx answers, nothing is
lost; stopped with SIGTERM, it shuts down cleanly."""

from __future__ import annotations

import signal
from pathlib import Path

from tests.conftest import Emulator

from .conftest import (
    FIELD_TIER,
    LIST_A,
    Serve,
    field_values,
    free_port,
    seed_lists,
    serve_config,
    track,
    wait_for,
)


def test_sigkill_after_2xx_loses_nothing(
    emulator: Emulator, tmp_path: Path, processes: list[Serve]
) -> None:
    emails = seed_lists(emulator, contacts=40)
    config = serve_config(tmp_path, emulator)
    port = free_port()
    # Listrak is down: everything accepted stays queued.
    emulator.admin.add_fault(path="/Contact/SegmentationField", error_rate=1.0, error_status=503)
    first = Serve(config, port, tmp_path / "serve.log")
    processes.append(first)
    for start in range(0, 40, 10):
        batch = [track(e, "Tier Changed", tier="kept") for e in emails[start : start + 10]]
        assert first.post("/v1/batch", {"batch": batch}).status_code == 200
    first.process.send_signal(signal.SIGKILL)
    first.process.wait(timeout=30)
    emulator.admin.clear_faults()
    assert all(FIELD_TIER not in v for v in field_values(emulator, LIST_A, [FIELD_TIER]).values())
    second = Serve(config, port, tmp_path / "serve.log")
    processes.append(second)

    def delivered() -> bool:
        values = field_values(emulator, LIST_A, [FIELD_TIER])
        return all(values[e].get(FIELD_TIER) == "kept" for e in emails)

    wait_for(delivered, timeout=60, what="every accepted event after the restart")


def test_sigterm_shuts_down_cleanly(
    emulator: Emulator, tmp_path: Path, processes: list[Serve]
) -> None:
    emails = seed_lists(emulator, contacts=5)
    config = serve_config(tmp_path, emulator)
    serve = Serve(config, free_port(), tmp_path / "serve.log")
    processes.append(serve)
    batch = [track(e, "Tier Changed", tier="term") for e in emails]
    assert serve.post("/v1/batch", {"batch": batch}).status_code == 200
    serve.process.send_signal(signal.SIGTERM)
    assert serve.process.wait(timeout=60) == 0
    log = serve.log.read_text()
    assert '"event service stopped"' in log
    assert "Traceback" not in log
    # Whatever was not delivered before the signal is still queued for the next start.
    import sqlite3

    with sqlite3.connect(tmp_path / "state" / "events.sqlite") as db:
        queued = {row[0] for row in db.execute("SELECT email FROM updates")}
    values = field_values(emulator, LIST_A, [FIELD_TIER])
    done = {e for e in emails if values[e].get(FIELD_TIER) == "term"}
    assert done | queued == set(emails)
