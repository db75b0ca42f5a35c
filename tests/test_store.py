from __future__ import annotations

from datetime import UTC, datetime, timedelta

from agentgauge.models import ProviderSnapshot, Status, Window


def snap(pct: float, *, resets: datetime | None = None, status: Status = Status.OK) -> ProviderSnapshot:
    return ProviderSnapshot(provider="zai", account="default", name="z.ai", status=status, plan="Pro",
                            windows=(Window(id="session", label="Session (5h)", used_pct=pct, resets_at=resets,
                                            window_seconds=18000),))


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
    store.save_state(s.model_copy(update={"status": Status.STALE}), next_allowed_at=200.0, failures=2,
                     last_raw='{"x": 1}')
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
    assert s._rows("PRAGMA journal_mode")[0][0] == "wal"
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
