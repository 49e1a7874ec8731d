-- +goose Up
-- One row per requested upgrade of an instance: from → to build, who asked,
-- the agreed slot, and what happened — the held time and failed requests
-- the console's proxy measured, the backup taken, the outcome. The step by
-- step log is the operation's.
CREATE TABLE upgrade (
    id              INTEGER   PRIMARY KEY,
    operation_id    INTEGER   NOT NULL UNIQUE REFERENCES operation(id),
    instance_id     INTEGER   NOT NULL REFERENCES instance(id),
    from_version    TEXT      NOT NULL,
    from_number     TEXT      NOT NULL,
    to_version      TEXT      NOT NULL,
    to_number       TEXT      NOT NULL,
    slot            TIMESTAMP,
    reason          TEXT      NOT NULL DEFAULT '',
    requested_by    TEXT      NOT NULL,
    requested_at    TIMESTAMP NOT NULL,
    validated_by    TEXT      NOT NULL DEFAULT '',
    outcome         TEXT      NOT NULL DEFAULT 'scheduled',
    from_schema     INTEGER,
    to_schema       INTEGER,
    backup          TEXT      NOT NULL DEFAULT '',
    held_ms         INTEGER,
    failed_requests INTEGER,
    started_at      TIMESTAMP,
    finished_at     TIMESTAMP
);
CREATE INDEX upgrade_instance ON upgrade (instance_id, id);

-- A temporary VAL environment made to preview PROD on a new build, and its
-- sign-off: once signed off as validated, the PROD upgrade to that build
-- may run.
CREATE TABLE upgrade_val (
    environment_id INTEGER   PRIMARY KEY REFERENCES environment(id),
    to_version     TEXT      NOT NULL,
    to_number      TEXT      NOT NULL,
    state          TEXT      NOT NULL DEFAULT 'cloning',
    requested_by   TEXT      NOT NULL,
    requested_at   TIMESTAMP NOT NULL,
    signed_off     TEXT      NOT NULL DEFAULT '',
    signed_by      TEXT      NOT NULL DEFAULT '',
    signed_at      TIMESTAMP,
    sign_reason    TEXT      NOT NULL DEFAULT ''
);

-- +goose Down
DROP TABLE upgrade_val;
DROP TABLE upgrade;
