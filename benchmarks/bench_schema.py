"""Is linting with the schema model linear in the number of migrations?

Generates histories of 100 and 1,000 migrations (each creates a table with a foreign key to an
earlier one, then alters, indexes, renames and drops things, with a DOWN that reverts it),
and times (1) replaying the schema model alone, snapshotting before every migration as the
engine does (parse trees frozen out of the garbage collector's way, see `time_model`), and
(2) the whole `lint` run with the default rules plus the three
reversibility rules. Prints migrations per second for each size and the ratio of the times,
which stays close to 10 when the cost per migration does not grow with the history.

    python benchmarks/bench_schema.py [--sizes 100 1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pgpreflight.linter.config import Config, validate
from pgpreflight.linter.discovery import discover
from pgpreflight.linter.engine import lint
from pgpreflight.linter.schema import SchemaModel

EXTRA_RULES = ["down-does-not-revert", "irreversible-data-loss", "down-not-idempotent"]


def migration_sql(i: int) -> str:
    parent = f"t{i - 1}" if i > 0 else None
    fk = f",\n    parent_id bigint REFERENCES {parent} (id) ON DELETE CASCADE" if parent else ""
    return f"""-- UP
CREATE TABLE t{i} (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    nome varchar(120) NOT NULL CHECK (btrim(nome) <> ''),
    status text NOT NULL DEFAULT 'novo',
    created_at timestamptz NOT NULL DEFAULT now(){fk}
);
CREATE INDEX idx_t{i}_status ON t{i} (status, created_at);
ALTER TABLE t{i} ADD COLUMN cidade text,
    ADD CONSTRAINT ck_t{i}_status CHECK (status IN ('novo', 'ok'));
ALTER TABLE t{i} RENAME COLUMN cidade TO municipio;
COMMENT ON TABLE t{i} IS 'generated';

-- DOWN
DROP TABLE IF EXISTS t{i};
"""


def write_history(directory: Path, count: int) -> None:
    for i in range(count):
        (directory / f"{202401010000 + i:012d}__m{i}.sql").write_text(migration_sql(i))


def time_model(directory: Path) -> float:
    migrations = discover([directory], "auto")
    for migration in migrations:  # sections parse on first use: parse before the clock starts
        _ = migration.up.statements
    # The parse trees are the parser's, not the model's: keep the cyclic garbage collector from
    # walking them again and again while the model grows, so the figure is the model's own cost.
    gc.collect()
    gc.freeze()
    try:
        return _replay(migrations)
    finally:
        gc.unfreeze()


def _replay(migrations: list[Any]) -> float:
    start = time.perf_counter()
    model = SchemaModel()
    snapshots = []
    for migration in migrations:
        snapshots.append(model.copy())
        for statement in migration.up.statements:
            model.apply(statement.node, location=statement)
    assert not model.problems, model.problems[:3]
    return time.perf_counter() - start


def time_lint(directory: Path) -> float:
    config = Config(root=directory)
    config.values = validate({"extend-select": EXTRA_RULES}, where="benchmark")
    gc.collect()  # the previous run's garbage is not this run's cost
    start = time.perf_counter()
    lint([directory], config)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", type=int, nargs=2, default=[100, 1000], metavar=("SMALL", "LARGE")
    )
    parser.add_argument("--repeat", type=int, default=5, help="best of N runs (default 5)")
    args = parser.parse_args()
    results: dict[str, dict[int, float]] = {"schema model": {}, "lint": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            directory = Path(tmp) / str(size)
            directory.mkdir()
            write_history(directory, size)
            results["schema model"][size] = min(time_model(directory) for _ in range(args.repeat))
            results["lint"][size] = min(time_lint(directory) for _ in range(args.repeat))
    small, large = args.sizes
    for what, times in results.items():
        for size in args.sizes:
            print(
                f"{what:>12}: {size:>5} migrations in {times[size]:8.3f} s = "
                f"{size / times[size]:9.1f} migrations/s"
            )
        print(
            f"{what:>12}: time ratio {large}/{small} = {times[large] / times[small]:.2f} (linear: "
            f"{large / small:.0f})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
