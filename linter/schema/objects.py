"""The objects of the schema model: small frozen records, plus the mutable `Table`.

Everything except `Table` and `SchemaModel` is immutable, so two models can share them freely;
`Table` is shared too and copied by the model on its first write after `SchemaModel.copy()`
(copy-on-write), which keeps snapshots before and after every migration cheap.
Names are stored as PostgreSQL stores them (unquoted identifiers folded to lower case); tables,
views, sequences, types and functions are keyed by their schema-qualified name (`public.users`).
Expressions (defaults, CHECK and generated expressions, index expressions and predicates,
partition bounds) are `expression.Expression`s: their parse trees, printed when first read.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from pgpreflight.linter.names import DEFAULT_SCHEMA as DEFAULT_SCHEMA
from pgpreflight.linter.names import qualified, short

if TYPE_CHECKING:
    from .expression import Expression

# One naming convention for the whole project: the model keys and shows objects as rules do.
qualify = qualified
display = short


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    """The type as `format_type()` prints it: `character varying(120)`, `timestamptz` as
    `timestamp with time zone`."""
    not_null: bool = False
    default: Expression | None = None
    identity: str | None = None
    """`always` or `by default` for identity columns."""
    generated: Expression | None = None
    """Expression of a `GENERATED ALWAYS AS (...) STORED` column."""
    collation: str | None = None
    # the name given to its NOT NULL constraint (PostgreSQL 18 catalogues NOT NULL as a named
    # constraint; unnamed, it is `<table>_<column>_not_null`); not compared: a name alone
    # changes no behaviour
    not_null_name: str | None = field(default=None, compare=False)
    comment: str | None = field(default=None, compare=False)
    location: Any = field(default=None, compare=False, repr=False)


PRIMARY_KEY = "primary key"
FOREIGN_KEY = "foreign key"
UNIQUE = "unique"
CHECK = "check"
EXCLUDE = "exclude"


@dataclass(frozen=True)
class Constraint:
    name: str
    kind: str
    """One of `primary key`, `foreign key`, `unique`, `check`, `exclude`."""
    columns: tuple[str, ...] = ()
    expression: Expression | None = None
    """CHECK expression, or the `element WITH operator` list of an EXCLUDE constraint."""
    ref_table: str | None = None
    ref_columns: tuple[str, ...] = ()
    on_delete: str | None = None
    on_update: str | None = None
    match: str | None = None
    validated: bool = True
    """False while a constraint added `NOT VALID` has not been validated."""
    deferrable: bool = False
    initially_deferred: bool = False
    nulls_not_distinct: bool = False
    uses: frozenset[str] = field(default=frozenset(), compare=False, repr=False)
    """Every column the constraint depends on (key columns and columns in its expression)."""
    location: Any = field(default=None, compare=False, repr=False)

    @property
    def has_index(self) -> bool:
        """PRIMARY KEY, UNIQUE and EXCLUDE constraints are backed by an index of the same name."""
        return self.kind in (PRIMARY_KEY, UNIQUE, EXCLUDE)


@dataclass(frozen=True)
class IndexElement:
    column: str | None = None
    expression: Expression | None = None
    opclass: str | None = None
    collation: str | None = None
    descending: bool = False
    nulls: str | None = None
    """`first` or `last` when given explicitly."""

    @property
    def text(self) -> str:
        """The column name, or the expression in parentheses as `pg_get_indexdef` writes it."""
        return self.column if self.column is not None else f"({self.expression})"


@dataclass(frozen=True)
class Index:
    name: str
    table: str
    """Qualified name of the indexed table."""
    elements: tuple[IndexElement, ...] = ()
    method: str = "btree"
    unique: bool = False
    primary: bool = False
    predicate: Expression | None = None
    include: tuple[str, ...] = ()
    constraint: str | None = None
    """Name of the PRIMARY KEY / UNIQUE / EXCLUDE constraint this index backs."""
    nulls_not_distinct: bool = False
    uses: frozenset[str] = field(default=frozenset(), compare=False, repr=False)
    """Every column the index depends on (keys, expressions, INCLUDE, predicate)."""
    location: Any = field(default=None, compare=False, repr=False)

    @property
    def schema(self) -> str:
        return self.table.split(".", 1)[0]

    @property
    def qualified_name(self) -> str:
        return qualify(self.schema, self.name)

    @property
    def columns(self) -> tuple[str, ...]:
        """Key columns in order; expressions appear as `(expr)`."""
        return tuple(e.text for e in self.elements)

    @property
    def opclasses(self) -> tuple[str | None, ...]:
        return tuple(e.opclass for e in self.elements)


@dataclass(frozen=True)
class Trigger:
    name: str
    table: str
    function: str
    timing: str
    """`before`, `after` or `instead of`."""
    events: tuple[str, ...]
    for_each_row: bool = False
    enabled: bool = True
    """False after `ALTER TABLE ... DISABLE TRIGGER` (a DOWN may have to enable it again)."""
    location: Any = field(default=None, compare=False, repr=False)


@dataclass
class Table:
    """A table, partitioned table or partition. Mutable only through `SchemaModel`."""

    schema: str
    name: str
    columns: dict[str, Column] = field(default_factory=dict)
    constraints: dict[str, Constraint] = field(default_factory=dict)
    indexes: dict[str, Index] = field(default_factory=dict)
    triggers: dict[str, Trigger] = field(default_factory=dict)
    partition_by: str | None = None
    """`RANGE (created_at)` for a partitioned table."""
    partition_of: str | None = None
    """Qualified name of the parent when this table is a partition."""
    partition_bound: Expression | None = None
    persistence: str = "permanent"
    comment: str | None = None
    location: Any = field(default=None, compare=False, repr=False)

    @property
    def qualified_name(self) -> str:
        return qualify(self.schema, self.name)

    @property
    def kind(self) -> str:
        if self.partition_by is not None:
            return "partitioned table"
        return "partition" if self.partition_of else "table"

    @property
    def primary_key(self) -> Constraint | None:
        return next((c for c in self.constraints.values() if c.kind == PRIMARY_KEY), None)

    @property
    def foreign_keys(self) -> list[Constraint]:
        return [c for c in self.constraints.values() if c.kind == FOREIGN_KEY]

    def not_null_constraint(self, name: str) -> Column | None:
        """The NOT NULL column whose (PostgreSQL 18) constraint is called `name`."""
        for column in self.columns.values():
            if column.not_null and name == self.not_null_name_of(column):
                return column
        return None

    def not_null_name_of(self, column: Column) -> str:
        """The name of `column`'s NOT NULL constraint: given, or `<table>_<column>_not_null`."""
        from .names import make_object_name

        return column.not_null_name or make_object_name(self.name, column.name, "not_null")

    def with_not_null_names(self) -> dict[str, Column]:
        """The columns with the names of their NOT NULL constraints written out: PostgreSQL 18
        names the constraint once, and keeps the name when the column or the table is renamed,
        and in a copy made by LIKE or PARTITION OF."""
        return {
            name: replace(column, not_null_name=self.not_null_name_of(column))
            if column.not_null and column.not_null_name is None
            else column
            for name, column in self.columns.items()
        }

    def clone(self) -> Table:
        """A copy whose dictionaries can be changed without touching this one."""
        return Table(
            schema=self.schema,
            name=self.name,
            columns=dict(self.columns),
            constraints=dict(self.constraints),
            indexes=dict(self.indexes),
            triggers=dict(self.triggers),
            partition_by=self.partition_by,
            partition_of=self.partition_of,
            partition_bound=self.partition_bound,
            persistence=self.persistence,
            comment=self.comment,
            location=self.location,
        )

    def same_definition(self, other: Table) -> bool:
        """Equal apart from name and schema (used to recognise renames)."""
        return (
            self.columns == other.columns
            and self.constraints == other.constraints
            and self.indexes.keys() == other.indexes.keys()
            and self.partition_by == other.partition_by
        )


@dataclass(frozen=True)
class Sequence:
    schema: str
    name: str
    data_type: str = "bigint"
    owned_by: tuple[str, str] | None = None
    """(qualified table, column) for serial, identity and `OWNED BY` sequences."""
    identity: bool = False
    location: Any = field(default=None, compare=False, repr=False)

    @property
    def qualified_name(self) -> str:
        return qualify(self.schema, self.name)


@dataclass(frozen=True)
class EnumType:
    schema: str
    name: str
    values: tuple[str, ...] = ()
    location: Any = field(default=None, compare=False, repr=False)

    kind = "enum"

    @property
    def qualified_name(self) -> str:
        return qualify(self.schema, self.name)


@dataclass(frozen=True)
class Domain:
    schema: str
    name: str
    base_type: str
    not_null: bool = False
    default: Expression | None = None
    checks: tuple[tuple[str, Expression], ...] = ()
    """(constraint name, expression) pairs."""
    location: Any = field(default=None, compare=False, repr=False)

    kind = "domain"

    @property
    def qualified_name(self) -> str:
        return qualify(self.schema, self.name)


@dataclass(frozen=True)
class CompositeType:
    """`CREATE TYPE name AS (attribute type, ...)`."""

    schema: str
    name: str
    attributes: tuple[tuple[str, str], ...] = ()
    """(name, type) pairs, in order."""
    location: Any = field(default=None, compare=False, repr=False)

    kind = "composite"

    @property
    def qualified_name(self) -> str:
        return qualify(self.schema, self.name)


UserType = EnumType | Domain | CompositeType


@dataclass(frozen=True)
class View:
    schema: str
    name: str
    query: Any
    """The query's SQL text: an `expression.Deparsed` (printed when first read) or a plain str."""
    materialized: bool = False
    depends_on: frozenset[str] = field(default=frozenset(), compare=False, repr=False)
    """Qualified names of the tables and views its query reads (DROP ... CASCADE drops it)."""
    columns: tuple[Column, ...] = field(default=(), compare=False, repr=False)
    """Columns as far as the query shows them (see `derive`)."""
    location: Any = field(default=None, compare=False, repr=False)

    @property
    def qualified_name(self) -> str:
        return qualify(self.schema, self.name)


@dataclass(frozen=True)
class Function:
    schema: str
    name: str
    arguments: tuple[str, ...]
    """Input argument types, which with the name identify the function."""
    returns: str | None
    language: str | None = None
    procedure: bool = False
    location: Any = field(default=None, compare=False, repr=False)

    @property
    def signature(self) -> str:
        return f"{qualify(self.schema, self.name)}({', '.join(self.arguments)})"


@dataclass(frozen=True)
class Extension:
    name: str
    schema: str = DEFAULT_SCHEMA
    version: str | None = None
    location: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Problem:
    """A statement PostgreSQL would reject given the model (missing or duplicate object)."""

    message: str
    location: Any = None


@dataclass(frozen=True)
class Unmodelled:
    """A statement (or part of one) the model did not apply, and why."""

    kind: str
    reason: str
    location: Any = None
