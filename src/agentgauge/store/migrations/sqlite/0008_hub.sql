-- The hub for many machines (docs/hub.md). A hub keeps its machines, the sequence numbers each
-- machine's pushes reached, what each machine pushed per account and the fingerprint -> account
-- map that merges one account seen from several machines. A machine that pushes keeps its own
-- outbox here until the hub has acknowledged it. One database may play both parts.

-- Machines allowed to push: each holds a token ``agh_<id>_<secret>``; only the SHA-256 of the
-- secret is kept. Revoking stamps ``revoked_at`` (the row stays: what the machine pushed keeps
-- its provenance) and refuses the token at once.
CREATE TABLE hub_machines (
    id TEXT NOT NULL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    secret_sha256 TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER,
    revoked_at INTEGER
);

-- The highest sequence number applied per machine and stream (one stream per pushing store), so a
-- batch sent again after a lost answer is recognised and applied once.
CREATE TABLE hub_streams (
    machine_id TEXT NOT NULL,
    stream TEXT NOT NULL,
    last_seq INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (machine_id, stream)
) WITHOUT ROWID;

-- What each machine last pushed for each of its accounts, and the hub account it is shown as.
CREATE TABLE hub_accounts (
    machine_id TEXT NOT NULL,
    provider TEXT NOT NULL,
    account TEXT NOT NULL,
    fingerprint TEXT,
    hub_account TEXT NOT NULL,
    status TEXT NOT NULL,
    fetched_at INTEGER,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (machine_id, provider, account)
) WITHOUT ROWID;
CREATE INDEX hub_accounts_by_hub_account ON hub_accounts (provider, hub_account);

-- One hub account per account fingerprint (a keyed hash, never the identity itself).
CREATE TABLE hub_fingerprints (
    provider TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    hub_account TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (provider, fingerprint),
    UNIQUE (provider, hub_account)
) WITHOUT ROWID;

-- Small named values: the hub's fingerprint salt.
CREATE TABLE hub_settings (
    name TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL
);

-- The pushing side: this store's stream id and the next sequence number (one row), and the
-- snapshots waiting for the hub to acknowledge them.
CREATE TABLE push_stream (
    id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    stream TEXT NOT NULL,
    next_seq INTEGER NOT NULL
);
CREATE TABLE push_outbox (
    seq INTEGER NOT NULL PRIMARY KEY,
    created_at INTEGER NOT NULL,
    body TEXT NOT NULL
);
