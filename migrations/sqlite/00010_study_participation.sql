-- +goose Up
-- Historical study participation brought in by the migration program: which
-- volunteer took part in which (archived) study, under which subject
-- number, when, and how it ended. The volunteer's own participation list
-- (volunteer_participation) holds study, dates and outcome for eligibility;
-- this table adds the subject number and where in the legacy source the row
-- came from, which the volunteer record does not carry.
CREATE TABLE study_participation (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    study          TEXT    NOT NULL,
    volunteer_id   INTEGER NOT NULL REFERENCES volunteer (id),
    subject_number TEXT    NOT NULL DEFAULT '',
    start_date     TEXT    NOT NULL DEFAULT '',
    end_date       TEXT    NOT NULL DEFAULT '',
    outcome        TEXT    NOT NULL,
    source         TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX study_participation_study ON study_participation (study, subject_number);
CREATE INDEX study_participation_volunteer ON study_participation (volunteer_id);

-- +goose Down
DROP TABLE study_participation;
