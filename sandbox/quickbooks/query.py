"""The QuickBooks query language, as far as the entities the sandbox holds need it
(Customer, CustomerType and the sales transactions: Invoice, SalesReceipt, CreditMemo,
RefundReceipt, Payment).

    SELECT (* | COUNT(*) | field, ...) FROM <entity>
      [WHERE condition (AND condition)*]
      [ORDERBY field [ASC|DESC] (, field [ASC|DESC])*]
      [STARTPOSITION n] [MAXRESULTS m]

condition: field (= | < | > | <= | >=) value | field IN (value, ...) | field LIKE 'pattern'.
Keywords, entity and field names are case-insensitive; string values are single-quoted
(backslash escapes a quote); booleans are true/false, bare or quoted. No OR, no
parentheses around conditions: QuickBooks has neither. Pure functions, no Django models,
so the parser is testable on its own.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

DEFAULT_MAX_RESULTS = 100
MAX_RESULTS_LIMIT = 1000
# Sandbox companies keep their books in Pacific time, like Intuit's sample company.
COMPANY_TIMEZONE = ZoneInfo("America/Los_Angeles")

STRING, BOOLEAN, INTEGER, DATETIME, DATE = "string", "boolean", "integer", "datetime", "date"
# The queryable Customer properties (canonical spelling) and their value types.
FIELDS = {
    "Id": INTEGER,
    "Active": BOOLEAN,
    "DisplayName": STRING,
    "GivenName": STRING,
    "FamilyName": STRING,
    "CompanyName": STRING,
    "PrimaryEmailAddr": STRING,
    "MetaData.CreateTime": DATETIME,
    "MetaData.LastUpdatedTime": DATETIME,
}
TRANSACTIONS = ("Invoice", "SalesReceipt", "CreditMemo", "RefundReceipt", "Payment")
_TRANSACTION_FIELDS = {
    "Id": INTEGER,
    "DocNumber": STRING,
    "TxnDate": DATE,
    "CustomerRef": INTEGER,
    "MetaData.CreateTime": DATETIME,
    "MetaData.LastUpdatedTime": DATETIME,
}
ENTITY_FIELDS = {
    "Customer": FIELDS,
    "CustomerType": {
        "Id": INTEGER,
        "Name": STRING,
        "Active": BOOLEAN,
        "MetaData.CreateTime": DATETIME,
        "MetaData.LastUpdatedTime": DATETIME,
    },
    **{entity: _TRANSACTION_FIELDS for entity in TRANSACTIONS},
}
ENTITIES = {name.lower(): name for name in ENTITY_FIELDS}
_ALIASES = {"primaryemailaddr.address": "PrimaryEmailAddr", "customerref.value": "CustomerRef"}
COMPARISONS = ("=", "<", ">", "<=", ">=")
_OPERATORS_BY_TYPE = {
    STRING: {*COMPARISONS, "IN", "LIKE"},
    INTEGER: {*COMPARISONS, "IN"},
    DATE: {*COMPARISONS, "IN"},
    DATETIME: {*COMPARISONS, "IN"},
    BOOLEAN: {"=", "IN"},
}
KEYWORDS = {
    "select",
    "from",
    "where",
    "and",
    "in",
    "like",
    "orderby",
    "asc",
    "desc",
    "startposition",
    "maxresults",
    "count",
}

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<string>'(?:[^'\\]|\\.)*')
    | (?P<number>\d+)
    | (?P<operator><=|>=|!=|<>|=|<|>)
    | (?P<punct>[(),*])
    | (?P<word>[A-Za-z_][A-Za-z0-9_.]*)
    )""",
    re.VERBOSE,
)


class QueryParserError(Exception):
    """The text is not a query (QuickBooks' code 4000)."""


class QueryValidationError(Exception):
    """A well-formed query about something not queryable (QuickBooks' code 4001)."""


class UnsupportedEntity(Exception):
    """A query on an entity the sandbox does not hold."""


Value = str | int | bool | datetime | date


@dataclass(frozen=True)
class Condition:
    field: str
    operator: str  # one of COMPARISONS, "IN" or "LIKE"
    value: Value | tuple[Value, ...]


@dataclass(frozen=True)
class Query:
    entity: str
    count: bool
    fields: tuple[str, ...] | None  # top-level properties to return; None: select *
    where: tuple[Condition, ...]
    order_by: tuple[tuple[str, bool], ...]  # (field, descending)
    start_position: int
    max_results: int

    def names(self, field: str) -> bool:
        """Whether the WHERE clause says anything about `field`."""
        return any(condition.field == field for condition in self.where)


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    column: int

    def keyword(self) -> str | None:
        lowered = self.text.lower()
        return lowered if self.kind == "word" and lowered in KEYWORDS else None


def _tokenize(text: str) -> list[_Token]:
    tokens = []
    position = 0
    while text[position:].strip():
        match = _TOKEN.match(text, position)
        if match is None:
            column = len(text) - len(text[position:].lstrip()) + 1
            raise QueryParserError(
                f'QueryParserError: Encountered "{text[column - 1]}" at line 1, column {column}.'
            )
        kind = match.lastgroup or ""
        tokens.append(_Token(kind, match.group(kind), match.start(kind) + 1))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str):
        self.tokens = _tokenize(text)
        self.position = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def fail(self, expecting: str) -> QueryParserError:
        token = self.peek()
        if token is None:
            return QueryParserError(
                f'QueryParserError: Encountered "<EOF>" at end of query. '
                f"Was expecting one of: {expecting}"
            )
        return QueryParserError(
            f'QueryParserError: Encountered "{token.text}" at line 1, column {token.column}. '
            f"Was expecting one of: {expecting}"
        )

    def take(self) -> _Token:
        token = self.peek()
        if token is None:
            raise self.fail("more input")
        self.position += 1
        return token

    def at_keyword(self, *keywords: str) -> bool:
        token = self.peek()
        return token is not None and token.keyword() in keywords

    def expect_keyword(self, keyword: str) -> None:
        if not self.at_keyword(keyword):
            raise self.fail(f'"{keyword.upper()}"')
        self.position += 1

    def expect_punct(self, punct: str) -> None:
        token = self.peek()
        if token is None or token.kind != "punct" or token.text != punct:
            raise self.fail(f'"{punct}"')
        self.position += 1

    def at_punct(self, punct: str) -> bool:
        token = self.peek()
        return token is not None and token.kind == "punct" and token.text == punct

    def identifier(self) -> str:
        token = self.peek()
        if token is None or token.kind != "word" or token.keyword():
            raise self.fail("<IDENTIFIER>")
        self.position += 1
        return token.text

    def integer(self) -> int:
        token = self.peek()
        if token is None or token.kind != "number":
            raise self.fail("<INTEGER>")
        self.position += 1
        return int(token.text)

    def literal(self) -> _Token:
        token = self.peek()
        if token is None or (
            token.kind not in ("string", "number")
            and not (token.kind == "word" and token.text.lower() in ("true", "false"))
        ):
            raise self.fail("<STRING>, <INTEGER>, true, false")
        self.position += 1
        return token


def parse(text: str) -> Query:
    """Parse a query; raises QueryParserError, UnsupportedEntity or QueryValidationError."""
    parser = _Parser(text)
    parser.expect_keyword("select")
    count, fields = _select_list(parser)
    parser.expect_keyword("from")
    entity = parser.identifier()
    where: list[tuple[str, str, _Token | list[_Token]]] = []
    if parser.at_keyword("where"):
        parser.take()
        where.append(_condition(parser))
        while parser.at_keyword("and"):
            parser.take()
            where.append(_condition(parser))
    order_by: list[tuple[str, bool]] = []
    if parser.at_keyword("orderby"):
        parser.take()
        order_by.append(_order_term(parser))
        while parser.at_punct(","):
            parser.take()
            order_by.append(_order_term(parser))
    start_position, max_results = 1, DEFAULT_MAX_RESULTS
    # QuickBooks takes the two paging clauses in either order.
    seen: set[str] = set()
    while parser.at_keyword("startposition", "maxresults") and len(seen) < 2:
        token = parser.peek()
        assert token is not None  # at_keyword saw it
        keyword = token.text.lower()
        if keyword in seen:
            raise parser.fail("<EOF>")
        parser.take()
        seen.add(keyword)
        if keyword == "startposition":
            start_position = max(parser.integer(), 1)
        else:
            max_results = min(parser.integer(), MAX_RESULTS_LIMIT)
    if parser.peek() is not None:
        raise parser.fail('"WHERE", "ORDERBY", "STARTPOSITION", "MAXRESULTS", <EOF>')

    canonical_entity = ENTITIES.get(entity.lower())
    if canonical_entity is None:
        raise UnsupportedEntity(entity)
    fields_of = ENTITY_FIELDS[canonical_entity]
    return Query(
        entity=canonical_entity,
        count=count,
        fields=tuple(fields) if fields is not None else None,
        where=tuple(_typed_condition(fields_of, *condition) for condition in where),
        order_by=tuple((_canonical(fields_of, name), descending) for name, descending in order_by),
        start_position=start_position,
        max_results=max_results,
    )


def _select_list(parser: _Parser) -> tuple[bool, list[str] | None]:
    if parser.at_punct("*"):
        parser.take()
        return False, None
    if parser.at_keyword("count"):
        parser.take()
        parser.expect_punct("(")
        parser.expect_punct("*")
        parser.expect_punct(")")
        return True, None
    fields = [parser.identifier()]
    while parser.at_punct(","):
        parser.take()
        fields.append(parser.identifier())
    return False, fields


def _condition(parser: _Parser) -> tuple[str, str, _Token | list[_Token]]:
    field = parser.identifier()
    token = parser.peek()
    if token is not None and token.kind == "operator":
        if token.text not in COMPARISONS:
            raise parser.fail(", ".join(f'"{operator}"' for operator in COMPARISONS))
        parser.take()
        return field, token.text, parser.literal()
    if parser.at_keyword("like"):
        parser.take()
        value = parser.literal()
        if value.kind != "string":
            raise QueryParserError(
                f"QueryParserError: LIKE takes a quoted pattern (line 1, column {value.column})."
            )
        return field, "LIKE", value
    if parser.at_keyword("in"):
        parser.take()
        parser.expect_punct("(")
        values = [parser.literal()]
        while parser.at_punct(","):
            parser.take()
            values.append(parser.literal())
        parser.expect_punct(")")
        return field, "IN", values
    raise parser.fail('"=", "<", ">", "<=", ">=", "IN", "LIKE"')


def _order_term(parser: _Parser) -> tuple[str, bool]:
    field = parser.identifier()
    descending = False
    if parser.at_keyword("asc", "desc"):
        descending = parser.take().text.lower() == "desc"
    return field, descending


def _canonical(fields_of: dict[str, str], name: str) -> str:
    lowered = _ALIASES.get(name.lower(), name).lower()
    canonical = next((field for field in fields_of if field.lower() == lowered), None)
    if canonical is None:
        raise QueryValidationError(f"QueryValidationError: property '{name}' is not queryable")
    return canonical


def _typed_condition(
    fields_of: dict[str, str], name: str, operator: str, raw: _Token | list[_Token]
) -> Condition:
    field = _canonical(fields_of, name)
    kind = fields_of[field]
    if operator not in _OPERATORS_BY_TYPE[kind]:
        raise QueryValidationError(
            f"QueryValidationError: operator {operator} is not supported for property '{field}'"
        )
    if isinstance(raw, list):
        return Condition(field, operator, tuple(_typed_value(field, kind, token) for token in raw))
    return Condition(field, operator, _typed_value(field, kind, raw))


def _typed_value(field: str, kind: str, token: _Token) -> Value:
    text = _unquote(token.text) if token.kind == "string" else token.text
    try:
        if kind == BOOLEAN:
            if text.lower() not in ("true", "false"):
                raise ValueError(text)
            return text.lower() == "true"
        if kind == INTEGER:
            number = int(text)
            if not -(2**63) <= number < 2**63:  # QuickBooks reads Ids as 64-bit numbers
                raise ValueError(text)
            return number
        if kind == DATETIME:
            return parse_time(text)
        if kind == DATE:
            return date.fromisoformat(text.strip())
    except ValueError:
        raise QueryValidationError(
            f"QueryValidationError: value {token.text} is not valid for property '{field}'"
        ) from None
    return text


def _unquote(quoted: str) -> str:
    return re.sub(r"\\(.)", r"\1", quoted[1:-1])


def parse_time(text: str) -> datetime:
    """An ISO 8601 date or date-time; without an offset it is the company's local time."""
    moment = datetime.fromisoformat(text.strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=COMPANY_TIMEZONE)
    return moment


def like_regex(pattern: str) -> str:
    """A LIKE pattern ('%' matches any run of characters) as an anchored regular expression."""
    return "^" + ".*".join(re.escape(piece) for piece in pattern.split("%")) + "$"
