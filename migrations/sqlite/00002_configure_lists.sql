-- +goose Up
-- The volunteer "Configure" lists (see internal/configlist): one table for
-- every list kind, because the kinds are fixed in code and share one shape.
-- Entries are deactivated, never deleted, so volunteers' history keeps its
-- labels. The answer_type, options and phi columns are used by custom
-- questions only; options hold one choice per line.
CREATE TABLE config_list_entry (
    id          INTEGER PRIMARY KEY,
    list        TEXT      NOT NULL,
    code        TEXT      NOT NULL,
    label       TEXT      NOT NULL,
    description TEXT      NOT NULL DEFAULT '',
    sort_order  INTEGER   NOT NULL,
    active      INTEGER   NOT NULL DEFAULT 1,
    answer_type TEXT      NOT NULL DEFAULT '',
    options     TEXT      NOT NULL DEFAULT '',
    phi         INTEGER   NOT NULL DEFAULT 0,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    updated_by  TEXT      NOT NULL DEFAULT '',
    version     INTEGER   NOT NULL DEFAULT 1
);
-- Codes differing only in case would look like duplicates to the people
-- picking them and to the migration's mapping file, so they are refused.
CREATE UNIQUE INDEX config_list_entry_code ON config_list_entry (list, lower(code));
CREATE INDEX config_list_entry_order ON config_list_entry (list, sort_order);

-- +goose Down
DROP TABLE config_list_entry;
