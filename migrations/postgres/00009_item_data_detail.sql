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

-- +goose Down
ALTER TABLE item_data DROP COLUMN container_detail;
ALTER TABLE item_data DROP COLUMN item_detail;
