-- The reset-cycle ledger: one row per window cycle (from one reset to the next), kept up to date as
-- samples arrive, so "how did each cycle end" survives the pruning of raw samples.
CREATE TABLE cycles (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    series_id INTEGER NOT NULL REFERENCES series(id),
    started_at INTEGER NOT NULL,
    resets_at INTEGER NOT NULL,
    first_ts INTEGER NOT NULL,
    last_ts INTEGER NOT NULL,
    first_pct REAL NOT NULL,
    last_pct REAL NOT NULL,
    peak_pct REAL NOT NULL,
    hit_100_at INTEGER,
    blocked_seconds INTEGER NOT NULL DEFAULT 0,
    samples INTEGER NOT NULL DEFAULT 0,
    closed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX cycles_by_series ON cycles (series_id, resets_at);

-- Every forecast made, so its accuracy can be measured against how the cycle really ended.
CREATE TABLE forecasts (
    series_id INTEGER NOT NULL REFERENCES series(id),
    made_at INTEGER NOT NULL,
    resets_at INTEGER NOT NULL,
    used_pct REAL NOT NULL,
    p10 REAL,
    p50 REAL,
    p90 REAL,
    runs_out_at INTEGER,
    verdict TEXT NOT NULL,
    model TEXT NOT NULL,
    PRIMARY KEY (series_id, made_at)
) WITHOUT ROWID;
