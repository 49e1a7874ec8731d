-- +goose Up
-- What ODM says about a clinical value or its containers beyond keys and
-- value: AuditRecord, Signature, Annotations, MeasurementUnitRef,
-- TransactionType, InvestigatorRef/SiteRef, ArchiveLayoutRef and vendor
-- extensions, as canonical JSON of internal/odm types (see
-- internal/study/clinical_detail.go). NULL, the common case, costs nothing.
-- item_detail belongs to the row's ItemData; container_detail, on the first
-- row of a container, holds the containers that start at this row, by
-- level. A row with item_oid '' stands for a container without ItemData.
--
-- On SQLite the table is rebuilt WITHOUT ROWID: rows then live in the
-- primary key's b-tree, ordered by (study_id, seq) as export reads them,
-- and an insert updates two b-trees instead of three.
CREATE TABLE item_data_new (
    study_id         INTEGER NOT NULL REFERENCES study (id),
    seq              INTEGER NOT NULL,
    subject_key      TEXT    NOT NULL,
    event_oid        TEXT    NOT NULL,
    event_repeat     TEXT    NOT NULL,
    form_oid         TEXT    NOT NULL,
    form_repeat      TEXT    NOT NULL,
    group_oid        TEXT    NOT NULL,
    group_repeat     TEXT    NOT NULL,
    item_oid         TEXT    NOT NULL,
    value            TEXT    NOT NULL,
    is_null          BOOLEAN NOT NULL DEFAULT FALSE,
    item_detail      TEXT,
    container_detail TEXT,
    PRIMARY KEY (study_id, seq),
    UNIQUE (study_id, subject_key, event_oid, event_repeat, form_oid, form_repeat, group_oid, group_repeat, item_oid)
) WITHOUT ROWID;
INSERT INTO item_data_new (study_id, seq, subject_key, event_oid, event_repeat, form_oid, form_repeat, group_oid, group_repeat, item_oid, value, is_null)
    SELECT study_id, seq, subject_key, event_oid, event_repeat, form_oid, form_repeat, group_oid, group_repeat, item_oid, value, is_null FROM item_data;
DROP TABLE item_data;
ALTER TABLE item_data_new RENAME TO item_data;

-- +goose Down
CREATE TABLE item_data_old (
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
INSERT INTO item_data_old SELECT study_id, seq, subject_key, event_oid, event_repeat, form_oid, form_repeat, group_oid, group_repeat, item_oid, value, is_null FROM item_data;
DROP TABLE item_data;
ALTER TABLE item_data_old RENAME TO item_data;
