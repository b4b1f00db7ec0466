//! The schema, for both backends, in one list applied in order. SQLite
//! counts the applied ones in `PRAGMA user_version`, PostgreSQL in the
//! `payops_schema` table. Never edit a released entry: append a new one,
//! with its SQL for both backends side by side.
//!
//! The PostgreSQL text differs only where the dialects do: identity
//! columns, a `seq` column standing in for SQLite's `rowid` (insertion
//! order, which lists use to break ties), and times in the `C` collation so
//! that fixed-width UTC text sorts as time whatever the server's locale.

pub struct Migration {
    pub sqlite: &'static str,
    pub postgres: &'static str,
}

pub const MIGRATIONS: &[Migration] = &[
    // 1: initial schema.
    Migration {
        sqlite: "CREATE TABLE sessions (
            id                  TEXT PRIMARY KEY NOT NULL,
            provider            TEXT NOT NULL,
            external_ref        TEXT NOT NULL UNIQUE,
            reference           TEXT,
            status              TEXT NOT NULL,
            provider_status     TEXT NOT NULL DEFAULT '',
            url                 TEXT,
            flow                TEXT,
            redirect_url        TEXT,
            documents_requested TEXT NOT NULL DEFAULT '',
            documents_consented TEXT NOT NULL DEFAULT '',
            create_state        TEXT NOT NULL,
            create_message      TEXT,
            tracking            INTEGER NOT NULL DEFAULT 1,
            created_at          TEXT NOT NULL,
            updated_at          TEXT NOT NULL,
            expires_at          TEXT NOT NULL,
            last_polled_at      TEXT,
            last_error          TEXT
        );
        CREATE INDEX sessions_reference ON sessions (reference);
        CREATE INDEX sessions_created_at ON sessions (created_at);
        CREATE TABLE session_events (
            id              INTEGER PRIMARY KEY,
            session_id      TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
            at              TEXT NOT NULL,
            status          TEXT NOT NULL,
            provider_status TEXT NOT NULL
        );
        CREATE INDEX session_events_session ON session_events (session_id, id);
        CREATE TABLE notify_audit (
            id            INTEGER PRIMARY KEY,
            link_id       TEXT NOT NULL,
            actor         TEXT NOT NULL,
            at            TEXT NOT NULL,
            outcome       TEXT NOT NULL,
            message       TEXT NOT NULL DEFAULT '',
            provider_code TEXT,
            request_id    TEXT,
            completed     INTEGER NOT NULL DEFAULT 0,
            completed_at  TEXT
        );
        CREATE INDEX notify_audit_link ON notify_audit (link_id, at);
        CREATE TABLE balance_snapshots (
            id         INTEGER PRIMARY KEY,
            at         TEXT NOT NULL,
            account    TEXT NOT NULL,
            available  TEXT NOT NULL,
            total      TEXT NOT NULL,
            lien       TEXT NOT NULL,
            request_id TEXT
        );
        CREATE INDEX balance_snapshots_at ON balance_snapshots (at);",
        postgres: r#"CREATE TABLE sessions (
            id                  TEXT PRIMARY KEY NOT NULL,
            seq                 BIGSERIAL NOT NULL,
            provider            TEXT NOT NULL,
            external_ref        TEXT NOT NULL UNIQUE,
            reference           TEXT,
            status              TEXT NOT NULL,
            provider_status     TEXT NOT NULL DEFAULT '',
            url                 TEXT,
            flow                TEXT,
            redirect_url        TEXT,
            documents_requested TEXT NOT NULL DEFAULT '',
            documents_consented TEXT NOT NULL DEFAULT '',
            create_state        TEXT NOT NULL,
            create_message      TEXT,
            tracking            INTEGER NOT NULL DEFAULT 1,
            created_at          TEXT COLLATE "C" NOT NULL,
            updated_at          TEXT COLLATE "C" NOT NULL,
            expires_at          TEXT COLLATE "C" NOT NULL,
            last_polled_at      TEXT COLLATE "C",
            last_error          TEXT
        );
        CREATE INDEX sessions_reference ON sessions (reference);
        CREATE INDEX sessions_created_at ON sessions (created_at);
        CREATE TABLE session_events (
            id              BIGSERIAL PRIMARY KEY,
            session_id      TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
            at              TEXT COLLATE "C" NOT NULL,
            status          TEXT NOT NULL,
            provider_status TEXT NOT NULL
        );
        CREATE INDEX session_events_session ON session_events (session_id, id);
        CREATE TABLE notify_audit (
            id            BIGSERIAL PRIMARY KEY,
            link_id       TEXT NOT NULL,
            actor         TEXT NOT NULL,
            at            TEXT COLLATE "C" NOT NULL,
            outcome       TEXT NOT NULL,
            message       TEXT NOT NULL DEFAULT '',
            provider_code TEXT,
            request_id    TEXT,
            completed     INTEGER NOT NULL DEFAULT 0,
            completed_at  TEXT COLLATE "C"
        );
        CREATE INDEX notify_audit_link ON notify_audit (link_id, at);
        CREATE TABLE balance_snapshots (
            id         BIGSERIAL PRIMARY KEY,
            at         TEXT COLLATE "C" NOT NULL,
            account    TEXT NOT NULL,
            available  TEXT NOT NULL,
            total      TEXT NOT NULL,
            lien       TEXT NOT NULL,
            request_id TEXT
        );
        CREATE INDEX balance_snapshots_at ON balance_snapshots (at);"#,
    },
    // 2: who fetched or revealed which consented document (never its contents).
    Migration {
        sqlite: "CREATE TABLE document_access (
            id          INTEGER PRIMARY KEY,
            at          TEXT NOT NULL,
            actor       TEXT NOT NULL,
            session_id  TEXT NOT NULL,
            provider    TEXT NOT NULL,
            document    TEXT NOT NULL,
            revealed    INTEGER NOT NULL,
            outcome     TEXT NOT NULL
        );
        CREATE INDEX document_access_at ON document_access (at);",
        postgres: r#"CREATE TABLE document_access (
            id          BIGSERIAL PRIMARY KEY,
            at          TEXT COLLATE "C" NOT NULL,
            actor       TEXT NOT NULL,
            session_id  TEXT NOT NULL,
            provider    TEXT NOT NULL,
            document    TEXT NOT NULL,
            revealed    INTEGER NOT NULL,
            outcome     TEXT NOT NULL
        );
        CREATE INDEX document_access_at ON document_access (at);"#,
    },
    // 3: the agent's label (ticket or case reference) and who created it.
    Migration {
        sqlite: "ALTER TABLE sessions ADD COLUMN label TEXT;
            ALTER TABLE sessions ADD COLUMN created_by TEXT;",
        postgres: "ALTER TABLE sessions ADD COLUMN label TEXT;
            ALTER TABLE sessions ADD COLUMN created_by TEXT;",
    },
    // 4: team mode's operators: a token's hash, never the token.
    Migration {
        sqlite: "CREATE TABLE api_tokens (
            id           INTEGER PRIMARY KEY,
            operator     TEXT NOT NULL,
            role         TEXT NOT NULL,
            token_hash   TEXT NOT NULL UNIQUE,
            created_at   TEXT NOT NULL,
            revoked_at   TEXT,
            last_used_at TEXT
        );
        CREATE UNIQUE INDEX api_tokens_active_operator ON api_tokens (operator)
            WHERE revoked_at IS NULL;",
        postgres: r#"CREATE TABLE api_tokens (
            id           BIGSERIAL PRIMARY KEY,
            operator     TEXT NOT NULL,
            role         TEXT NOT NULL,
            token_hash   TEXT NOT NULL UNIQUE,
            created_at   TEXT COLLATE "C" NOT NULL,
            revoked_at   TEXT COLLATE "C",
            last_used_at TEXT COLLATE "C"
        );
        CREATE UNIQUE INDEX api_tokens_active_operator ON api_tokens (operator)
            WHERE revoked_at IS NULL;"#,
    },
    // 5: lists come newest first; with the index they are read in that order
    // instead of sorted every time.
    Migration {
        sqlite: "CREATE INDEX sessions_created ON sessions (created_at);",
        postgres: "CREATE INDEX sessions_created ON sessions (created_at, seq);",
    },
    // 6: replicas hear of each other's writes. SQLite needs nothing: its
    // `data_version` already tells; PostgreSQL announces each committed
    // change on the `payops_changes` channel (one notification per
    // transaction and table, however many rows).
    Migration {
        sqlite: "",
        postgres: "CREATE FUNCTION payops_announce_change() RETURNS trigger AS $$
            BEGIN
                PERFORM pg_notify('payops_changes', TG_TABLE_NAME);
                RETURN NULL;
            END
            $$ LANGUAGE plpgsql;
            CREATE TRIGGER sessions_changed AFTER INSERT OR UPDATE OR DELETE ON sessions
                FOR EACH STATEMENT EXECUTE FUNCTION payops_announce_change();
            CREATE TRIGGER session_events_changed AFTER INSERT OR UPDATE OR DELETE
                ON session_events
                FOR EACH STATEMENT EXECUTE FUNCTION payops_announce_change();
            CREATE TRIGGER notify_audit_changed AFTER INSERT OR UPDATE OR DELETE ON notify_audit
                FOR EACH STATEMENT EXECUTE FUNCTION payops_announce_change();
            CREATE TRIGGER balance_snapshots_changed AFTER INSERT ON balance_snapshots
                FOR EACH STATEMENT EXECUTE FUNCTION payops_announce_change();",
    },
    // 7: the team's provider budget, shared by replicas: one row per
    // provider holding GCRA's theoretical arrival time, in microseconds
    // since the epoch. No change trigger: a provider call is not news.
    Migration {
        sqlite: "CREATE TABLE provider_budget (
            provider TEXT PRIMARY KEY NOT NULL,
            tat_us   INTEGER NOT NULL
        );",
        postgres: "CREATE TABLE provider_budget (
            provider TEXT PRIMARY KEY NOT NULL,
            tat_us   BIGINT NOT NULL
        );",
    },
    // 8: each session row counts its own changes, whatever statement made
    // them, so a reader that kept a row's JSON knows when it is stale
    // without reading the row. Counted by a trigger, not by each UPDATE, so
    // no write can forget it.
    Migration {
        sqlite: "ALTER TABLE sessions ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
            CREATE TRIGGER sessions_version AFTER UPDATE ON sessions FOR EACH ROW
                WHEN NEW.version = OLD.version
                BEGIN
                    UPDATE sessions SET version = OLD.version + 1 WHERE id = NEW.id;
                END;",
        postgres: "ALTER TABLE sessions ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
            CREATE FUNCTION payops_session_version() RETURNS trigger AS $$
            BEGIN
                NEW.version := OLD.version + 1;
                RETURN NEW;
            END
            $$ LANGUAGE plpgsql;
            CREATE TRIGGER sessions_version BEFORE UPDATE ON sessions
                FOR EACH ROW EXECUTE FUNCTION payops_session_version();",
    },
    // 9: leadership among replicas is a lease in the store, renewed by the
    // leader and timed by the database's clock, with an epoch that moves
    // each time it changes hands (a fencing token). Polls written by a
    // leader carry the epoch they were written under. SQLite has one
    // server and no lease; the table is there so the schemas stay alike.
    Migration {
        sqlite: "CREATE TABLE leader_lease (
            id         INTEGER PRIMARY KEY NOT NULL,
            holder     TEXT NOT NULL,
            holder_pid INTEGER NOT NULL,
            epoch      INTEGER NOT NULL,
            expires_us INTEGER NOT NULL
        );
        ALTER TABLE sessions ADD COLUMN polled_epoch INTEGER;",
        postgres: "CREATE TABLE leader_lease (
            id         INTEGER PRIMARY KEY NOT NULL,
            holder     TEXT NOT NULL,
            holder_pid INTEGER NOT NULL,
            epoch      BIGINT NOT NULL,
            expires_us BIGINT NOT NULL
        );
        ALTER TABLE sessions ADD COLUMN polled_epoch BIGINT;",
    },
    // 10: each provider's health as the leader last saw it (the engine's
    // JSON, with no personal data), so every replica's dashboards and
    // /healthz know it, not only the leader's. Announced like other
    // changes, so followers hear of it within a second.
    Migration {
        sqlite: "CREATE TABLE provider_health (
            provider   TEXT PRIMARY KEY NOT NULL,
            health     TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );",
        postgres: "CREATE TABLE provider_health (
            provider   TEXT PRIMARY KEY NOT NULL,
            health     TEXT NOT NULL,
            updated_at TEXT COLLATE \"C\" NOT NULL
        );
        CREATE TRIGGER provider_health_changed AFTER INSERT OR UPDATE ON provider_health
            FOR EACH STATEMENT EXECUTE FUNCTION payops_announce_change();",
    },
    // 11: tokens that expire (NULL: never) and, once rotated, stay usable
    // until a future `revoked_at`; and the activity log: one row for every
    // change made through the server, allowed or refused, never updated.
    Migration {
        sqlite: "ALTER TABLE api_tokens ADD COLUMN expires_at TEXT;
        CREATE TABLE activity (
            id         INTEGER PRIMARY KEY,
            at         TEXT NOT NULL,
            operator   TEXT NOT NULL,
            action     TEXT NOT NULL,
            target     TEXT,
            detail     TEXT,
            outcome    TEXT NOT NULL,
            reason     TEXT,
            request_id TEXT
        );
        CREATE INDEX activity_at ON activity (at);",
        postgres: r#"ALTER TABLE api_tokens ADD COLUMN expires_at TEXT COLLATE "C";
        CREATE TABLE activity (
            id         BIGSERIAL PRIMARY KEY,
            at         TEXT COLLATE "C" NOT NULL,
            operator   TEXT NOT NULL,
            action     TEXT NOT NULL,
            target     TEXT,
            detail     TEXT,
            outcome    TEXT NOT NULL,
            reason     TEXT,
            request_id TEXT
        );
        CREATE INDEX activity_at ON activity (at);"#,
    },
    // 12: how each status was learned (create, poll, webhook, refresh) and
    // when the session's status last changed; and when the last verified
    // webhook delivery arrived from each provider, which every replica
    // writes and the leader reads to decide whether to poll slowly.
    Migration {
        sqlite: "ALTER TABLE session_events ADD COLUMN source TEXT;
        ALTER TABLE sessions ADD COLUMN status_learned TEXT;
        ALTER TABLE sessions ADD COLUMN status_at TEXT;
        CREATE TABLE webhook_receipts (
            provider TEXT PRIMARY KEY NOT NULL,
            last_at  TEXT NOT NULL
        );",
        postgres: r#"ALTER TABLE session_events ADD COLUMN source TEXT;
        ALTER TABLE sessions ADD COLUMN status_learned TEXT;
        ALTER TABLE sessions ADD COLUMN status_at TEXT COLLATE "C";
        CREATE TABLE webhook_receipts (
            provider TEXT PRIMARY KEY NOT NULL,
            last_at  TEXT COLLATE "C" NOT NULL
        );"#,
    },
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;
