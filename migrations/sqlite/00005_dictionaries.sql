-- +goose Up
-- Medical dictionary versions (see internal/dictionary): every imported
-- release of MedDRA or WHODrug side by side, one of each kind active.
-- Versions are retired, never deleted, because coded data points at them.
CREATE TABLE dictionary_version (
    id           INTEGER PRIMARY KEY,
    kind         TEXT      NOT NULL,
    release_name TEXT      NOT NULL,
    language     TEXT      NOT NULL DEFAULT '',
    active       INTEGER   NOT NULL DEFAULT 0,
    retired      INTEGER   NOT NULL DEFAULT 0,
    term_count   INTEGER   NOT NULL,
    link_count   INTEGER   NOT NULL,
    source       TEXT      NOT NULL DEFAULT '',
    imported_at  TIMESTAMP NOT NULL,
    imported_by  TEXT      NOT NULL,
    updated_at   TIMESTAMP NOT NULL,
    updated_by   TEXT      NOT NULL DEFAULT '',
    version      INTEGER   NOT NULL DEFAULT 1,
    UNIQUE (kind, release_name)
);
-- At most one active version per dictionary; Activate switches in one
-- transaction, so there is never a moment with two.
CREATE UNIQUE INDEX dictionary_version_one_active ON dictionary_version (kind) WHERE active = 1;

-- search_name is dictionary.Normalize(name): accents removed, case folded.
-- A prefix search is a range on dictionary_term_search, current terms and
-- non-current ones apart, in the order results are ranked.
CREATE TABLE dictionary_term (
    version_id  INTEGER NOT NULL REFERENCES dictionary_version(id),
    level       TEXT    NOT NULL,
    code        TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    search_name TEXT    NOT NULL,
    depth       INTEGER NOT NULL,
    is_current  INTEGER NOT NULL,
    abbrev      TEXT    NOT NULL DEFAULT '',
    primary_soc TEXT    NOT NULL DEFAULT '',
    sort_order  INTEGER NOT NULL DEFAULT 0,
    preferred   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (version_id, level, code)
);
CREATE INDEX dictionary_term_search ON dictionary_term (version_id, is_current, search_name, depth, code);
CREATE INDEX dictionary_term_code ON dictionary_term (version_id, code);
CREATE INDEX dictionary_term_depth ON dictionary_term (version_id, depth);

-- Edges of the hierarchy, broader term to narrower. The version was checked
-- whole before import (every link joins existing terms), so no foreign key
-- to dictionary_term slows the import of a release's ~100 000 links.
CREATE TABLE dictionary_link (
    version_id   INTEGER NOT NULL REFERENCES dictionary_version(id),
    parent_level TEXT    NOT NULL,
    parent_code  TEXT    NOT NULL,
    child_level  TEXT    NOT NULL,
    child_code   TEXT    NOT NULL,
    PRIMARY KEY (version_id, parent_level, parent_code, child_level, child_code)
);
CREATE INDEX dictionary_link_child ON dictionary_link (version_id, child_level, child_code);

-- +goose Down
DROP TABLE dictionary_link;
DROP TABLE dictionary_term;
DROP TABLE dictionary_version;
