"""`pgpreflight lsp` as an editor sees it: time from a keystroke to its diagnostics.

    python benchmarks/bench_lsp.py PROJECT [--edits 20] [--position newest,middle,200]

PROJECT is a folder with a pgpreflight.toml naming its migrations (lemmy's, see README.md).
The server is started over stdio as an editor starts it (pygls's client, the `lsp` extra); for
each chosen migration file (`newest`: the last migration's first file; `middle`: the one halfway
through the history; a number: that migration, counting from 1) it prints:

- open: didOpen to the first diagnostics, the first analysis (the whole history read, parsed and
  replayed; the next file opened reuses it);
- edit: `--edits` incremental changes (a comment line inserted, or a statement changed), each
  timed from didChange to the publishDiagnostics of that document version, as median, 90th
  percentile and maximum, checked against the 200 ms target.

The timings are wall clock on the client's side: JSON-RPC framing, the server's queue and
the lint itself, what an editor waits for. Nothing is written to PROJECT: the edits live in
the editor's buffer only.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

TARGET_MS = 200.0


class Editor:
    """The editor's side: documents it holds, diagnostics it is sent, when they arrived."""

    def __init__(self) -> None:
        self.client = LanguageClient("bench-editor", "1")
        self.arrived: dict[tuple[str, int | None], tuple[float, int]] = {}
        self.event = asyncio.Event()
        self.versions: dict[str, int] = {}

        @self.client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def publish(params: types.PublishDiagnosticsParams) -> None:
            self.arrived[(params.uri, params.version)] = (
                time.perf_counter(),
                len(params.diagnostics),
            )
            self.event.set()

    async def start(self, root: Path) -> None:
        await self.client.start_io(sys.executable, "-m", "pgpreflight.linter", "lsp", cwd=root)
        await self.client.initialize_async(
            types.InitializeParams(capabilities=types.ClientCapabilities(), root_uri=root.as_uri())
        )
        self.client.initialized(types.InitializedParams())

    async def published(self, uri: str, version: int, timeout: float = 600) -> tuple[float, int]:
        async def wait() -> tuple[float, int]:
            while (uri, version) not in self.arrived:
                self.event.clear()
                await self.event.wait()
            return self.arrived[(uri, version)]

        return await asyncio.wait_for(wait(), timeout)

    async def open(self, path: Path) -> tuple[str, float, int]:
        uri = path.as_uri()
        self.versions[uri] = 1
        sent = time.perf_counter()
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                types.TextDocumentItem(uri=uri, language_id="sql", version=1, text=path.read_text())
            )
        )
        arrived, count = await self.published(uri, 1)
        return uri, arrived - sent, count

    async def change(self, uri: str, line: int, text: str) -> tuple[float, int]:
        """Insert `text` at the start of `line`; seconds until its diagnostics."""
        self.versions[uri] += 1
        version = self.versions[uri]
        at = types.Position(line=line, character=0)
        sent = time.perf_counter()
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[
                    types.TextDocumentContentChangePartial(
                        range=types.Range(start=at, end=at), text=text
                    )
                ],
            )
        )
        arrived, count = await self.published(uri, version)
        return arrived - sent, count

    async def stop(self) -> None:
        await self.client.shutdown_async(None)
        self.client.exit(None)
        await self.client.stop()


def _targets(root: Path, positions: list[str]) -> list[tuple[str, Path]]:
    from pgpreflight.linter.config import load_config
    from pgpreflight.linter.discovery import discover

    config = load_config(root / "pgpreflight.toml")
    migrations = discover(config.migration_paths(), str(config.get("convention")))
    where = {"newest": len(migrations) - 1, "middle": len(migrations) // 2}
    chosen = []
    for name in positions:
        index = int(name) - 1 if name.isdigit() else where[name]
        label = f"{name} ({index + 1}/{len(migrations)})"
        chosen.append((label, migrations[index].source.path))
    return chosen


async def bench(root: Path, edits: int, positions: list[str]) -> bool:
    editor = Editor()
    await editor.start(root)
    met = True
    print(f"pgpreflight lsp on {root.name}: {edits} edits per file, target {TARGET_MS:.0f} ms")
    print(f"{'file':<58} {'open s':>7} {'median ms':>10} {'p90 ms':>7} {'max ms':>7}  diags")
    try:
        for label, path in _targets(root, positions):
            uri, opened, count = await editor.open(path)
            times: list[float] = []
            for i in range(edits):
                # alternately a comment line and a statement the rules read, at the top
                text = f"-- edit {i}\n" if i % 2 == 0 else f"SELECT {i};\n"
                seconds, count = await editor.change(uri, 0, text)
                times.append(seconds * 1000)
            times.sort()
            p90 = times[min(len(times) - 1, int(len(times) * 0.9))]
            median = statistics.median(times)
            name = f"{label} {path.parent.name}/{path.name}"[:58]
            print(
                f"{name:<58} {opened:>7.2f} {median:>10.0f} {p90:>7.0f} {times[-1]:>7.0f}  {count}"
            )
            met = met and (not label.startswith("newest") or median < TARGET_MS)
    finally:
        await editor.stop()
    print("target met on the newest migration" if met else "target NOT met")
    return met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", type=Path)
    parser.add_argument("--edits", type=int, default=20)
    parser.add_argument("--position", default="newest,middle")
    args = parser.parse_args()
    positions = [p.strip() for p in args.position.split(",") if p.strip()]
    return 0 if asyncio.run(bench(args.project.resolve(), args.edits, positions)) else 1


if __name__ == "__main__":
    sys.exit(main())
