-- +goose Up
-- Volunteer search reads its indexes at random, and at the size of a large
-- unit (half a million volunteers, some 600 MB) SQLite's default page cache
-- of 2 MB per connection would send almost every search to the file. The
-- default cache of every connection to this database becomes 4096 pages
-- (16 MB; about 150 MB for the nine connections of an instance).
PRAGMA default_cache_size = 4096;
-- The volunteer database (see internal/volunteer and internal/volunteer/registry).
-- Dates are stored as volunteer.Date.String() text ("1984-05-12", partial
-- dates as "1984-**-**"), which sorts in calendar order and never shifts
-- with a time zone.
CREATE TABLE volunteer (
    id                 INTEGER PRIMARY KEY,
    number             TEXT      NOT NULL UNIQUE,
    -- name_tokens is " " + volunteer.NameTokens joined by spaces, so "has a
    -- name starting with jan" is instr(name_tokens, ' jan') > 0 on the row
    -- or index entry at hand. It is PHI and erased with the names.
    name_tokens        TEXT      NOT NULL DEFAULT '',
    given_name         TEXT      NOT NULL DEFAULT '',
    family_name        TEXT      NOT NULL DEFAULT '',
    other_names        TEXT      NOT NULL DEFAULT '',
    -- family_key is the normalised family and given name, for sorting by name
    -- whatever the case and accents. It is PHI and erased with the names.
    family_key         TEXT      NOT NULL DEFAULT '',
    birth_date         TEXT      NOT NULL DEFAULT '',
    sex_at_birth       TEXT      NOT NULL DEFAULT '',
    gender             TEXT      NOT NULL DEFAULT '',
    ethnicity          TEXT      NOT NULL DEFAULT '',
    races              TEXT      NOT NULL DEFAULT '',
    email              TEXT      NOT NULL DEFAULT '',
    address_line1      TEXT      NOT NULL DEFAULT '',
    address_line2      TEXT      NOT NULL DEFAULT '',
    postal_code        TEXT      NOT NULL DEFAULT '',
    city               TEXT      NOT NULL DEFAULT '',
    region             TEXT      NOT NULL DEFAULT '',
    country            TEXT      NOT NULL DEFAULT '',
    preferred_site     TEXT      NOT NULL DEFAULT '',
    status             TEXT      NOT NULL,
    recruitment_source TEXT      NOT NULL DEFAULT '',
    notes              TEXT      NOT NULL DEFAULT '',
    next_eligible      TEXT      NOT NULL DEFAULT '',
    created_at         TIMESTAMP NOT NULL,
    created_by         TEXT      NOT NULL DEFAULT '',
    updated_at         TIMESTAMP NOT NULL,
    updated_by         TEXT      NOT NULL DEFAULT '',
    version            INTEGER   NOT NULL DEFAULT 1
);
-- Search pages through results in one of three orders. Each order has an
-- index that ends in the unique number and carries what a search tests
-- (name tokens, status, birth date), so walking volunteers in that order
-- never reads the table.
CREATE INDEX volunteer_number_order ON volunteer (number, name_tokens, status, birth_date);
CREATE INDEX volunteer_family_order ON volunteer (family_key, number, name_tokens, status, birth_date);
CREATE INDEX volunteer_birth_order ON volunteer (birth_date, number, name_tokens, status);

-- Name search: one row per volunteer.NameTokens token. A prefix search is a
-- range on the primary key (token >= 'jans' AND token < 'jans' || U+10FFFF),
-- which SQLite's binary collation answers from the index. The sort keys and
-- the volunteer's other tokens are copied in, so a search for several words
-- reads one word's range and nothing else. There is no index by volunteer:
-- a rewrite finds a volunteer's rows through the name_tokens it stored.
-- Child rows carry no foreign keys: only this package writes them, in the
-- transaction that writes their volunteer, and checking each of a bulk
-- load's millions would halve its speed.
CREATE TABLE volunteer_name_token (
    token        TEXT    NOT NULL,
    volunteer_id INTEGER NOT NULL,
    number       TEXT    NOT NULL,
    family_key   TEXT    NOT NULL,
    birth_date   TEXT    NOT NULL,
    name_tokens  TEXT    NOT NULL,
    PRIMARY KEY (token, volunteer_id)
) WITHOUT ROWID;

-- How many volunteers have each token, so a search knows how many a word
-- matches (the sum over its prefix range) before choosing how to run.
CREATE TABLE volunteer_token_count (
    token      TEXT    PRIMARY KEY,
    volunteers INTEGER NOT NULL
) WITHOUT ROWID;

-- digits_rev is the number's digits reversed, so "ends with 12345678" is a
-- prefix range whatever country code or trunk prefix the searcher typed.
CREATE TABLE volunteer_phone (
    volunteer_id INTEGER NOT NULL,
    position     INTEGER NOT NULL,
    kind         TEXT    NOT NULL,
    number       TEXT    NOT NULL,
    digits_rev   TEXT    NOT NULL,
    PRIMARY KEY (volunteer_id, position)
);
CREATE INDEX volunteer_phone_digits ON volunteer_phone (digits_rev);

-- Medical history, medications and substance use (list names the codes).
CREATE TABLE volunteer_coded_entry (
    volunteer_id INTEGER NOT NULL,
    list         TEXT    NOT NULL,
    position     INTEGER NOT NULL,
    code         TEXT    NOT NULL,
    start_date   TEXT    NOT NULL DEFAULT '',
    end_date     TEXT    NOT NULL DEFAULT '',
    note         TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (volunteer_id, list, position)
);

CREATE TABLE volunteer_answer (
    volunteer_id INTEGER NOT NULL,
    position     INTEGER NOT NULL,
    question     TEXT    NOT NULL,
    value        TEXT    NOT NULL,
    phi          INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (volunteer_id, position)
);

CREATE TABLE volunteer_consent (
    volunteer_id INTEGER NOT NULL,
    position     INTEGER NOT NULL,
    consent_type TEXT    NOT NULL,
    version      TEXT    NOT NULL,
    given_on     TEXT    NOT NULL,
    withdrawn_on TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (volunteer_id, position)
);

-- Study participation names the study by code: studies, including archived
-- historical ones that only hold migrated participation, live elsewhere.
CREATE TABLE volunteer_participation (
    volunteer_id INTEGER NOT NULL,
    position     INTEGER NOT NULL,
    study        TEXT    NOT NULL,
    start_date   TEXT    NOT NULL DEFAULT '',
    end_date     TEXT    NOT NULL DEFAULT '',
    outcome      TEXT    NOT NULL,
    PRIMARY KEY (volunteer_id, position)
);
CREATE INDEX volunteer_participation_study ON volunteer_participation (study);

-- One counter per volunteer.NumberPattern.CounterKey ("V{seq}", "AMS-24{seq}").
CREATE TABLE volunteer_number_counter (
    counter_key TEXT    PRIMARY KEY,
    last_seq    INTEGER NOT NULL
);

-- +goose Down
DROP TABLE volunteer_number_counter;
DROP TABLE volunteer_participation;
DROP TABLE volunteer_consent;
DROP TABLE volunteer_answer;
DROP TABLE volunteer_coded_entry;
DROP TABLE volunteer_phone;
DROP TABLE volunteer_token_count;
DROP TABLE volunteer_name_token;
DROP TABLE volunteer;
