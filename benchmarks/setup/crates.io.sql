-- What crates.io's history assumes beside it: the history table of the runner it used before
-- diesel, which 20170502181306_drop_schema_migrations drops (and its DOWN re-creates as here).
CREATE TABLE schema_migrations (
    id              SERIAL PRIMARY KEY,
    version         INT8 NOT NULL UNIQUE
);
