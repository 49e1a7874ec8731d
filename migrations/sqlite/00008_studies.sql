-- +goose Up
-- Studies, their designs and the CRF master library (see internal/study).
-- A study's design is rows for what users browse and edit (events, forms
-- per event) plus, in design, the parts of its ODM Study that no row
-- holds, as canonical JSON of internal/odm types. A library form version
-- holds the form's full definition (groups, items, code lists, units,
-- checks, vendor extensions) the same way; published versions never change.
CREATE TABLE study (
    id              INTEGER PRIMARY KEY,
    code            TEXT      NOT NULL UNIQUE,
    oid             TEXT      NOT NULL,
    title           TEXT      NOT NULL,
    phase           TEXT      NOT NULL DEFAULT '',
    sponsor         TEXT      NOT NULL DEFAULT '',
    protocol_number TEXT      NOT NULL DEFAULT '',
    status          TEXT      NOT NULL,
    design          TEXT      NOT NULL DEFAULT '{}',
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    updated_by      TEXT      NOT NULL DEFAULT '',
    version         INTEGER   NOT NULL DEFAULT 1
);

CREATE TABLE study_event (
    id                     INTEGER PRIMARY KEY,
    study_id               INTEGER NOT NULL REFERENCES study (id),
    oid                    TEXT    NOT NULL,
    name                   TEXT    NOT NULL,
    event_type             TEXT    NOT NULL,
    repeating              BOOLEAN NOT NULL DEFAULT FALSE,
    epoch                  TEXT    NOT NULL DEFAULT '',
    arm                    TEXT    NOT NULL DEFAULT '',
    position               INTEGER NOT NULL,
    nominal_offset_minutes INTEGER,
    definition             TEXT    NOT NULL,
    UNIQUE (study_id, oid)
);

CREATE TABLE study_form (
    study_id     INTEGER NOT NULL REFERENCES study (id),
    form_oid     TEXT    NOT NULL,
    form_version INTEGER NOT NULL,
    position     INTEGER NOT NULL,
    PRIMARY KEY (study_id, form_oid)
);

CREATE TABLE study_event_form (
    study_id  INTEGER NOT NULL REFERENCES study (id),
    event_oid TEXT    NOT NULL,
    form_oid  TEXT    NOT NULL,
    position  INTEGER NOT NULL,
    mandatory BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (study_id, event_oid, form_oid)
);

CREATE TABLE library_form (
    id         INTEGER PRIMARY KEY,
    oid        TEXT      NOT NULL UNIQUE,
    name       TEXT      NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    updated_by TEXT      NOT NULL DEFAULT '',
    version    INTEGER   NOT NULL DEFAULT 1
);

CREATE TABLE library_form_version (
    id           INTEGER PRIMARY KEY,
    form_oid     TEXT      NOT NULL REFERENCES library_form (oid),
    number       INTEGER   NOT NULL,
    status       TEXT      NOT NULL,
    definition   TEXT      NOT NULL,
    digest       TEXT      NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    created_by   TEXT      NOT NULL DEFAULT '',
    published_at TIMESTAMP,
    published_by TEXT      NOT NULL DEFAULT '',
    version      INTEGER   NOT NULL DEFAULT 1,
    UNIQUE (form_oid, number)
);
CREATE INDEX library_form_version_digest ON library_form_version (form_oid, digest);

-- What a form version contains, for browsing without parsing definitions.
CREATE TABLE library_item (
    form_oid   TEXT    NOT NULL,
    number     INTEGER NOT NULL,
    position   INTEGER NOT NULL,
    group_oid  TEXT    NOT NULL,
    item_oid   TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    data_type  TEXT    NOT NULL,
    PRIMARY KEY (form_oid, number, position)
);

-- Clinical data imported from ODM: one row per ItemData, keyed by where it
-- sits. seq keeps the file's order, in which containers are contiguous, so
-- that export streams rows in the order the ODM writer needs.
CREATE TABLE item_data (
    study_id     INTEGER NOT NULL REFERENCES study (id),
    seq          INTEGER NOT NULL,
    subject_key  TEXT    NOT NULL,
    event_oid    TEXT    NOT NULL,
    event_repeat TEXT    NOT NULL,
    form_oid     TEXT    NOT NULL,
    form_repeat  TEXT    NOT NULL,
    group_oid    TEXT    NOT NULL,
    group_repeat TEXT    NOT NULL,
    item_oid     TEXT    NOT NULL,
    value        TEXT    NOT NULL,
    is_null      BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (study_id, seq),
    UNIQUE (study_id, subject_key, event_oid, event_repeat, form_oid, form_repeat, group_oid, group_repeat, item_oid)
);

-- +goose Down
DROP TABLE item_data;
DROP TABLE library_item;
DROP TABLE library_form_version;
DROP TABLE library_form;
DROP TABLE study_event_form;
DROP TABLE study_form;
DROP TABLE study_event;
DROP TABLE study;
