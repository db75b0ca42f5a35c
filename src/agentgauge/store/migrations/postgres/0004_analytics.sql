-- The reset-cycle ledger: one row per window cycle (from one reset to the next), kept up to date as
-- samples arrive, so "how did each cycle end" survives the pruning of raw samples.
CREATE TABLE cycles (
    id BIGSERIAL PRIMARY KEY,
    series_id BIGINT NOT NULL REFERENCES series(id),
    started_at BIGINT NOT NULL,
    resets_at BIGINT NOT NULL,
    first_ts BIGINT NOT NULL,
    last_ts BIGINT NOT NULL,
    first_pct DOUBLE PRECISION NOT NULL,
    last_pct DOUBLE PRECISION NOT NULL,
    peak_pct DOUBLE PRECISION NOT NULL,
    hit_100_at BIGINT,
    blocked_seconds BIGINT NOT NULL DEFAULT 0,
    samples INTEGER NOT NULL DEFAULT 0,
    closed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX cycles_by_series ON cycles (series_id, resets_at);

-- Every forecast made, so its accuracy can be measured against how the cycle really ended.
CREATE TABLE forecasts (
    series_id BIGINT NOT NULL REFERENCES series(id),
    made_at BIGINT NOT NULL,
    resets_at BIGINT NOT NULL,
    used_pct DOUBLE PRECISION NOT NULL,
    p10 DOUBLE PRECISION,
    p50 DOUBLE PRECISION,
    p90 DOUBLE PRECISION,
    runs_out_at BIGINT,
    verdict TEXT NOT NULL,
    model TEXT NOT NULL,
    PRIMARY KEY (series_id, made_at)
);
