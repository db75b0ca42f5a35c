"""Alert rules on a real store (SQLite and PostgreSQL): only state changes fire, the first observation
is a baseline, cooldowns and quiet hours hold on a fake clock, and the state survives restarts."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from agentgauge.alert_settings import AlertSettings, Rule, TargetSpec, parse_alerts, parse_quiet_hours
from agentgauge.alerts import AlertService, recent
from agentgauge.alerts.ledger import put_state
from agentgauge.config import load
from agentgauge.errors import ConfigError
from agentgauge.incidents import Opened
from agentgauge.models import Incident, Status, evolve
from tests.alerting import START, Clock, account, config_with, forecast, parse_error, window

HOOK = TargetSpec("hook", webhook="http://127.0.0.1:9/hook")


def service(store, clock, *rules: Rule, **settings) -> AlertService:  # type: ignore[no-untyped-def]
    alerts = AlertSettings(rules=rules or AlertSettings.rules, targets=settings.pop("targets", (HOOK,)), **settings)
    return AlertService(config_with(alerts=alerts), store, clock)


def events(store) -> list[dict]:  # type: ignore[no-untyped-def]
    return list(reversed(recent(store, 100)))


def fired(store) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return [(e["event"], e["subject"]) for e in events(store)]


# -- configuration ------------------------------------------------------------------------------
def test_config_file_rules_targets_and_environment(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        """
[alerts]
timezone = "Europe/Berlin"
quiet_hours = "22:00-07:00"
[[alerts.rules]]
kind = "threshold"
thresholds = [95, 50]
providers = ["claude"]
windows = ["weekly*"]
targets = ["phone"]
cooldown_minutes = 0
[[alerts.rules]]
kind = "stale"
after_minutes = 45
quiet_hours = ""
[[alerts.targets]]
name = "phone"
url = "ntfy://ntfy.sh/agentgauge-abc"
[[alerts.targets]]
name = "hook"
webhook = "https://hooks.example.com/agentgauge"
secret = "$env:HOOK_SECRET"
""",
        encoding="utf-8",
    )
    config = load(path, env={"AGENTGAUGE_ALERTS": "json://127.0.0.1:9/a  json://127.0.0.1:9/b"})
    alerts = config.alerts
    threshold, stale = alerts.rules
    assert threshold.thresholds == (50.0, 95.0) and threshold.windows == ("weekly*",)
    assert alerts.cooldown(threshold) == 0 and alerts.cooldown(stale) == 30 * 60  # the kind's default
    assert str(alerts.quiet(threshold)) == "22:00-07:00" and alerts.quiet(stale) is None
    assert [t.name for t in alerts.targets] == ["phone", "hook", "env", "env2"]
    assert [t.name for t in alerts.targets_of(threshold)] == ["phone"]
    assert "ntfy.sh" not in repr(alerts) and "HOOK_SECRET" not in repr(alerts)  # addresses never in a repr
    assert config.status_pages.enabled  # a loaded config checks status pages unless told not to
    assert not load(path, env={"AGENTGAUGE_ALERTS": "off", "AGENTGAUGE_STATUS_PAGES": "off"}).alerts.enabled


def test_no_alerts_table_means_the_default_rules_and_no_target() -> None:
    config = load(None, env={})
    assert [r.kind for r in config.alerts.rules] == [
        "threshold",
        "depleted",
        "restored",
        "forecast",
        "stale",
        "drift",
        "incident",
        "budget",
    ]
    assert config.alerts.rules[0].thresholds == (80.0, 95.0) and config.alerts.targets == ()


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"rules": [{"kind": "loud"}]}, "kind must be one of"),
        ({"rules": [{"kind": "threshold", "thresholds": [120]}]}, "between 1 and 100"),
        ({"rules": [{"kind": "stale", "windows": ["x"]}]}, "'windows' applies to window rules"),
        ({"rules": [{"kind": "threshold", "targets": ["nope"]}]}, "unknown target(s) nope"),
        ({"rules": [{"kind": "threshold", "providers": ["claud"]}]}, "unknown provider(s) claud"),
        ({"rules": [{"kind": "threshold"}, {"kind": "threshold"}]}, "is defined twice"),
        ({"targets": [{"name": "x", "url": "ntfy://a", "webhook": "https://b"}]}, "exactly one of"),
        ({"targets": [{"name": "x", "webhook": "ftp://b"}]}, "http:// or https://"),
        ({"targets": [{"name": "x", "url": "ntfy://a", "secret": "s"}]}, "'secret' signs webhook bodies"),
        ({"quiet_hours": "late"}, "must look like"),
        ({"timezone": "Mars/Base"}, "not a time zone name"),
        ({"loudness": 3}, "unknown key(s) loudness"),
    ],
)
def test_bad_alert_settings_are_refused_at_load(table: dict, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_alerts(table, None, ["claude", "zai"])
    assert message in caught.value.message


def test_quiet_hours_parse_and_wrap() -> None:
    quiet = parse_quiet_hours("22:30-06:00", "x")
    assert quiet is not None and (quiet.start.hour, quiet.end.hour) == (22, 6)
    assert parse_quiet_hours("", "x") is None


# -- the rules ----------------------------------------------------------------------------------
def test_thresholds_fire_once_per_crossing_with_hysteresis_and_new_cycles(store) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    alerts = service(store, clock, Rule("threshold", "threshold"))
    resets = START + timedelta(days=3)
    seen = [
        (70, resets),  # baseline: nothing
        (82, resets),  # 80 crossed
        (85, resets),  # still above: nothing
        (99, resets),  # 95 crossed
        (92, resets),  # a small correction keeps 95 armed off
        (96, resets),  # nothing: 95 already fired this cycle
        (50, resets),  # far below: re-armed quietly
        (97, resets),  # both crossed at once: one alert, for 95
    ]
    for used, at in seen:
        alerts.evaluate(account(window(used=used, resets_at=at)))
        clock.advance(600)
    assert [(e["event"], e["title"].split(" at ")[1]) for e in events(store)] == [
        ("threshold", "82 %"),
        ("threshold", "99 %"),
        ("threshold", "97 %"),
    ]
    assert [e["severity"] for e in events(store)] == ["warning", "critical", "critical"]
    # The window resets: a new cycle crossing 80 fires again.
    clock.now = resets + timedelta(minutes=5)
    alerts.evaluate(account(window(used=2, resets_at=resets + timedelta(days=7)), at=clock.now))
    alerts.evaluate(account(window(used=81, resets_at=resets + timedelta(days=7)), at=clock.now))
    assert len(events(store)) == 4


def test_a_reset_time_that_creeps_forward_is_not_a_new_cycle(store) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    alerts = service(store, clock, Rule("threshold", "threshold"))
    for step in range(6):  # a rolling window: each answer names a reset a little later, usage stays high
        alerts.evaluate(account(window(used=85, resets_at=START + timedelta(hours=5, minutes=10 * step))))
        clock.advance(600)
    assert events(store) == []  # the baseline was 85: never a crossing, never a new cycle


def test_depleted_restored_and_reset(store) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    alerts = service(
        store,
        clock,
        Rule("depleted", "depleted"),
        Rule("restored", "restored"),
        Rule("reset", "reset", min_peak_pct=80),
    )
    resets = START + timedelta(hours=2)
    alerts.evaluate(account(window("session", 60, resets_at=resets)))
    alerts.evaluate(account(window("session", 100, resets_at=resets)))
    alerts.evaluate(account(window("session", 100, resets_at=resets)))
    clock.now = resets + timedelta(seconds=30)
    alerts.evaluate(account(window("session", 0, resets_at=resets + timedelta(hours=5)), at=clock.now))
    assert fired(store) == [("depleted", "session"), ("restored", "session"), ("reset", "session")]
    # A cycle that stayed low resets without a word (min_peak_pct 80).
    clock.now = resets + timedelta(hours=5, seconds=30)
    alerts.evaluate(account(window("session", 3, resets_at=resets + timedelta(hours=10)), at=clock.now))
    assert len(events(store)) == 3


def test_forecast_fires_once_per_risk_episode(store) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    alerts = service(store, clock, Rule("forecast", "forecast"))
    resets = START + timedelta(days=2)
    early = START + timedelta(days=1)

    def see(verdict: str, runs_out=None) -> None:  # type: ignore[no-untyped-def]
        alerts.evaluate(account(window(used=60, resets_at=resets, forecast=forecast(verdict, runs_out))))
        clock.advance(300)

    see("ok")
    see("will_run_out", early)  # fires
    see("will_run_out", early + timedelta(hours=1))  # same episode
    see("watch")  # neither closes nor fires
    see("learning")
    see("will_run_out", early)  # still the same episode
    see("ok")  # the episode ends
    see("will_run_out", resets - timedelta(minutes=5))  # only 5 min short of the reset: below min_lead
    see("will_run_out", early)  # a new episode
    assert fired(store) == [("forecast", "weekly"), ("forecast", "weekly")]


def test_stale_and_recovered_on_a_fake_clock_with_cooldown(store) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    alerts = service(store, clock, Rule("stale", "stale", after_minutes=30, cooldown_minutes=60))
    ok = account(window(used=10))
    failing = account(
        window(used=10), status=Status.STALE, failing_since=START, error=parse_error(), last_success_at=START
    )
    alerts.evaluate(ok)
    alerts.evaluate(failing)  # failing for 0 minutes
    clock.advance(29 * 60)
    alerts.evaluate(failing)
    assert events(store) == []
    clock.advance(60)  # 30 minutes without a success
    alerts.evaluate(failing)
    alerts.evaluate(failing)
    clock.advance(60)
    alerts.evaluate(ok)
    assert fired(store) == [("stale", ""), ("recovered", "")]
    # It fails again within the cooldown: recorded, but suppressed (nothing queued for the target).
    later = evolve(failing, failing_since=clock.now)
    alerts.evaluate(later)
    clock.advance(31 * 60)
    alerts.evaluate(later)
    stale_again = events(store)[-1]
    assert stale_again["event"] == "stale" and stale_again["status"] == "suppressed" and stale_again["deliveries"] == []
    # After the cooldown the same transition is delivered again.
    alerts.evaluate(ok)
    clock.advance(61 * 60)
    final = evolve(failing, failing_since=clock.now - timedelta(minutes=31))
    alerts.evaluate(final)
    assert events(store)[-1]["status"] == "queued" and [d["target"] for d in events(store)[-1]["deliveries"]] == [
        "hook"
    ]


def test_drift_fires_when_parts_stop_parsing(store) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    alerts = service(store, clock, Rule("drift", "drift"))
    alerts.evaluate(account(window(used=10)))
    alerts.evaluate(account(window(used=10), warnings=(parse_error(),)))
    alerts.evaluate(account(window(used=11), warnings=(parse_error(),)))
    alerts.evaluate(account(window(used=12)))
    assert fired(store) == [("drift", "")]
    assert "is not a number" in events(store)[0]["message"]


def test_incident_start_and_end(store) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    alerts = service(store, clock, Rule("incident", "incident"))
    outage = Opened("inc1", Incident(status="investigating", impact="major", title="Elevated errors", url=None))
    alerts.observe_incidents({"zai": None})  # baseline
    alerts.observe_incidents({"zai": outage})
    alerts.observe_incidents({"zai": outage})
    alerts.observe_incidents({"zai": None})
    assert fired(store) == [("incident_started", ""), ("incident_ended", "")]
    assert events(store)[0]["title"] == "z.ai status: Elevated errors"


def test_scopes_and_stale_accounts_do_not_fire_window_rules(store) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    rule = Rule("weekly-only", "threshold", providers=("zai",), windows=("week*",), thresholds=(50.0,))
    alerts = service(store, clock, rule)
    alerts.evaluate(account(window("weekly", 10), window("session", 10)))
    alerts.evaluate(account(window("weekly", 10), window("session", 90)))  # session is out of scope
    stale = account(window("weekly", 90), status=Status.STALE, failing_since=START)
    alerts.evaluate(stale)  # stale numbers neither fire nor re-arm
    alerts.evaluate(account(window("weekly", 60), provider="claude", name="Claude"))  # another provider
    assert events(store) == []
    alerts.evaluate(account(window("weekly", 60)))
    assert fired(store) == [("threshold", "weekly")]


def test_quiet_hours_hold_deliveries_until_they_end(store) -> None:  # type: ignore[no-untyped-def]
    clock = Clock(START.replace(hour=23))  # 23:00 UTC
    quiet = parse_quiet_hours("22:00-07:00", "x")
    alerts = service(store, clock, Rule("threshold", "threshold"), quiet_hours=quiet, timezone="UTC")
    alerts.evaluate(account(window(used=10)))
    alerts.evaluate(account(window(used=85)))
    (event,) = events(store)
    assert event["status"] == "held"
    due = store.query("SELECT next_try_at FROM alert_deliveries WHERE event_id = ?", (event["id"],))
    assert due == [(int((START + timedelta(days=1)).replace(hour=7).timestamp()),)]


def test_restart_never_fires_twice_and_two_servers_fire_once(store) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    first = service(store, clock)
    first.evaluate(account(window(used=10)))
    first.evaluate(account(window(used=90)))
    assert len(events(store)) == 1
    restarted = service(store, clock)  # a new process: state comes from the database
    restarted.evaluate(account(window(used=90)))
    restarted.evaluate(account(window(used=91)))
    assert len(events(store)) == 1
    restarted.evaluate(account(window(used=96)))
    service(store, clock).evaluate(account(window(used=96)))
    assert [e["title"].split(" at ")[1] for e in events(store)] == ["90 %", "96 %"]


def test_a_state_changed_meanwhile_by_another_process_is_not_overwritten(store) -> None:  # type: ignore[no-untyped-def]
    """Two servers on one database: each reads a rule's state, then writes it only if its version is
    unchanged, in the transaction that records the events; the slower one records nothing."""
    key = ("threshold", "zai", "default", "weekly")
    with store.transaction() as tx:
        assert put_state(tx, key, {"level": 0}, None, 1)
        assert not put_state(tx, key, {"level": 0}, None, 1)  # someone created it first
        ((version,),) = tx.query("SELECT version FROM alert_state")
    with store.transaction() as tx:
        assert put_state(tx, key, {"level": 80}, version, 2)  # the first server's crossing
    with store.transaction() as tx:
        assert not put_state(tx, key, {"level": 80}, version, 2)  # the second read the same old version
    assert store.query("SELECT state, version FROM alert_state") == [('{"level":80}', version + 1)]


def test_listener_keeps_the_latest_and_the_chore_evaluates_it(store) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    alerts = service(store, clock)
    alerts.observe(account(window(used=10)))
    alerts.run()  # baseline from the listener's snapshot, then the sweep of the (empty) stored states
    alerts.observe(account(window(used=50)))
    alerts.observe(account(window(used=85)))  # only the latest of one account is kept
    assert len(alerts.evaluate_pending()) == 1 and alerts.evaluate_pending() == []


def test_disabled_alerts_record_nothing(store) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    alerts = service(store, clock, enabled=False)
    alerts.observe(account(window(used=10)))
    alerts.evaluate(account(window(used=99)))
    alerts.run()
    assert events(store) == [] and store.query("SELECT COUNT(*) FROM alert_state") == [(0,)]
