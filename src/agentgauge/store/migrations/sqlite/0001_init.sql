-- Latest state per account: the snapshot every surface shows, plus the polite-polling gate.
CREATE TABLE account_state (
    provider TEXT NOT NULL,
    account TEXT NOT NULL,
    snapshot TEXT,
    next_allowed_at REAL NOT NULL DEFAULT 0,
    failures INTEGER NOT NULL DEFAULT 0,
    last_raw TEXT,
    updated_at REAL NOT NULL,
    PRIMARY KEY (provider, account)
);

-- One series per (provider, account, window); samples are written on change plus a heartbeat.
CREATE TABLE series (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    provider TEXT NOT NULL,
    account TEXT NOT NULL,
    window_id TEXT NOT NULL,
    UNIQUE (provider, account, window_id)
);

CREATE TABLE samples (
    series_id INTEGER NOT NULL REFERENCES series(id),
    ts INTEGER NOT NULL,
    used_pct REAL NOT NULL,
    resets_at INTEGER,
    used REAL,
    lim REAL,
    PRIMARY KEY (series_id, ts)
) WITHOUT ROWID;
