"""Expression and query texts the schema model prints only when they are read.

pglast's printer is pure Python (it first walks the whole tree to note each node's ancestors,
then prints it). A replay meets thousands of column defaults, CHECK expressions, index
expressions and predicates, yet shows only the few a finding mentions, and compares the others
by their trees (`diff.expression_key`): printing each as the replay met it was a third of the
replay. The model keeps their parse trees instead, and prints a text the first time it is read.
"""

from __future__ import annotations

import re
from typing import Any

from pglast import ast
from pgpreflight.linter.names import DEFAULT_SCHEMA

from .names import deparse, nodes_of, split_name

State = tuple[Any, ...]
"""What a saved replay state holds of an expression: its tree as plain data, or its text."""

_CAST = re.compile(r"::\s*(\"[^\"]+\"|[a-z_][a-z0-9_. ]*)(\(\d+(\s*,\s*\d+)?\))?(\[\])?", re.I)


class Expression:
    """The SQL text of an expression, printed from its parse tree the first time it is read.

    Made from a node (what the replay meets) or from text (what the model writes itself, such
    as `nextval('seq'::regclass)`). Two expressions are equal when their trees are equal
    (positions aside), or else when their texts are; `key` is what `diff.expression_key`
    compares, taken from the tree without printing it."""

    __slots__ = ("_canonical", "_node", "_text", "_tree")

    def __init__(self, node: Any = None, text: str | None = None) -> None:
        self._node = node
        self._text = text
        self._tree: dict[str, Any] | None = None
        self._canonical: Any = None

    @classmethod
    def of_text(cls, text: str) -> Expression:
        return cls(text=text)

    @property
    def node(self) -> Any:
        """The parse tree it was made from, or None for an expression made from text."""
        if self._node is None and self._tree is not None:
            from pgpreflight.linter.parser import LOCK

            kind = getattr(ast, str(self._tree.get("@")), None)  # from a saved replay state
            if not (isinstance(kind, type) and issubclass(kind, ast.Node)):
                raise ValueError(f"not a parse tree: {self._tree.get('@')!r}")
            with LOCK:  # pglast's checks build the child nodes: never while they are off
                self._node = kind(self._tree)
            self._tree = None
        return self._node

    @property
    def tree(self) -> Any:
        """The parse tree; for an expression made from text, the text read back (None when
        pglast does not read it as one expression)."""
        node = self.node
        return node if node is not None else self._read(str(self))

    @staticmethod
    def _read(text: str) -> Any:
        """The tree of expression text as `SELECT text` reads it, or None when it is not one
        plain expression."""
        from pgpreflight.linter.parser import parse_sql

        try:
            stmt = parse_sql(f"SELECT {text}")[0].stmt
        except Exception:  # pglast.parser.ParseError
            return None
        targets = stmt.targetList if isinstance(stmt, ast.SelectStmt) else None
        if not targets or len(targets) != 1 or not isinstance(targets[0], ast.ResTarget):
            return None
        if stmt.fromClause or stmt.whereClause or stmt.groupClause or stmt.havingClause:
            return None
        target = targets[0]
        return None if target.name or target.indirection else target.val

    @property
    def key(self) -> Any:
        """`canonical` of the tree (the text, loosened, when there is none), kept: models share
        their objects, so a diff asks the same expression again and again."""
        if self._canonical is None:
            tree = self.tree
            self._canonical = canonical(tree) if tree is not None else loosened(str(self))
        return self._canonical

    def calls(self, function: str) -> bool:
        """Whether the expression is a call of `function` (unqualified or `pg_catalog.`),
        answered without printing it."""
        node = self.node
        if node is None:
            return str(self).startswith(f"{function}(")
        return isinstance(node, ast.FuncCall) and split_name(node.funcname) in (
            (None, function),
            ("pg_catalog", function),
        )

    def with_column_renamed(self, old: str, new: str) -> Expression:
        """The expression with its references to column `old` naming `new`: a new tree (this
        one belongs to the statement that wrote it), not printed."""
        tree = self.tree
        if tree is None or not any(_names(ref, old) for ref in nodes_of(tree, ast.ColumnRef)):
            return self
        if tree is self.node:
            from pgpreflight.linter.parser import LOCK

            with LOCK:  # pglast's checks build the child nodes: never while they are off
                tree = type(tree)(tree())
        for ref in nodes_of(tree, ast.ColumnRef):
            if _names(ref, old):
                ref.fields = (*(ref.fields or ())[:-1], ast.String(sval=new))
        return Expression(tree)

    def __getstate__(self) -> State:
        """The tree as plain data (pglast's own serialisation), or the text once printed: a
        saved replay state (linter/replay.py) holds no parse-tree objects, and is not made to
        print every expression of the history."""
        if self._text is not None or self.node is None:
            return None, self._text
        return self.node(), None

    def __setstate__(self, state: State) -> None:
        self._tree, self._text = state[0], state[1]
        self._node = None
        self._canonical = None

    def __str__(self) -> str:
        if self._text is None:
            self._text = deparse(self.node)
        return self._text

    def __repr__(self) -> str:
        return repr(str(self))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Expression):
            if self is other:
                return True
            mine, theirs = self.node, other.node
            if mine is not None and theirs is not None and (mine is theirs or mine == theirs):
                # Equal trees (pglast's comparison: positions and how a call or a row is
                # written aside) are one expression, known without printing either. Different
                # trees are rare here, and may still print alike: the texts decide.
                return True
        if isinstance(other, (Expression, str)):
            return str(self) == str(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(str(self))


class Deparsed(Expression):
    """A view's query, printed the first time it is read.

    Printing every view of a long history while replaying it was a third of a lint run, yet
    only the views a DOWN touches are ever compared or shown."""

    __slots__ = ("_key",)

    def __init__(
        self, node: Any = None, key: str | None = None, *, text: str | None = None
    ) -> None:
        super().__init__(node, text)
        # The statement's text, whitespace folded: two views made by statements written alike
        # are equal without comparing (let alone printing) their trees, which was most of
        # down-does-not-revert's time on histories whose DOWNs re-create views.
        self._key = key

    @staticmethod
    def key_of(location: Any) -> str | None:
        """The comparison key of what the statement at `location` made (see `__init__`)."""
        text = getattr(location, "text", None)
        return " ".join(text.split()) if isinstance(text, str) else None

    @staticmethod
    def _read(text: str) -> Any:
        from pgpreflight.linter.parser import parse_sql

        try:
            return parse_sql(text)[0].stmt
        except Exception:  # pglast.parser.ParseError
            return None

    def __getstate__(self) -> State:
        return (*super().__getstate__(), self._key)

    def __setstate__(self, state: State) -> None:
        super().__setstate__(state)
        self._key = state[2]

    def __eq__(self, other: object) -> bool:
        # Unlike other expressions, two views with different trees are not printed to compare
        # their texts: a view is a large tree, and equal texts from different trees (what
        # pglast's comparison ignores aside) are left to `diff`'s loose comparison.
        if isinstance(other, Deparsed):
            if self is other or (self._key is not None and self._key == other._key):
                return True
            if self.node is not None and other.node is not None:
                return bool(self.node == other.node)
        return super().__eq__(other)

    def __hash__(self) -> int:
        return hash(str(self))


def column_default(node: Any) -> Expression | None:
    """A column default; `nextval('seq')` is written as PostgreSQL stores it,
    `nextval('seq'::regclass)`, so a serial column and its hand-written equivalent compare equal.
    `DEFAULT NULL` (even cast) is no default at all: PostgreSQL does not store it."""
    bare = node.arg if isinstance(node, ast.TypeCast) else node
    if isinstance(bare, ast.A_Const) and bare.isnull:
        return None
    if (
        isinstance(node, ast.FuncCall)
        and split_name(node.funcname) in ((None, "nextval"), ("pg_catalog", "nextval"))
        and node.args
        and len(node.args) == 1
        and isinstance(node.args[0], ast.A_Const)
        and isinstance(node.args[0].val, ast.String)
    ):
        sequence = str(node.args[0].val.sval)
        if sequence.startswith(DEFAULT_SCHEMA + "."):
            sequence = sequence[len(DEFAULT_SCHEMA) + 1 :]
        return Expression.of_text(f"nextval('{sequence}'::regclass)")
    return Expression(node)


def optional(node: Any) -> Expression | None:
    """`Expression(node)`, or None for no node (an optional clause left out)."""
    return None if node is None else Expression(node)


def ignored(node: ast.Node) -> Any:
    """The attributes of `node` pglast's own comparison of trees leaves out: positions, and how
    a call is written (`TRIM(BOTH FROM x)` is `pg_catalog.btrim(x)` printed back)."""
    return getattr(type(node), "_ATTRS_TO_IGNORE_IN_COMPARISON", ("location",))


def canonical(value: Any) -> Any:
    """A parse tree as nested tuples, without what `diff.expression_key` ignores (positions and
    the like, see `ignored`, casts, the schema of `public.`/`pg_catalog.` functions, case):
    equal for equal definitions, and for a tree and its printed text read back."""
    if isinstance(value, ast.TypeCast):
        return canonical(value.arg)
    if isinstance(value, ast.Node):
        parts: list[Any] = [type(value).__name__]
        skipped = ignored(value)
        for attr in value:
            if attr in skipped:
                continue
            item = getattr(value, attr)
            if attr == "funcname" and isinstance(value, ast.FuncCall):
                item = unqualified(item)
            parts.append(canonical(item))
        return tuple(parts)
    if isinstance(value, (tuple, list)):
        return tuple(canonical(item) for item in value)
    if isinstance(value, str):
        return value.lower()
    return value


def unqualified(names: Any) -> Any:
    """A function name without `public.`/`pg_catalog.` (what `canonical` leaves out)."""
    if names and len(names) > 1 and getattr(names[0], "sval", None) in ("public", "pg_catalog"):
        return names[1:]
    return names


def loosened(text: str) -> str:
    """Text pglast does not read back, as it is compared: casts, case and spacing aside."""
    return re.sub(r"\s+", " ", _CAST.sub("", text)).strip().lower()


def _names(ref: ast.ColumnRef, column: str) -> bool:
    fields = ref.fields or ()
    return bool(fields) and isinstance(fields[-1], ast.String) and fields[-1].sval == column
