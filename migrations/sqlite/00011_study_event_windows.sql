-- +goose Up
-- The window around an event's nominal time within which it counts as on
-- time (a visit "Day 8 ± 1 day", a PK sample "2 h ± 5 min"), in minutes
-- before and after; NULL when the protocol gives none (see internal/study).
ALTER TABLE study_event ADD COLUMN window_before_minutes INTEGER;
ALTER TABLE study_event ADD COLUMN window_after_minutes INTEGER;

-- +goose Down
ALTER TABLE study_event DROP COLUMN window_after_minutes;
ALTER TABLE study_event DROP COLUMN window_before_minutes;
