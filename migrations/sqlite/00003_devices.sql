-- +goose Up
-- Device types and the devices of the unit (see internal/device). Devices
-- are retired, never deleted, so data collected with them keeps pointing at
-- them. Calibration dates are calendar dates at the device's site.
CREATE TABLE device_type (
    id                        INTEGER PRIMARY KEY,
    code                      TEXT      NOT NULL UNIQUE,
    name                      TEXT      NOT NULL,
    description               TEXT      NOT NULL DEFAULT '',
    calibration_required      INTEGER   NOT NULL DEFAULT 0,
    calibration_interval_days INTEGER   NOT NULL DEFAULT 0,
    active                    INTEGER   NOT NULL DEFAULT 1,
    created_at                TIMESTAMP NOT NULL,
    updated_at                TIMESTAMP NOT NULL,
    updated_by                TEXT      NOT NULL DEFAULT '',
    version                   INTEGER   NOT NULL DEFAULT 1
);

CREATE TABLE device (
    id              INTEGER PRIMARY KEY,
    asset_tag       TEXT      NOT NULL UNIQUE,
    serial_number   TEXT      NOT NULL,
    model           TEXT      NOT NULL DEFAULT '',
    manufacturer    TEXT      NOT NULL DEFAULT '',
    type_id         INTEGER   NOT NULL REFERENCES device_type(id),
    site_id         INTEGER   NOT NULL REFERENCES site(id),
    calibration_due DATE,
    last_calibrated DATE,
    status          TEXT      NOT NULL,
    notes           TEXT      NOT NULL DEFAULT '',
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    updated_by      TEXT      NOT NULL DEFAULT '',
    version         INTEGER   NOT NULL DEFAULT 1
);
CREATE INDEX device_site_type ON device (site_id, type_id);
CREATE INDEX device_type_id ON device (type_id);

-- +goose Down
DROP TABLE device;
DROP TABLE device_type;
