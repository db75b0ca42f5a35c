-- Browser extensions paired with this server (docs/extension.md). Each holds a token
-- ``agx_<id>_<secret>``: only the SHA-256 of the secret is kept, so the database never holds a
-- usable token. Revoking deletes the row, which takes effect on the extension's next request.
CREATE TABLE extension_tokens (
    id TEXT NOT NULL PRIMARY KEY,
    name TEXT NOT NULL,
    secret_sha256 TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER
);

-- One-time pairing codes shown by `agentgauge extension pair` or the dashboard: hashed, short-lived,
-- deleted when used; wrong guesses count against every open code (``attempts``).
CREATE TABLE extension_pairing (
    code_sha256 TEXT NOT NULL PRIMARY KEY,
    expires_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0
);
