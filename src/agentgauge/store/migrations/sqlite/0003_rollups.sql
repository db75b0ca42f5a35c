-- Hourly and daily rollups of window samples: long history ranges read these, so a 30-day chart
-- costs about what a 3-hour one does, and raw samples can be pruned after a retention period.
CREATE TABLE samples_hourly (
    series_id INTEGER NOT NULL REFERENCES series(id),
    bucket INTEGER NOT NULL,
    max_pct REAL NOT NULL,
    last_pct REAL NOT NULL,
    last_ts INTEGER NOT NULL,
    PRIMARY KEY (series_id, bucket)
) WITHOUT ROWID;

CREATE TABLE samples_daily (
    series_id INTEGER NOT NULL REFERENCES series(id),
    bucket INTEGER NOT NULL,
    max_pct REAL NOT NULL,
    last_pct REAL NOT NULL,
    last_ts INTEGER NOT NULL,
    PRIMARY KEY (series_id, bucket)
) WITHOUT ROWID;
