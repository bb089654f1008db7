"""`pgpreflight check`: run migrations on a real PostgreSQL and record what each statement does.

The static linter predicts; this package measures. Modules, in the order data flows:

- `locks`      PostgreSQL's lock modes and conflict table (which query kinds a lock blocks).
- `catalog`    snapshots of the catalog: storage (relfilenodes), locks, and a normalised schema
               model compared by name, never by OID.
- `expected`   the documented lock level and rewrite of common statements, to confirm or
               contradict what the trace observed.
- `trace`      runs one section's statements the way a migration runner would and records
               per statement: locks, rewrites, catalog changes, duration, errors.
- `roundtrip`  UP -> DOWN -> UP on a clone, snapshot comparison, pg_dump diff, data-loss probe.
- `postconditions`  schema checks after all pending migrations.
- `session`    the guarded session every target connection is: one statement per call over the
               extended protocol, a watchdog, settings verified after connecting.
- `target`     read-only access to a real database (history, schema, samples) and the opt-in
               rolled-back execution.
- `runner`     orchestrates one run; `result` holds the JSON-serialisable result.

The command, which parses the options and renders the result, is linter/check_cli.py, beside the
lint CLI; the text tables are linter/report/check_text.py. Nothing here imports linter/report/
(tests/test_layering.py).

Nothing here is imported by `pgpreflight lint`: psycopg is imported inside functions.
"""
