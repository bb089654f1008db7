"""Schema checks after every pending migration ran: what production would be left with.

- a foreign key without a valid index whose leading columns are the key's columns: every
  DELETE/UPDATE of the referenced row scans the referencing table;
- INVALID indexes (a failed CREATE INDEX CONCURRENTLY): maintained on every write, never used;
- NOT VALID constraints never validated: existing rows are unchecked;
- duplicate indexes: same table, same definition under another name.
"""

from __future__ import annotations

import re
from typing import Any

from pgpreflight.linter.check import catalog
from pgpreflight.linter.check.result import PostCondition

_FK_WITHOUT_INDEX_SQL = """
SELECT n.nspname, c.relname, con.conname,
       (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY k.ord)
          FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
          JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum)
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE con.contype = 'f'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND NOT EXISTS (
    SELECT 1 FROM pg_index i
    WHERE i.indrelid = con.conrelid AND i.indisvalid AND i.indpred IS NULL
      AND i.indnkeyatts >= cardinality(con.conkey)
      AND (string_to_array(i.indkey::text, ' ')::int2[])[1:cardinality(con.conkey)] @> con.conkey
      AND con.conkey @> (string_to_array(i.indkey::text, ' ')::int2[])[1:cardinality(con.conkey)]
  )
"""


def postconditions(conn: Any, snapshot: catalog.Snapshot) -> list[PostCondition]:
    out: list[PostCondition] = []
    for nsp, table, name, columns in conn.execute(_FK_WITHOUT_INDEX_SQL).fetchall():
        tbl = catalog.qualify(nsp, table)
        out.append(
            PostCondition(
                "fk-without-index",
                f"{tbl}.{name}",
                f"foreign key {name} on {tbl} ({columns}) has no index starting with its columns",
                f"CREATE INDEX CONCURRENTLY ON {tbl} ({columns})",
            )
        )
    indexes = {name: attrs for (kind, name), attrs in snapshot.items() if kind == "index"}
    for name, attrs in sorted(indexes.items()):
        if not attrs["valid"]:
            out.append(
                PostCondition(
                    "invalid-index",
                    name,
                    f"index {name} on {attrs['table']} is INVALID: written on every change, never "
                    "used",
                    f"DROP INDEX CONCURRENTLY {name}; then CREATE INDEX CONCURRENTLY again",
                )
            )
    for (kind, name), attrs in sorted(snapshot.items()):
        if kind == "constraint" and not attrs["validated"]:
            *parts, conname = catalog.split_name(name)
            table = catalog.join_name(parts)
            out.append(
                PostCondition(
                    "not-valid-constraint",
                    name,
                    f"constraint {conname} on {table} is NOT VALID: existing rows were never "
                    "checked",
                    f"ALTER TABLE {table} VALIDATE CONSTRAINT {conname}",
                )
            )
    seen: dict[tuple[str, str], str] = {}
    for name, attrs in sorted(indexes.items()):
        shape = re.sub(
            r"^CREATE (UNIQUE )?INDEX \S+ ON ", r"CREATE \1INDEX ON ", str(attrs["definition"])
        )
        key = (str(attrs["table"]), shape)
        if key in seen:
            out.append(
                PostCondition(
                    "duplicate-index",
                    name,
                    f"index {name} duplicates {seen[key]} on {attrs['table']}",
                    f"DROP INDEX CONCURRENTLY {name}",
                )
            )
        else:
            seen[key] = name
    return out
