-- +goose Up
-- Clinical data in two tables instead of one. item_group_data holds each
-- occurrence of a container chain (subject, event and repeat, form and
-- repeat, item group and repeat) once, with the details of the containers
-- that start at it; item_data holds the values, each pointing at its
-- occurrence. An ItemData row then carries three short columns where it
-- carried eight keys, and its uniqueness is (occurrence, item): storing a
-- million values costs half of what it did. An occurrence without items
-- stands for a container without ItemData.
--
-- seq orders occurrences as export streams them (each container's
-- occurrences contiguous, in the order they first appeared); an item's seq
-- orders the values inside its occurrence. Neither table has foreign keys
-- (to study, or from a value to its occurrence): the ODM import is the
-- only writer of both, in one transaction, for studies it created or read
-- in that transaction, and studies are never deleted; checking parent rows
-- for every row would cost a quarter of the import on SQLite and half of
-- it on PostgreSQL, whose foreign-key triggers run row by row.
CREATE TABLE item_group_data (
    study_id         BIGINT  NOT NULL,
    id               BIGINT  NOT NULL,
    seq              BIGINT  NOT NULL,
    subject_key      TEXT    COLLATE "C" NOT NULL,
    event_oid        TEXT    COLLATE "C" NOT NULL,
    event_repeat     TEXT    COLLATE "C" NOT NULL,
    form_oid         TEXT    COLLATE "C" NOT NULL,
    form_repeat      TEXT    COLLATE "C" NOT NULL,
    group_oid        TEXT    COLLATE "C" NOT NULL,
    group_repeat     TEXT    COLLATE "C" NOT NULL,
    container_detail TEXT,
    PRIMARY KEY (study_id, id),
    UNIQUE (study_id, subject_key, event_oid, event_repeat, form_oid, form_repeat, group_oid, group_repeat)
);
CREATE INDEX item_group_data_order ON item_group_data (study_id, seq);

-- An occurrence's container detail is the one on its first row; the first
-- row of a container is the first row of its occurrence whenever the
-- occurrence's rows were contiguous, which the import kept them.
INSERT INTO item_group_data (study_id, id, seq, subject_key, event_oid, event_repeat, form_oid, form_repeat, group_oid, group_repeat, container_detail)
    SELECT o.study_id, ROW_NUMBER() OVER (PARTITION BY o.study_id ORDER BY o.first), o.first,
        o.subject_key, o.event_oid, o.event_repeat, o.form_oid, o.form_repeat, o.group_oid, o.group_repeat,
        (SELECT f.container_detail FROM item_data f WHERE f.study_id = o.study_id AND f.seq = o.first)
    FROM (SELECT study_id, subject_key, event_oid, event_repeat, form_oid, form_repeat, group_oid, group_repeat, MIN(seq) AS first
          FROM item_data GROUP BY study_id, subject_key, event_oid, event_repeat, form_oid, form_repeat, group_oid, group_repeat) AS o;

CREATE TABLE item_data_new (
    study_id    BIGINT  NOT NULL,
    group_data  BIGINT  NOT NULL,
    item_oid    TEXT    COLLATE "C" NOT NULL,
    seq         BIGINT  NOT NULL,
    value       TEXT    NOT NULL,
    is_null     BOOLEAN NOT NULL DEFAULT FALSE,
    item_detail TEXT,
    PRIMARY KEY (study_id, group_data, item_oid)
);
INSERT INTO item_data_new (study_id, group_data, item_oid, seq, value, is_null, item_detail)
    SELECT d.study_id, g.id, d.item_oid, d.seq, d.value, d.is_null, d.item_detail
    FROM item_data d JOIN item_group_data g ON g.study_id = d.study_id AND g.subject_key = d.subject_key
        AND g.event_oid = d.event_oid AND g.event_repeat = d.event_repeat AND g.form_oid = d.form_oid
        AND g.form_repeat = d.form_repeat AND g.group_oid = d.group_oid AND g.group_repeat = d.group_repeat
    WHERE d.item_oid <> '';
DROP TABLE item_data;
ALTER TABLE item_data_new RENAME TO item_data;

-- +goose Down
CREATE TABLE item_data_old (
    study_id         BIGINT  NOT NULL REFERENCES study (id),
    seq              BIGINT  NOT NULL,
    subject_key      TEXT    COLLATE "C" NOT NULL,
    event_oid        TEXT    COLLATE "C" NOT NULL,
    event_repeat     TEXT    COLLATE "C" NOT NULL,
    form_oid         TEXT    COLLATE "C" NOT NULL,
    form_repeat      TEXT    COLLATE "C" NOT NULL,
    group_oid        TEXT    COLLATE "C" NOT NULL,
    group_repeat     TEXT    COLLATE "C" NOT NULL,
    item_oid         TEXT    COLLATE "C" NOT NULL,
    value            TEXT    NOT NULL,
    is_null          BOOLEAN NOT NULL DEFAULT FALSE,
    item_detail      TEXT,
    container_detail TEXT,
    PRIMARY KEY (study_id, seq),
    UNIQUE (study_id, subject_key, event_oid, event_repeat, form_oid, form_repeat, group_oid, group_repeat, item_oid)
);
INSERT INTO item_data_old
    SELECT g.study_id, ROW_NUMBER() OVER (PARTITION BY g.study_id ORDER BY g.seq, d.seq),
        g.subject_key, g.event_oid, g.event_repeat, g.form_oid, g.form_repeat, g.group_oid, g.group_repeat,
        COALESCE(d.item_oid, ''), COALESCE(d.value, ''), COALESCE(d.is_null, FALSE), d.item_detail,
        CASE WHEN d.seq IS NULL OR d.seq = (SELECT MIN(f.seq) FROM item_data f WHERE f.study_id = g.study_id AND f.group_data = g.id)
            THEN g.container_detail END
    FROM item_group_data g LEFT JOIN item_data d ON d.study_id = g.study_id AND d.group_data = g.id;
DROP TABLE item_data;
DROP TABLE item_group_data;
ALTER TABLE item_data_old RENAME TO item_data;
