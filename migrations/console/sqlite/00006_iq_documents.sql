-- +goose Up
-- Installation Qualification documents: what the console found when it
-- checked, for real, that a VAL or PROD instance is installed as recorded
-- (identity, build and its SHA-256, database engine and schema version,
-- audit trail intact, readiness, counts). The content is canonical JSON
-- kept byte for byte with its SHA-256, so a printed or exported copy can
-- be checked against it. Numbered per organisation (IQ-ORG-0001…); a
-- document is issued once and never changed or removed.
CREATE TABLE iq_document (
    id              INTEGER   PRIMARY KEY,
    organisation_id INTEGER   NOT NULL REFERENCES organisation(id),
    seq             INTEGER   NOT NULL,
    number          TEXT      NOT NULL UNIQUE,
    instance_id     INTEGER   NOT NULL REFERENCES instance(id),
    instance_key    TEXT      NOT NULL,
    issued_at       TIMESTAMP NOT NULL,
    issued_by       TEXT      NOT NULL,
    content         TEXT      NOT NULL,
    sha256          TEXT      NOT NULL,
    UNIQUE (organisation_id, seq)
);
CREATE INDEX iq_document_instance ON iq_document (instance_id, issued_at);
-- +goose StatementBegin
CREATE TRIGGER iq_document_no_update BEFORE UPDATE ON iq_document
BEGIN SELECT RAISE(ABORT, 'an issued IQ document is never changed'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER iq_document_no_delete BEFORE DELETE ON iq_document
BEGIN SELECT RAISE(ABORT, 'an issued IQ document is never removed'); END;
-- +goose StatementEnd

-- +goose Down
DROP TABLE iq_document;
