-- Incremental index of agents' local JSONL logs (agentgauge cost).
-- One row per log file: its identity, the size/mtime seen and how far it has been read, so a rerun
-- reads only new bytes; state carries a reader's running context (Codex: previous cumulative total).
-- session and project are per file (Claude: from the path; Codex: the first session_meta), so the
-- entries need not repeat them.
CREATE TABLE log_files (
    id BIGSERIAL PRIMARY KEY,
    agent TEXT NOT NULL,
    path TEXT NOT NULL UNIQUE,
    dev BIGINT NOT NULL DEFAULT 0,
    ino BIGINT NOT NULL DEFAULT 0,
    size BIGINT NOT NULL DEFAULT 0,
    mtime_ns BIGINT NOT NULL DEFAULT 0,
    read_offset BIGINT NOT NULL DEFAULT 0,
    sig TEXT,
    state TEXT,
    malformed INTEGER NOT NULL DEFAULT 0,
    session TEXT NOT NULL DEFAULT '',
    project TEXT NOT NULL DEFAULT '',
    updated_at DOUBLE PRECISION NOT NULL
);

-- Deduplicated usage entries: one row per API call (Claude: message.id; Codex: the
-- thread's cumulative total), kept to integers and short strings because a cold index writes
-- one per call; the session and project are the file's (file_id). Token columns follow ccusage:
-- input = non-cached input, cache_write includes cache_write_1h, output includes reasoning.
CREATE TABLE log_entries (
    agent TEXT NOT NULL,
    key BIGINT NOT NULL,
    ts BIGINT NOT NULL,
    model TEXT NOT NULL,
    input BIGINT NOT NULL,
    output BIGINT NOT NULL,
    cache_write BIGINT NOT NULL,
    cache_write_1h BIGINT NOT NULL,
    cache_read BIGINT NOT NULL,
    reasoning BIGINT NOT NULL,
    sidechain SMALLINT NOT NULL,
    long_ctx SMALLINT NOT NULL,
    file_id BIGINT NOT NULL
);
-- A unique index rather than a primary key: a first build of a large history drops it, appends
-- the rows in arrival order and builds it once at the end (all in one transaction).
-- Key first: its values are nearly all distinct, so index comparisons are settled on one integer
-- (SQLite builds it about twice as fast as with the agent first).
CREATE UNIQUE INDEX log_entries_key ON log_entries (key, agent);

-- Per-model token prices resolved from genai-prices (plus our own gap table), cached so a warm
-- report never imports the price database. rates is JSON; NULL means the model is unknown.
CREATE TABLE log_prices (
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    source TEXT NOT NULL,
    rates TEXT,
    PRIMARY KEY (provider, model)
);

-- log_entries summed per agent, UTC quarter hour (every zone's offset is a multiple of 15 min, so
-- any --timezone buckets exactly), model and long-context flag, kept in step by the indexer so
-- reports and the dashboard sum a few thousand rows instead of every entry.
CREATE TABLE log_usage (
    agent TEXT NOT NULL,
    quarter BIGINT NOT NULL,
    model TEXT NOT NULL,
    long_ctx SMALLINT NOT NULL,
    entries BIGINT NOT NULL,
    input BIGINT NOT NULL,
    output BIGINT NOT NULL,
    cache_write BIGINT NOT NULL,
    cache_write_1h BIGINT NOT NULL,
    cache_read BIGINT NOT NULL,
    reasoning BIGINT NOT NULL,
    PRIMARY KEY (agent, quarter, model, long_ctx)
);
