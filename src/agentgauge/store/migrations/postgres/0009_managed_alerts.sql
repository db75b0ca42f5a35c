-- Alert rules and delivery targets managed from the dashboard (docs/alerts.md, docs/users.md). The
-- config file's [alerts] is never rewritten; these rows come after it and never share a name with it.
-- kind is 'rule' or 'target'. A rule's settings is a JSON object of its [[alerts.rules]] keys
-- (checked by the same code as the config file). A target's holds only its type and its address reduced
-- to scheme and host: the URL, webhook and signing secret are in the encrypted secret store.
CREATE TABLE managed_alerts (
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    settings TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT,
    PRIMARY KEY (kind, name)
);

-- One row, counted up in the same transaction as every change above: the alert chores of every
-- replica compare it at the start of each pass and read the rows again only when it moved.
CREATE TABLE managed_alerts_version (
    id INTEGER NOT NULL PRIMARY KEY,
    version BIGINT NOT NULL
);
INSERT INTO managed_alerts_version (id, version) VALUES (1, 0);
