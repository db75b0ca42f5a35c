"""The hub's parts on a real store (SQLite and PostgreSQL): machine tokens kept as digests, account
fingerprints, the rules a push is applied by (sequence numbers, newest wins, a failure from another
machine ignored), the sweep that marks quiet accounts stale, and the machine's outbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agentgauge.config import Config
from agentgauge.errors import ConfigError
from agentgauge.hub import machines, outbox, receive
from agentgauge.hub.fingerprint import fingerprint, hub_salt, identity, well_formed
from agentgauge.hub.loop import Backoff
from agentgauge.hub.push import hub_url, pushable
from agentgauge.models import ErrorInfo, ErrorKind, ProviderSnapshot, Status, Window
from agentgauge.query import Query
from agentgauge.store import Store
from agentgauge.web.hub import STALE_AFTER, overdue

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
CONFIG = Config(path=None, accounts=(), env={}, home=Path("/nonexistent"))
FP_A = "fp1:" + "a" * 32


def snap(at: datetime, pct: float, *, account: str = "default", status: Status = Status.OK) -> ProviderSnapshot:
    ok = status == Status.OK
    return ProviderSnapshot(
        provider="zai",
        account=account,
        name="z.ai",
        status=status,
        source="api_key",
        source_label="API key",
        windows=(Window(id="session", label="Session (5h)", used_pct=pct, resets_at=at + timedelta(hours=3)),),
        fetched_at=at,
        last_success_at=at if ok else at - timedelta(minutes=5),
        error=None if ok else ErrorInfo(kind=ErrorKind.NETWORK, message="z.ai: unreachable", hint="retry"),
    )


def item(seq: int, shown: ProviderSnapshot, fp: str | None = FP_A) -> receive.Item:
    return receive.Item(seq, shown.provider, shown.account, fp, shown.model_dump(mode="json"))


# -- machine tokens --------------------------------------------------------------------------------


def test_a_machine_token_is_shown_once_and_kept_as_a_digest(store: Store) -> None:
    token, added = machines.add(store, "laptop", T0)
    assert token.startswith(f"agh_{added.id}_")
    secret = token.split("_", 2)[2]
    rows = store.query("SELECT * FROM hub_machines")
    assert secret not in repr(rows) and token not in repr(rows)
    assert machines.verify(store, token, T0) == machines.Machine(added.id, "laptop", T0, T0, None)
    assert machines.verify(store, token[:-1] + ("x" if token[-1] != "x" else "y"), T0) is None
    assert machines.verify(store, f"agh_{added.id}_", T0) is None
    assert machines.verify(store, "agx_" + token[4:], T0) is None  # an extension token is another kind
    with pytest.raises(ConfigError, match="already exists"):
        machines.add(store, "laptop", T0)
    with pytest.raises(ConfigError, match="not a usable machine name"):
        machines.add(store, "lap top", T0)
    gone = machines.revoke(store, "laptop", T0 + timedelta(hours=1))
    assert gone.revoked_at == T0 + timedelta(hours=1)
    refused = machines.verify(store, token, T0 + timedelta(hours=1))
    assert refused is not None and not refused.active  # the right secret of a revoked machine: refused, no guess
    assert machines.verify(store, token[:-1] + ("x" if token[-1] != "x" else "y"), T0 + timedelta(hours=1)) is None
    with pytest.raises(ConfigError, match="no machine is named"):
        machines.revoke(store, "nobody", T0)


# -- fingerprints ----------------------------------------------------------------------------------


def test_fingerprints_name_people_or_keys_never_a_shared_organization(store: Store) -> None:
    salt = hub_salt(store)
    assert hub_salt(store) == salt and len(salt) == 64  # made once, the same for every replica
    person = identity("oauth", {"access_token": "t1"}, {"email": "Ann@Example.com", "account_id": "ws-1"})
    assert person == ("id", "email=ann@example.com\naccount_id=ws-1")
    # A rotated token does not change who it is; another workspace of the same person does.
    assert identity("oauth", {"access_token": "t2"}, {"email": "ann@example.com", "account_id": "ws-1"}) == person
    assert identity("oauth", {}, {"email": "ann@example.com", "account_id": "ws-2"}) != person
    assert identity("cookie", {"session_key": "s"}, {"org_id": "org-1"}) is None  # an organization alone
    assert identity("api_key", {"api_key": "k1"}, {"url": "https://x"}) == ("key", "api_key=k1")
    assert identity("cli", {"cli": "/usr/bin/claude"}, {}) is None  # a program's path names nobody
    one = fingerprint(salt, "zai", "key", "api_key=k1")
    assert well_formed(one) and "k1" not in one
    assert one == fingerprint(salt, "zai", "key", "api_key=k1")
    assert one != fingerprint("00" * 32, "zai", "key", "api_key=k1")  # another hub, another hash
    assert one != fingerprint(salt, "openrouter", "key", "api_key=k1")
    assert not well_formed("fp1:" + "A" * 32) and not well_formed("k1")


# -- applying pushes -------------------------------------------------------------------------------


def test_a_batch_applies_once_and_the_newest_data_wins(store: Store) -> None:
    _, laptop = machines.add(store, "laptop", T0)
    _, desktop = machines.add(store, "desktop", T0)
    got = receive.receive(store, CONFIG, laptop, "streamlaptop1", [item(1, snap(T0, 10.0))], T0)
    assert (got.accepted, got.duplicates, got.last_seq) == (1, 0, 1)
    (shown,) = got.changed
    assert (shown.account, shown.machine, shown.seen_from, shown.source) == (
        "default~aaaaaaaa",
        "laptop",
        ("laptop",),
        "hub",
    )
    # The same batch again (its answer was lost): nothing applied twice.
    again = receive.receive(store, CONFIG, laptop, "streamlaptop1", [item(1, snap(T0, 10.0))], T0)
    assert (again.accepted, again.duplicates, again.last_seq, again.changed) == (0, 1, 1, [])
    # The desktop pushes the same account with older data: it joins seen_from, the data stays.
    older = receive.receive(
        store, CONFIG, desktop, "streamdesk001", [item(1, snap(T0 - timedelta(minutes=1), 90.0))], T0
    )
    (merged,) = older.changed
    assert (
        merged.machine == "laptop" and merged.seen_from == ("desktop", "laptop") and merged.windows[0].used_pct == 10.0
    )
    # Then newer data: it wins, with its machine.
    newer = receive.receive(
        store,
        CONFIG,
        desktop,
        "streamdesk001",
        [item(2, snap(T0 + timedelta(minutes=5), 20.0))],
        T0 + timedelta(minutes=5),
    )
    assert newer.changed[0].machine == "desktop" and newer.changed[0].windows[0].used_pct == 20.0
    # A failure the laptop reports does not hide the desktop's good data...
    failing = snap(T0 + timedelta(minutes=6), 0.0, status=Status.STALE)
    assert (
        receive.receive(store, CONFIG, laptop, "streamlaptop1", [item(2, failing)], T0 + timedelta(minutes=6)).changed
        == []
    )
    # ...but one from the desktop, whose data it is, shows.
    desk_fail = receive.receive(store, CONFIG, desktop, "streamdesk001", [item(3, failing)], T0 + timedelta(minutes=6))
    assert desk_fail.changed[0].status == Status.STALE and desk_fail.changed[0].machine == "desktop"
    # History: one sample per newest push, none from the older one.
    samples = store.samples("zai", "default~aaaaaaaa", "session", T0 - timedelta(hours=1), T0 + timedelta(hours=1))
    assert [(s.ts, s.used_pct) for s in samples] == [
        (int(T0.timestamp()), 10.0),
        (int((T0 + timedelta(minutes=5)).timestamp()), 20.0),
    ]
    # Every surface reads it through the query layer, with its machine.
    rows = Query(CONFIG, store, lambda: T0 + timedelta(minutes=6)).usage().providers
    assert [(p.account, p.machine) for p in rows if p.machine] == [("default~aaaaaaaa", "desktop")]


def test_accounts_without_a_fingerprint_stay_per_machine_and_bad_items_are_refused(store: Store) -> None:
    _, laptop = machines.add(store, "laptop", T0)
    good = snap(T0, 5.0, account="work")
    future = snap(T0 + timedelta(hours=1), 5.0, account="later")
    unknown = receive.Item(3, "no-such-provider", "default", None, {"provider": "no-such-provider"})
    lying = receive.Item(4, "zai", "other", None, good.model_dump(mode="json"))
    got = receive.receive(
        store, CONFIG, laptop, "streamlaptop1", [item(1, good, None), item(2, future, None), unknown, lying], T0
    )
    assert got.accepted == 1 and got.last_seq == 4  # refused items are acknowledged: never sent again
    assert [r["seq"] for r in got.rejected] == [2, 3, 4]
    assert "future" in got.rejected[0]["reason"] and "does not know provider" in got.rejected[1]["reason"]
    assert got.changed[0].account == "work@laptop"


def test_a_batch_outside_the_protocol_is_refused_whole() -> None:
    for body, message in [
        ([], "JSON object"),
        ({"stream": "short", "items": []}, "stream"),
        ({"stream": "streamlaptop1", "items": [{"seq": 0}]}, "seq"),
        (
            {
                "stream": "streamlaptop1",
                "items": [{"seq": 1, "provider": "zai", "account": "a", "snapshot": {}, "fingerprint": "x"}],
            },
            "fingerprint",
        ),
        (
            {"stream": "streamlaptop1", "items": [{"seq": 1, "provider": "zai", "account": "a", "snapshot": {}}] * 2},
            "repeat",
        ),
    ]:
        with pytest.raises(receive.BatchRejected, match=message):
            receive.parse_batch(body)
    stream, items = receive.parse_batch(
        {
            "stream": "streamlaptop1",
            "items": [{"seq": s, "provider": "zai", "account": "a", "snapshot": {}} for s in (3, 1)],
        }
    )
    assert stream == "streamlaptop1" and [i.seq for i in items] == [1, 3]


def test_an_account_no_machine_pushes_any_more_goes_stale_saying_which(store: Store) -> None:
    _, laptop = machines.add(store, "laptop", T0)
    receive.receive(store, CONFIG, laptop, "streamlaptop1", [item(1, snap(T0, 10.0))], T0)
    assert overdue(store, T0 + STALE_AFTER - timedelta(seconds=1)) == []
    (stale,) = overdue(store, T0 + STALE_AFTER)
    assert stale.status == Status.STALE and stale.windows[0].used_pct == 10.0
    assert stale.error is not None and "laptop" in stale.error.message and "laptop" in stale.error.hint
    assert overdue(store, T0 + 2 * STALE_AFTER) == []  # said once
    fresh = receive.receive(
        store, CONFIG, laptop, "streamlaptop1", [item(2, snap(T0 + STALE_AFTER, 11.0))], T0 + STALE_AFTER
    )
    assert fresh.changed[0].status == Status.OK and fresh.changed[0].error is None


# -- the machine's side ----------------------------------------------------------------------------


def test_the_outbox_never_reuses_a_number_and_keeps_a_bounded_buffer(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    stream = outbox.stream_id(store)
    assert outbox.stream_id(store) == stream and stream.isalnum()
    assert outbox.enqueue(store, [snap(T0, 1.0), snap(T0, 2.0)], T0) == [1, 2]
    assert outbox.acknowledge(store, 2) == 2 and outbox.buffered(store) == 0
    assert outbox.enqueue(store, [snap(T0, 3.0)], T0) == [3]  # not 1 again, though the outbox was empty
    monkeypatch.setattr(outbox, "MAX_BUFFERED", 3)
    outbox.enqueue(store, [snap(T0, float(p)) for p in range(4, 8)], T0)
    assert [q.seq for q in outbox.pending(store, 10)] == [5, 6, 7]  # the oldest went first
    assert outbox.pending(store, 1)[0].snapshot["windows"][0]["used_pct"] == 5.0


def test_what_a_machine_pushes_and_how_it_waits(caplog: pytest.LogCaptureFixture) -> None:
    assert pushable(snap(T0, 1.0))
    assert not pushable(snap(T0, 1.0).model_copy(update={"machine": "elsewhere"}))  # never pushed on
    assert not pushable(ProviderSnapshot(provider="zai", name="z.ai", status=Status.UNCONFIGURED))
    assert hub_url("https://hub.example:8777/gauge/") == "https://hub.example:8777/gauge"
    for bad in ("ftp://hub", "https://user:pw@hub", "https://hub/?token=x", "hub.example"):
        with pytest.raises(ConfigError):
            hub_url(bad)
    with caplog.at_level("WARNING", logger="agentgauge.hub"):
        hub_url("http://127.0.0.1:8777")
        hub_url("https://hub.example")
        assert not caplog.records
        hub_url("http://hub.example:8777")  # the token would cross the network in clear: said in the log
    assert [r.getMessage().split(":")[0] for r in caplog.records] == ["pushing to hub.example over plain http"]
    backoff = Backoff(ceiling=8.0)
    delays = [backoff.next() for _ in range(6)]
    assert all(0.8 * low <= d <= low for d, low in zip(delays, [1, 2, 4, 8, 8, 8], strict=True))
    assert backoff.next(retry_after=120.0) == 120.0  # the hub's Retry-After wins when longer
    backoff.reset()
    assert backoff.next() <= 1.0


def test_the_identity_is_read_from_the_credential_the_data_came_from() -> None:
    from agentgauge.credentials import Vault
    from agentgauge.hub.push import account_identity
    from tests.harness import account_config

    config = account_config("zai", {"api_key": "sim-zai-key.secret#who", "url": "http://127.0.0.1:9/zai"})
    vault = Vault(config)
    assert account_identity(vault, config, "zai", "default", "api_key") == ("key", "api_key=sim-zai-key.secret#who")
    for nameless in ("browser", "extension", "statusline", None):  # no profile is read for these
        assert account_identity(vault, config, "zai", "default", nameless) is None
    assert account_identity(vault, config, "zai", "other", "api_key") is None  # not configured here
    codex = account_config("codex", {"access_token": "t", "account_id": "ws-1"})
    assert account_identity(Vault(codex), codex, "codex", "default", "oauth") is None  # a workspace alone
