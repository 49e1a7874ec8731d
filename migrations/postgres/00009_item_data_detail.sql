-- +goose Up
-- What ODM says about a clinical value or its containers beyond keys and
-- value: AuditRecord, Signature, Annotations, MeasurementUnitRef,
-- TransactionType, InvestigatorRef/SiteRef, ArchiveLayoutRef and vendor
-- extensions, as canonical JSON of internal/odm types (see
-- internal/study/clinical_detail.go). NULL, the common case, costs nothing.
-- item_detail belongs to the row's ItemData; container_detail, on the first
-- row of a container, holds the containers that start at this row, by
-- level. A row with item_oid '' stands for a container without ItemData.
ALTER TABLE item_data ADD COLUMN item_detail TEXT;
ALTER TABLE item_data ADD COLUMN container_detail TEXT;

-- Keys are ODM OIDs and repeat keys, compared byte by byte as SQLite does:
-- the "C" collation makes the unique index cheap to maintain on bulk
-- imports and independent of the server's locale.
ALTER TABLE item_data
    ALTER COLUMN subject_key  TYPE TEXT COLLATE "C",
    ALTER COLUMN event_oid    TYPE TEXT COLLATE "C",
    ALTER COLUMN event_repeat TYPE TEXT COLLATE "C",
    ALTER COLUMN form_oid     TYPE TEXT COLLATE "C",
    ALTER COLUMN form_repeat  TYPE TEXT COLLATE "C",
    ALTER COLUMN group_oid    TYPE TEXT COLLATE "C",
    ALTER COLUMN group_repeat TYPE TEXT COLLATE "C",
    ALTER COLUMN item_oid     TYPE TEXT COLLATE "C";

-- +goose Down
ALTER TABLE item_data
    ALTER COLUMN subject_key  TYPE TEXT COLLATE "default",
    ALTER COLUMN event_oid    TYPE TEXT COLLATE "default",
    ALTER COLUMN event_repeat TYPE TEXT COLLATE "default",
    ALTER COLUMN form_oid     TYPE TEXT COLLATE "default",
    ALTER COLUMN form_repeat  TYPE TEXT COLLATE "default",
    ALTER COLUMN group_oid    TYPE TEXT COLLATE "default",
    ALTER COLUMN group_repeat TYPE TEXT COLLATE "default",
    ALTER COLUMN item_oid     TYPE TEXT COLLATE "default";
ALTER TABLE item_data DROP COLUMN container_detail;
ALTER TABLE item_data DROP COLUMN item_detail;
