from __future__ import annotations

from datetime import UTC, datetime, timedelta

from agentgauge.models import ProviderSnapshot, Status, Window


def snap(pct: float, *, resets: datetime | None = None, status: Status = Status.OK) -> ProviderSnapshot:
    return ProviderSnapshot(
        provider="zai",
        account="default",
        name="z.ai",
        status=status,
        plan="Pro",
        windows=(Window(id="session", label="Session (5h)", used_pct=pct, resets_at=resets, window_seconds=18000),),
    )


T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def test_migrations_are_numbered_and_idempotent(store):
    assert store.migrate() >= 1
    assert store.migrate() >= 1  # nothing applied twice


def test_state_round_trip(store):
    s = snap(12.5, resets=T0 + timedelta(hours=2))
    store.save_state(s, next_allowed_at=123.0, failures=0)
    state = store.state("zai", "default")
    assert state.snapshot == s
    assert state.next_allowed_at == 123.0
    assert store.states()[("zai", "default")].snapshot == s
    store.save_state(
        s.model_copy(update={"status": Status.STALE}), next_allowed_at=200.0, failures=2, last_raw='{"x": 1}'
    )
    again = store.state("zai", "default")
    assert again.snapshot.status == Status.STALE and again.failures == 2 and again.last_raw == '{"x": 1}'


def test_claim_is_exclusive_until_the_gate_opens(store):
    assert store.claim("codex", "default", now=100.0, hold_until=150.0)
    assert not store.claim("codex", "default", now=120.0, hold_until=170.0)  # someone holds it
    assert store.claim("codex", "default", now=151.0, hold_until=200.0)
    assert store.claim("codex", "work", now=120.0, hold_until=170.0)  # other accounts are independent


def test_samples_written_on_change_plus_heartbeat(store):
    resets = T0 + timedelta(hours=5)
    assert store.record_samples(snap(10.0, resets=resets), T0, heartbeat_seconds=3600) == 1
    # unchanged within the heartbeat: nothing written
    assert store.record_samples(snap(10.0, resets=resets), T0 + timedelta(minutes=5), 3600) == 0
    # changed: written
    assert store.record_samples(snap(11.0, resets=resets), T0 + timedelta(minutes=10), 3600) == 1
    # unchanged but heartbeat elapsed: written
    assert store.record_samples(snap(11.0, resets=resets), T0 + timedelta(minutes=75), 3600) == 1
    rows = store.samples("zai", "default", "session", T0, T0 + timedelta(days=1))
    assert [r.used_pct for r in rows] == [10.0, 11.0, 11.0]
    assert rows[0].resets_at == int(resets.timestamp())
    assert store.series() == [("zai", "default", "session")]


def test_sample_history_survives_reopen(tmp_path):
    from agentgauge.store import open_store

    path = str(tmp_path / "db.sqlite")
    first = open_store(path, data_dir=tmp_path)
    first.record_samples(snap(5.0), T0, 3600)
    first.close()
    second = open_store(path, data_dir=tmp_path)
    # the cache of last samples is rebuilt from the database: no duplicate write
    assert second.record_samples(snap(5.0), T0 + timedelta(minutes=1), 3600) == 0
    assert len(second.samples("zai", "default", "session", T0, T0 + timedelta(hours=1))) == 1
    second.close()


def test_sqlite_uses_wal(tmp_path):
    from agentgauge.store import open_store

    s = open_store(str(tmp_path / "w.db"), data_dir=tmp_path)
    assert s.query("PRAGMA journal_mode")[0][0] == "wal"
    s.close()


def test_bad_database_urls_are_config_errors(tmp_path):
    import pytest

    from agentgauge.errors import ConfigError
    from agentgauge.store import open_store

    with pytest.raises(ConfigError):
        open_store("mysql://x", data_dir=tmp_path)
    with pytest.raises(ConfigError) as info:
        open_store("postgresql://nobody:hunter2secret@127.0.0.1:1/none", data_dir=tmp_path)
    assert "hunter2secret" not in info.value.message


# -- the public transaction API (the log index and reports use it) ------------------------------------


def test_transaction_translates_placeholders_and_keeps_literal_percent(store):
    with store.transaction() as tx:
        assert tx.dialect == store.dialect
        tx.executemany(
            "INSERT INTO log_prices (provider, model, source, rates) VALUES (?, ?, ?, ?)",
            [("p", "m-1", "s", None), ("p", "m-2", "s", "[1]")],
        )
        rows = tx.query(
            "SELECT model, '100%' FROM log_prices WHERE provider = ? AND model LIKE 'm-%' ORDER BY model", ("p",)
        )
        assert rows == [("m-1", "100%"), ("m-2", "100%")]
        assert tx.execute("SELECT COUNT(*) FROM log_prices WHERE rates LIKE '%1%'").fetchone()[0] == 1
    assert store.query("SELECT COUNT(*) FROM log_prices WHERE provider = ?", ("p",)) == [(2,)]


def test_transaction_rolls_back_on_error_and_nested_calls_join(store):
    import pytest

    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.execute("INSERT INTO log_prices (provider, model, source) VALUES (?, ?, ?)", ("p", "gone", "s"))
        raise RuntimeError("boom")
    assert store.query("SELECT COUNT(*) FROM log_prices") == [(0,)]
    with store.transaction() as outer:
        outer.execute("INSERT INTO log_prices (provider, model, source) VALUES (?, ?, ?)", ("p", "kept", "s"))
        with store.transaction(write=False) as inner:
            assert inner is outer  # one connection, so the inner block sees the outer's write
            assert inner.query("SELECT model FROM log_prices") == [("kept",)]
    assert store.query("SELECT model FROM log_prices") == [("kept",)]


def test_health_is_ok_on_a_working_database(store):
    health = store.health()
    assert health.status == "ok" and health.pending_writes == 0 and health.since is None
    assert health.to_json()["status"] == "ok"
    assert ("SQLite" if store.dialect == "sqlite" else "PostgreSQL") in health.database


def test_a_sample_already_written_elsewhere_is_not_written_twice(tmp_path):
    """A replayed write (or another process) may have landed the same sample already: no error, no duplicate."""
    from agentgauge.store import open_store

    path = str(tmp_path / "twice.db")
    first, second = open_store(path, data_dir=tmp_path), open_store(path, data_dir=tmp_path)
    later = T0 + timedelta(minutes=10)
    assert first.record_samples(snap(10.0), T0, 3600) == 1
    assert second.record_samples(snap(11.0), later, 3600) == 1
    assert first.record_samples(snap(11.0), later, 3600) == 0  # first's cache still says T0
    assert [r.used_pct for r in first.samples("zai", "default", "session", T0, later)] == [10.0, 11.0]
    assert first.rollups("zai", "default", "session", T0, later, "hourly") == [(int(T0.timestamp()), 11.0)]
    first.close()
    second.close()


def test_pending_writes_keep_the_newest_state_and_drop_oldest_samples_past_the_limit():
    from agentgauge.store.outage import PendingState, PendingWrites

    queue = PendingWrites(limit=3)
    applied: list[str] = []
    queue.add_state("zai", "a", PendingState("{}", 1.0, 0, None), lambda: applied.append("a1"))
    queue.add_samples(lambda: applied.append("s1"))
    queue.add_state("zai", "a", PendingState("{}", 2.0, 0, None), lambda: applied.append("a2"))
    queue.add_samples(lambda: applied.append("s2"))
    assert len(queue) == 3 and queue.dropped == 0  # the newer state replaced the older one
    queue.add_samples(lambda: applied.append("s3"))
    assert len(queue) == 3 and queue.dropped == 1  # the oldest sample went, the state stayed
    assert queue.states()[("zai", "a")].next_allowed_at == 2.0
    while (item := queue.first()) is not None:
        item[1]()
        queue.discard(item[0])
    assert applied == ["a2", "s2", "s3"]
