-- Multi-user mode (auth = "users", docs/users.md): people who sign in, their sessions, API keys, the
-- one-time setup code that creates the first admin, and the provider accounts managed from the dashboard.

-- Login names are kept lower-cased; passwords only as argon2id hashes (PHC strings).
CREATE TABLE users (
    id TEXT NOT NULL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    password_changed_at INTEGER NOT NULL
);

-- A signed-in browser: only the SHA-256 of the cookie's secret is kept. Deleting a row signs it out.
CREATE TABLE user_sessions (
    id_sha256 TEXT NOT NULL PRIMARY KEY,
    user_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX user_sessions_by_user ON user_sessions (user_id);

-- API keys ``agk_<id>_<secret>``: the id is the lookup prefix, only the secret's SHA-256 is kept.
-- ``scope`` is 'read' or 'write' today; other kinds of token (an extension's, a machine's) can become
-- scopes of this table. ``user_id`` is the owner (NULL: made with the CLI for no one in particular).
CREATE TABLE api_keys (
    id TEXT NOT NULL PRIMARY KEY,
    name TEXT NOT NULL,
    secret_sha256 TEXT NOT NULL,
    scope TEXT NOT NULL,
    user_id TEXT,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at INTEGER
);
CREATE INDEX api_keys_by_user ON api_keys (user_id);

-- The one-time code a first start prints while no user exists (hashed; the latest printed one works).
CREATE TABLE setup_codes (
    code_sha256 TEXT NOT NULL PRIMARY KEY,
    expires_at INTEGER NOT NULL
);

-- Provider accounts added or changed from the dashboard. Secrets are not here: they go to the
-- encrypted secret store the CLI's `agentgauge auth set` writes. ``settings`` is a JSON object of
-- non-secret settings; ``enabled`` and ``refresh_interval`` (NULL: as configured) also apply to
-- accounts of the config file, which is never rewritten. ``added`` is 1 for accounts created here.
CREATE TABLE managed_accounts (
    provider TEXT NOT NULL,
    account TEXT NOT NULL,
    settings TEXT NOT NULL,
    enabled INTEGER,
    refresh_interval REAL,
    added INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    updated_by TEXT,
    PRIMARY KEY (provider, account)
);
