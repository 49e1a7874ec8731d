-- +goose Up
-- Barcode label templates (see internal/label). A template is kept as the
-- canonical JSON of label.Template in a TEXT column, not a JSON type, so the
-- stored text is exactly what was validated and what promotion copies.
-- Templates are deactivated, never deleted. Codes name ZPL and PDF files, so
-- two codes that differ only in case are refused.
CREATE TABLE label_template (
    id          INTEGER PRIMARY KEY,
    code        TEXT      NOT NULL UNIQUE,
    name        TEXT      NOT NULL,
    template    TEXT      NOT NULL,
    active      INTEGER   NOT NULL DEFAULT 1,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    updated_by  TEXT      NOT NULL DEFAULT '',
    version     INTEGER   NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX label_template_code_nocase ON label_template (LOWER(code));

-- +goose Down
DROP TABLE label_template;
