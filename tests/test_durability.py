"""The database survives a kill at any moment: SIGKILL a process mid-write, reopen, check."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

WRITER = r"""
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from agentgauge.models import ProviderSnapshot, Status, Window
from agentgauge.store import open_store

store = open_store(sys.argv[1], data_dir=Path(sys.argv[1]).parent)
t0 = datetime(2026, 1, 1, tzinfo=UTC)
i = 0
print("ready", flush=True)
while True:
    w = Window(id="session", label="Session (5h)", used_pct=float(i % 100), resets_at=t0 + timedelta(hours=5))
    snap = ProviderSnapshot(provider="zai", account="default", name="z.ai", status=Status.OK, windows=(w,),
                            fetched_at=t0 + timedelta(minutes=i), last_success_at=t0 + timedelta(minutes=i))
    store.save_state(snap, next_allowed_at=float(i), failures=0)
    store.record_samples(snap, t0 + timedelta(minutes=i), 3600)
    i += 1
    print(i, flush=True)
"""


def test_sigkill_mid_write_leaves_a_consistent_database(tmp_path: Path):
    db = tmp_path / "kill.db"
    for round_ in range(3):
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(db)], stdout=subprocess.PIPE, text=True, env={**os.environ}
        )
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        # Killed after a different number of writes each round, while the next one is under way.
        target = 40 + 60 * round_
        while int(proc.stdout.readline()) < target:
            pass
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        conn = sqlite3.connect(db)
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        samples = conn.execute("SELECT COUNT(*) FROM samples").fetchone()[0]
        hourly = conn.execute("SELECT COUNT(*) FROM samples_hourly").fetchone()[0]
        conn.close()
        assert samples > 0 and hourly > 0
        # the store reopens and the latest state reads back whole
        from agentgauge.store import open_store

        store = open_store(str(db), data_dir=tmp_path)
        state = store.state("zai", "default")
        assert state is not None and state.snapshot is not None and state.snapshot.windows
        # every sample's rollup was written in the same transaction as the sample
        rows = store.query(
            "SELECT COUNT(*) FROM samples s WHERE NOT EXISTS (SELECT 1 FROM samples_hourly h "
            "WHERE h.series_id = s.series_id AND h.bucket = s.ts - s.ts % 3600)"
        )
        assert rows[0][0] == 0
        store.close()
