-- +goose Up
-- Migration runs (see internal/console/migration.go): each run of the
-- migration program for an organisation, numbered per organisation, with
-- the SHA-256 of its specification and legacy source and where the console
-- keeps copies of both (so the run can be repeated exactly, and VAL and
-- PROD loaded with the same output), who asked and when, how it went, its
-- report as JSON, and the sign-off of its output.
CREATE TABLE migration_run (
    id              INTEGER PRIMARY KEY,
    organisation_id BIGINT    NOT NULL REFERENCES organisation(id),
    number          INTEGER   NOT NULL,
    operation_id    BIGINT    REFERENCES operation(id),
    instance        TEXT      NOT NULL DEFAULT '',
    spec_name       TEXT      NOT NULL DEFAULT '',
    spec_sha256     TEXT      NOT NULL,
    source_sha256   TEXT      NOT NULL,
    spec_path       TEXT      NOT NULL,
    source_path     TEXT      NOT NULL,
    source_label    TEXT      NOT NULL DEFAULT '',
    state           TEXT      NOT NULL,
    reason          TEXT      NOT NULL DEFAULT '',
    requested_by    TEXT      NOT NULL,
    requested_at    TIMESTAMP NOT NULL,
    started_at      TIMESTAMP,
    finished_at     TIMESTAMP,
    report          TEXT      NOT NULL DEFAULT '',
    failure         TEXT      NOT NULL DEFAULT '',
    signed_off_by   TEXT      NOT NULL DEFAULT '',
    signed_off_at   TIMESTAMP,
    signoff_reason  TEXT      NOT NULL DEFAULT '',
    UNIQUE (organisation_id, number)
);
CREATE INDEX migration_run_operation ON migration_run (operation_id);

-- +goose Down
DROP TABLE migration_run;
