"""EXPLAIN ANALYZE evidence for new indexes and application queries (`pgpreflight check`).

Modules, in the order data flows:

- `thresholds` the documented, configurable numbers behind plan lint and verdicts;
- `plan`       EXPLAIN JSON (PostgreSQL 13-18) into nodes, per-loop maths done once;
- `lint`       plan lint on after-plans, each finding pointing at its node;
- `synthesis`  rows for empty tables (CHECK lists, enums, FKs, unique columns, skew);

Nothing here is imported by `pgpreflight lint`: psycopg and sqlglot are imported inside functions.
"""
