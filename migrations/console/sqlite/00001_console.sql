-- +goose Up
-- The console's own Part 11 audit trail, the same shape as an instance's so
-- internal/audit records and verifies it unchanged.
CREATE TABLE audit_entry (
    seq         INTEGER PRIMARY KEY,
    at          TEXT    NOT NULL,
    actor_id    INTEGER NOT NULL,
    actor       TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    entity      TEXT    NOT NULL,
    entity_id   TEXT    NOT NULL,
    field       TEXT    NOT NULL DEFAULT '',
    old_value   TEXT    NOT NULL DEFAULT '',
    new_value   TEXT    NOT NULL DEFAULT '',
    reason      TEXT    NOT NULL DEFAULT '',
    prev_hash   TEXT    NOT NULL,
    hash        TEXT    NOT NULL
);
CREATE INDEX audit_entry_entity ON audit_entry (entity, entity_id);
CREATE INDEX audit_entry_actor ON audit_entry (actor_id);
CREATE INDEX audit_entry_at ON audit_entry (at);
-- +goose StatementBegin
CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_entry
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
-- +goose StatementEnd

-- The console's own users, roles and settings: the same shapes as an
-- instance's, so internal/account, internal/access and internal/setting
-- serve the console unchanged.
CREATE TABLE app_user (
    id                   INTEGER PRIMARY KEY,
    username             TEXT      NOT NULL UNIQUE,
    display_name         TEXT      NOT NULL,
    email                TEXT      NOT NULL DEFAULT '',
    password_hash        TEXT      NOT NULL,
    must_change_password INTEGER   NOT NULL DEFAULT 0,
    failed_logins        INTEGER   NOT NULL DEFAULT 0,
    locked_until         TIMESTAMP,
    active               INTEGER   NOT NULL DEFAULT 1,
    last_login_at        TIMESTAMP,
    password_changed_at  TIMESTAMP NOT NULL,
    created_at           TIMESTAMP NOT NULL,
    updated_at           TIMESTAMP NOT NULL,
    updated_by           TEXT      NOT NULL DEFAULT '',
    version              INTEGER   NOT NULL DEFAULT 1
);

CREATE TABLE user_session (
    token_hash   TEXT      PRIMARY KEY,
    user_id      INTEGER   NOT NULL REFERENCES app_user(id),
    csrf_token   TEXT      NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL
);
CREATE INDEX user_session_user ON user_session (user_id);

CREATE TABLE role (
    id          INTEGER PRIMARY KEY,
    code        TEXT      NOT NULL UNIQUE,
    name        TEXT      NOT NULL,
    description TEXT      NOT NULL DEFAULT '',
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    updated_by  TEXT      NOT NULL DEFAULT '',
    version     INTEGER   NOT NULL DEFAULT 1
);

CREATE TABLE role_permission (
    role_id    INTEGER NOT NULL REFERENCES role(id),
    permission TEXT    NOT NULL,
    PRIMARY KEY (role_id, permission)
);

CREATE TABLE user_role (
    user_id INTEGER NOT NULL REFERENCES app_user(id),
    role_id INTEGER NOT NULL REFERENCES role(id),
    site_id INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, role_id, site_id)
);

CREATE TABLE setting (
    key        TEXT      PRIMARY KEY,
    value      TEXT      NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    updated_by TEXT      NOT NULL DEFAULT '',
    version    INTEGER   NOT NULL DEFAULT 1
);

-- A customer (or prospect) of the console.
CREATE TABLE organisation (
    id          INTEGER PRIMARY KEY,
    code        TEXT      NOT NULL UNIQUE,
    name        TEXT      NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    created_by  TEXT      NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    updated_by  TEXT      NOT NULL DEFAULT '',
    version     INTEGER   NOT NULL DEFAULT 1
);

-- An environment of one kind (Demo, Sandbox, …) of one organisation. Codes
-- are never reused, so the registry keeps the history of destroyed ones.
CREATE TABLE environment (
    id              INTEGER PRIMARY KEY,
    organisation_id INTEGER   NOT NULL REFERENCES organisation(id),
    code            TEXT      NOT NULL,
    kind            TEXT      NOT NULL,
    purpose         TEXT      NOT NULL DEFAULT '',
    made_from       TEXT      NOT NULL DEFAULT '',
    created_at      TIMESTAMP NOT NULL,
    created_by      TEXT      NOT NULL,
    destroyed_at    TIMESTAMP,
    UNIQUE (organisation_id, code)
);

-- One instance (Main or Test) of an environment: its build, where its
-- database lives, its port and URL path, and its lifecycle state.
CREATE TABLE instance (
    id               INTEGER   PRIMARY KEY,
    environment_id   INTEGER   NOT NULL REFERENCES environment(id),
    role             TEXT      NOT NULL,
    state            TEXT      NOT NULL,
    build_version    TEXT      NOT NULL,
    build_number     TEXT      NOT NULL,
    engine           TEXT      NOT NULL,
    database_name    TEXT      NOT NULL,
    port             INTEGER   NOT NULL DEFAULT 0,
    base_path        TEXT      NOT NULL UNIQUE,
    source_id        INTEGER   REFERENCES instance(id),
    failure          TEXT      NOT NULL DEFAULT '',
    archive          TEXT      NOT NULL DEFAULT '',
    created_at       TIMESTAMP NOT NULL,
    state_changed_at TIMESTAMP NOT NULL,
    updated_by       TEXT      NOT NULL DEFAULT '',
    version          INTEGER   NOT NULL DEFAULT 1,
    UNIQUE (environment_id, role)
);

-- The queue of console operations. The console's worker carries them out;
-- pages and the CLI only request them.
CREATE TABLE operation (
    id           INTEGER   PRIMARY KEY,
    kind         TEXT      NOT NULL,
    instance_id  INTEGER   NOT NULL REFERENCES instance(id),
    source_id    INTEGER   REFERENCES instance(id),
    state        TEXT      NOT NULL,
    step         TEXT      NOT NULL DEFAULT '',
    progress     INTEGER   NOT NULL DEFAULT 0,
    log          TEXT      NOT NULL DEFAULT '',
    reason       TEXT      NOT NULL DEFAULT '',
    request_key  TEXT      UNIQUE,
    requested_by TEXT      NOT NULL,
    requested_at TIMESTAMP NOT NULL,
    started_at   TIMESTAMP,
    finished_at  TIMESTAMP
);
CREATE INDEX operation_state ON operation (state, id);
CREATE INDEX operation_instance ON operation (instance_id, id);

-- The lock row that serialises operations: an instance is held by at most
-- one unfinished operation (a clone also holds its source).
CREATE TABLE instance_lock (
    instance_id  INTEGER   PRIMARY KEY REFERENCES instance(id),
    operation_id INTEGER   NOT NULL REFERENCES operation(id),
    locked_at    TIMESTAMP NOT NULL
);

-- An organisation's timeline: planned dates per stage and the milestones
-- the destroy rules depend on.
CREATE TABLE milestone (
    organisation_id INTEGER   NOT NULL REFERENCES organisation(id),
    code            TEXT      NOT NULL,
    planned_on      TEXT      NOT NULL DEFAULT '',
    reached_at      TIMESTAMP,
    reached_by      TEXT      NOT NULL DEFAULT '',
    updated_at      TIMESTAMP NOT NULL,
    updated_by      TEXT      NOT NULL DEFAULT '',
    PRIMARY KEY (organisation_id, code)
);

-- Which console process owns the registry now, so two consoles never
-- supervise the same instances and the CLI knows whether one is running.
CREATE TABLE console_heartbeat (
    id      INTEGER   PRIMARY KEY,
    owner   TEXT      NOT NULL,
    pid     INTEGER   NOT NULL,
    host    TEXT      NOT NULL,
    beat_at TIMESTAMP NOT NULL
);

-- +goose Down
DROP TABLE console_heartbeat;
DROP TABLE milestone;
DROP TABLE instance_lock;
DROP TABLE operation;
DROP TABLE instance;
DROP TABLE environment;
DROP TABLE organisation;
DROP TABLE setting;
DROP TABLE user_role;
DROP TABLE role_permission;
DROP TABLE role;
DROP TABLE user_session;
DROP TABLE app_user;
DROP TABLE audit_entry;
