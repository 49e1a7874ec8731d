-- +goose Up
-- The Part 11 audit trail: append-only, hash-chained (see internal/audit).
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

CREATE TABLE site (
    id          INTEGER PRIMARY KEY,
    code        TEXT      NOT NULL UNIQUE,
    name        TEXT      NOT NULL,
    address     TEXT      NOT NULL DEFAULT '',
    time_zone   TEXT      NOT NULL,
    archived    INTEGER   NOT NULL DEFAULT 0,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    updated_by  TEXT      NOT NULL DEFAULT '',
    version     INTEGER   NOT NULL DEFAULT 1
);

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

-- A grant of a role to a user, at one site or (site_id 0) everywhere.
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

-- +goose Down
DROP TABLE setting;
DROP TABLE user_role;
DROP TABLE role_permission;
DROP TABLE role;
DROP TABLE site;
DROP TABLE user_session;
DROP TABLE app_user;
DROP TABLE audit_entry;
