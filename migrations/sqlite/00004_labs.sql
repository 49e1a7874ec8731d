-- +goose Up
-- Labs, lab tests and panels (see internal/lab). Codes are the natural keys
-- promotion and central-lab transfer files use. Nothing is deleted: a lab,
-- test or panel is deactivated, so results keep pointing at it. A test's
-- reference ranges and coded choices are rows of their own, replaced whole
-- when the test is saved (the audit trail keeps the old and new text).
CREATE TABLE lab (
    id            INTEGER PRIMARY KEY,
    code          TEXT      NOT NULL UNIQUE,
    name          TEXT      NOT NULL,
    kind          TEXT      NOT NULL,
    address       TEXT      NOT NULL DEFAULT '',
    accreditation TEXT      NOT NULL DEFAULT '',
    active        INTEGER   NOT NULL DEFAULT 1,
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL,
    updated_by    TEXT      NOT NULL DEFAULT '',
    version       INTEGER   NOT NULL DEFAULT 1
);

CREATE TABLE lab_test (
    id             INTEGER PRIMARY KEY,
    code           TEXT      NOT NULL UNIQUE,
    name           TEXT      NOT NULL,
    loinc          TEXT      NOT NULL DEFAULT '',
    specimen       TEXT      NOT NULL,
    result_type    TEXT      NOT NULL,
    unit           TEXT      NOT NULL DEFAULT '',
    decimal_places INTEGER   NOT NULL DEFAULT 0,
    active         INTEGER   NOT NULL DEFAULT 1,
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL,
    updated_by     TEXT      NOT NULL DEFAULT '',
    version        INTEGER   NOT NULL DEFAULT 1
);

-- low and high are NULL for the open side of a one-sided range; age_to 0
-- means no upper age limit, as in lab.ReferenceRange.
CREATE TABLE lab_test_range (
    test_id  INTEGER NOT NULL REFERENCES lab_test(id),
    position INTEGER NOT NULL,
    sex      TEXT    NOT NULL,
    age_from INTEGER NOT NULL DEFAULT 0,
    age_to   INTEGER NOT NULL DEFAULT 0,
    low      REAL,
    high     REAL,
    PRIMARY KEY (test_id, position)
);

CREATE TABLE lab_test_choice (
    test_id  INTEGER NOT NULL REFERENCES lab_test(id),
    position INTEGER NOT NULL,
    label    TEXT    NOT NULL,
    PRIMARY KEY (test_id, position)
);

CREATE TABLE lab_panel (
    id          INTEGER PRIMARY KEY,
    code        TEXT      NOT NULL UNIQUE,
    name        TEXT      NOT NULL,
    active      INTEGER   NOT NULL DEFAULT 1,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    updated_by  TEXT      NOT NULL DEFAULT '',
    version     INTEGER   NOT NULL DEFAULT 1
);

CREATE TABLE lab_panel_test (
    panel_id INTEGER NOT NULL REFERENCES lab_panel(id),
    position INTEGER NOT NULL,
    test_id  INTEGER NOT NULL REFERENCES lab_test(id),
    PRIMARY KEY (panel_id, position),
    UNIQUE (panel_id, test_id)
);
CREATE INDEX lab_panel_test_test ON lab_panel_test (test_id);

-- +goose Down
DROP TABLE lab_panel_test;
DROP TABLE lab_panel;
DROP TABLE lab_test_choice;
DROP TABLE lab_test_range;
DROP TABLE lab_test;
DROP TABLE lab;
