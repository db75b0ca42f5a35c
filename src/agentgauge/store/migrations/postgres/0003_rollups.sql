-- Hourly and daily rollups of window samples: long history ranges read these, so a 30-day chart
-- costs about what a 3-hour one does, and raw samples can be pruned after a retention period.
CREATE TABLE samples_hourly (
    series_id BIGINT NOT NULL REFERENCES series(id),
    bucket BIGINT NOT NULL,
    max_pct DOUBLE PRECISION NOT NULL,
    last_pct DOUBLE PRECISION NOT NULL,
    last_ts BIGINT NOT NULL,
    PRIMARY KEY (series_id, bucket)
);

CREATE TABLE samples_daily (
    series_id BIGINT NOT NULL REFERENCES series(id),
    bucket BIGINT NOT NULL,
    max_pct DOUBLE PRECISION NOT NULL,
    last_pct DOUBLE PRECISION NOT NULL,
    last_ts BIGINT NOT NULL,
    PRIMARY KEY (series_id, bucket)
);
