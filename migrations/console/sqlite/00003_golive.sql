-- +goose Up
-- Electronic signatures (21 CFR Part 11 §11.50, §11.70, §11.200) an
-- organisation's go-live is built from: each step of the go-live checklist,
-- the go-live itself and the end of validation. A signature records who
-- signed (user id, user name and full name at the moment of signing), when
-- (the server's clock, UTC), what the signature means and the signer's
-- comment. It is bound to its subject and never changed or removed.
CREATE TABLE signature (
    id              INTEGER   PRIMARY KEY,
    organisation_id INTEGER   NOT NULL REFERENCES organisation(id),
    subject         TEXT      NOT NULL,
    position        INTEGER   NOT NULL DEFAULT 0,
    user_id         INTEGER   NOT NULL,
    username        TEXT      NOT NULL,
    full_name       TEXT      NOT NULL,
    meaning         TEXT      NOT NULL,
    comment         TEXT      NOT NULL DEFAULT '',
    signed_at       TIMESTAMP NOT NULL,
    UNIQUE (organisation_id, subject)
);
-- +goose StatementBegin
CREATE TRIGGER signature_no_update BEFORE UPDATE ON signature
BEGIN SELECT RAISE(ABORT, 'an electronic signature is never changed'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER signature_no_delete BEFORE DELETE ON signature
BEGIN SELECT RAISE(ABORT, 'an electronic signature is never removed'); END;
-- +goose StatementEnd

-- How a VAL or PROD pair is made: where its configuration comes from (an
-- instance, or a predefined configuration), which migration run fills it,
-- whether it was made before the migration output was signed off
-- (informal) and whether its volunteer PHI is obfuscated. A retry reads it
-- so it makes exactly what was asked.
CREATE TABLE pair_plan (
    environment_id   INTEGER   PRIMARY KEY REFERENCES environment(id),
    config_source_id INTEGER   REFERENCES instance(id),
    predefined       TEXT      NOT NULL DEFAULT '',
    migration_run_id INTEGER   NOT NULL DEFAULT 0,
    informal         INTEGER   NOT NULL DEFAULT 0,
    obfuscated       INTEGER   NOT NULL DEFAULT 0,
    created_at       TIMESTAMP NOT NULL,
    created_by       TEXT      NOT NULL
);

-- +goose Down
DROP TABLE pair_plan;
DROP TABLE signature;
