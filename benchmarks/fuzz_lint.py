"""Lint mutated migrations and count internal errors (exit 3): there must be none.

    python benchmarks/fuzz_lint.py [--inputs 100000] [--seed 1] [--corpus DIR ...]

Seeds are the example project's migrations and the test fixtures' SQL, plus every `.sql` file
under each `--corpus` folder (for example pglast's printer round-trip SQL, fetched outside this
repository). Each input is one seed, or two spliced, mutated a few times: bytes flipped, deleted,
duplicated or inserted, SQL fragments that stress the parser and the model (unbalanced quotes
and dollar quotes, deep parentheses, DO blocks, suppression comments, NUL and invalid UTF-8,
section markers) inserted at random places. Each is linted in this process through the CLI's own
`main()`, as one migration file of a temporary folder, with and without a guide-style section
marker. Exit codes 0, 1 and 2 are fine (2: input pgpreflight refuses, with a message); exit 3
is an internal error: its input is saved under `--keep` and the run ends with status 1.

The test suite smoke-runs this with a few hundred inputs (tests/test_properties.py).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

FRAGMENTS = [
    b"'",
    b'"',
    b"$$",
    b"$x$",
    b"/*",
    b"*/",
    b"--",
    b";",
    b"(" * 50,
    b")" * 50,
    b"\x00",
    b"\xff\xfe",
    b"\xc3",
    b"\n-- UP\n",
    b"\n-- DOWN\n",
    b"\n-- NO TRANSACTION\n",
    b"-- pgpreflight: ignore[",
    b"-- pgpreflight: ignore[require-lock-timeout] reason\n",
    b"-- squawk-ignore ban-drop-column\n",
    b"DO $$ BEGIN ",
    b" END $$;",
    b"BEGIN;",
    b"COMMIT;",
    b"CREATE INDEX CONCURRENTLY i ON t (a);",
    b"ALTER TABLE t ADD COLUMN c int NOT NULL DEFAULT random()::int;",
    b"DROP TABLE IF EXISTS t CASCADE;",
    b"CREATE TABLE t (id bigint PRIMARY KEY, a text);",
    b"\\i other.sql\n",
    b"\t",
    b"\r\n",
]


def seeds(corpora: list[Path]) -> list[bytes]:
    folders = [ROOT / "examples", ROOT / "tests" / "fixtures", *corpora]
    found = []
    for folder in folders:
        for path in sorted(folder.rglob("*.sql")):
            data = path.read_bytes()
            if 0 < len(data) < 200_000:
                found.append(data)
    return found


def mutate(rng: random.Random, data: bytes, pool: list[bytes]) -> bytes:
    buf = bytearray(data)
    if rng.random() < 0.2:  # splice with another seed
        other = rng.choice(pool)
        cut = rng.randrange(len(buf) + 1)
        buf = buf[:cut] + other[rng.randrange(len(other) + 1) :]
    for _ in range(rng.randint(1, 6)):
        where = rng.randrange(len(buf) + 1)
        action = rng.random()
        if action < 0.3 and buf:
            buf[min(where, len(buf) - 1)] = rng.randrange(256)
        elif action < 0.5 and buf:
            del buf[where : where + rng.randint(1, 40)]
        elif action < 0.6 and buf:
            start = rng.randrange(len(buf))
            buf[where:where] = buf[start : start + rng.randint(1, 200)]
        else:
            buf[where:where] = rng.choice(FRAGMENTS)
    return bytes(buf)


def lint_one(folder: Path, data: bytes, marker: bool) -> int:
    from pgpreflight.linter.cli import main

    for old in folder.iterdir():
        old.unlink()
    body = (b"-- UP\n" + data) if marker else data
    (folder / "202401010000__fuzz.sql").write_bytes(body)
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        return main(["lint", "--no-cache", "--no-color", "--quiet", str(folder)])


def run(inputs: int, seed: int, corpora: list[Path], keep: Path | None) -> tuple[int, int]:
    """(inputs linted, internal errors)."""
    rng = random.Random(seed)
    pool = seeds(corpora)
    crashes = 0
    with tempfile.TemporaryDirectory(prefix="pgpf-fuzz-") as tmp:
        folder = Path(tmp) / "migrations"
        folder.mkdir()
        for n in range(inputs):
            data = mutate(rng, rng.choice(pool), pool)
            code = lint_one(folder, data, marker=bool(n % 2))
            if code == 3:
                crashes += 1
                if keep is not None:
                    keep.mkdir(parents=True, exist_ok=True)
                    (keep / f"crash-{seed}-{n}.sql").write_bytes(data)
    return inputs, crashes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inputs", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--corpus", type=Path, action="append", default=[])
    parser.add_argument("--keep", type=Path, default=Path("fuzz-crashes"))
    args = parser.parse_args(argv)
    started = time.perf_counter()
    done, crashes = run(args.inputs, args.seed, args.corpus, args.keep)
    elapsed = time.perf_counter() - started
    print(
        f"{done} inputs from {len(seeds(args.corpus))} seeds in {elapsed:.0f} s: "
        f"{crashes} internal error(s)"
    )
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())
