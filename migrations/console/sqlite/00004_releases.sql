-- +goose Up
-- The release catalog: every build the console can run an instance on, its
-- identity as the build reported it (`cohort version --json`), the SHA-256
-- the console computed itself, the schema version it needs and the copy of
-- its binary in the console's releases directory. A build is never changed
-- or removed once registered: instances may be running it.
CREATE TABLE release_build (
    id             INTEGER   PRIMARY KEY,
    version        TEXT      NOT NULL,
    build_number   TEXT      NOT NULL,
    base_version   TEXT      NOT NULL DEFAULT '',
    built_at       TEXT      NOT NULL DEFAULT '',
    revision       TEXT      NOT NULL DEFAULT '',
    sha256         TEXT      NOT NULL,
    schema_version INTEGER   NOT NULL,
    file           TEXT      NOT NULL,
    notes          TEXT      NOT NULL DEFAULT '',
    registered_at  TIMESTAMP NOT NULL,
    registered_by  TEXT      NOT NULL,
    UNIQUE (version, build_number)
);

-- A customer's answer to a hotfix offered to one instance: accepted (the
-- upgrade it requested) or declined, by whom, when and why. Offers
-- themselves are computed from the catalog and the instances' builds.
CREATE TABLE hotfix_decision (
    id           INTEGER   PRIMARY KEY,
    instance_id  INTEGER   NOT NULL REFERENCES instance(id),
    build_id     INTEGER   NOT NULL REFERENCES release_build(id),
    decision     TEXT      NOT NULL,
    reason       TEXT      NOT NULL,
    decided_by   TEXT      NOT NULL,
    decided_at   TIMESTAMP NOT NULL,
    operation_id INTEGER   REFERENCES operation(id)
);
CREATE INDEX hotfix_decision_instance ON hotfix_decision (instance_id, id);

-- +goose Down
DROP TABLE hotfix_decision;
DROP TABLE release_build;
