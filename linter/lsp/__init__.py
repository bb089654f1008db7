"""`pgpreflight lsp`: the linter as a language server (pygls, over stdio), for VS Code, Neovim,
Helix and any editor that speaks the Language Server Protocol.

What the editor holds is what is linted: an open document's unsaved text stands in for its file
(discovery's `texts`), the rest of the history is read from disk once and kept, parsed, with the
replay states before each edited migration (`states.MemoryStates`), so a keystroke re-parses
and re-checks one migration. Only `cli` may be imported without pygls installed.
"""
