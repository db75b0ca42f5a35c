-- Alerts (agentgauge.alerts): each rule's state per provider, account and subject (a window, or ''
-- for the account or the provider), so a restart never fires twice; ``version`` makes each change a
-- compare-and-set, so two processes on one database fire a transition once.
CREATE TABLE alert_state (
    rule TEXT NOT NULL,
    provider TEXT NOT NULL,
    account TEXT NOT NULL,
    subject TEXT NOT NULL,
    state TEXT NOT NULL,
    version INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (rule, provider, account, subject)
) WITHOUT ROWID;

-- Every alert that fired (delivered, held for quiet hours, or suppressed by a cooldown).
CREATE TABLE alert_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at INTEGER NOT NULL,
    rule TEXT NOT NULL,
    event TEXT NOT NULL,
    severity TEXT NOT NULL,
    provider TEXT NOT NULL,
    account TEXT NOT NULL,
    subject TEXT NOT NULL,
    title TEXT NOT NULL,
    message TEXT NOT NULL,
    data TEXT NOT NULL,
    status TEXT NOT NULL
);
CREATE INDEX alert_events_by_time ON alert_events (created_at);

-- One row per event and target: tried until sent or out of attempts, with back-off.
CREATE TABLE alert_deliveries (
    event_id INTEGER NOT NULL REFERENCES alert_events(id) ON DELETE CASCADE,
    target TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_try_at INTEGER NOT NULL,
    last_error TEXT,
    sent_at INTEGER,
    PRIMARY KEY (event_id, target)
);
CREATE INDEX alert_deliveries_due ON alert_deliveries (status, next_try_at);

-- The open incident (if any) on each provider's status page, as the server last read it.
CREATE TABLE provider_incidents (
    provider TEXT NOT NULL PRIMARY KEY,
    incident_id TEXT,
    incident TEXT,
    checked_at INTEGER NOT NULL
);
