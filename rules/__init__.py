"""One module per rule; `linter.registry` discovers them. See STYLE.md for the module contract."""
