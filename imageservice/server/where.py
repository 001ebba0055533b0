"""SQL-92 `where` clauses over catalog attributes, compiled to Python predicates without eval.

Supported: comparisons (= <> != < <= > >=), AND, OR, NOT, parentheses, [NOT] IN (...),
[NOT] BETWEEN .. AND .., [NOT] LIKE with % and _, IS [NOT] NULL, UPPER() and LOWER(), numbers,
'strings' ('' escapes a quote), `date 'YYYY-MM-DD[ hh:mm:ss]'` and `timestamp '...'` literals
(compared with date fields as epoch milliseconds, UTC). Field names are case-insensitive.
Comparisons follow SQL's three-valued logic: anything compared with NULL is unknown, and a row
matches only when the whole clause is true.
"""

from __future__ import annotations

import datetime as dt
import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from .errors import UnableToComplete

Row = Mapping[str, Any]
Predicate = Callable[[Row], bool | None]
T = TypeVar("T")

NUMBER_FIELDS = {"esriFieldTypeOID", "esriFieldTypeInteger", "esriFieldTypeSmallInteger",
                 "esriFieldTypeDouble", "esriFieldTypeSingle", "esriFieldTypeBigInteger"}
STRING_FIELDS = {"esriFieldTypeString", "esriFieldTypeGUID", "esriFieldTypeGlobalID"}
KEYWORDS = {"AND", "OR", "NOT", "IN", "BETWEEN", "LIKE", "IS", "NULL", "DATE", "TIMESTAMP"}
COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq, "<>": operator.ne, "!=": operator.ne,
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}
FUNCTIONS: dict[str, Callable[[str], str]] = {"UPPER": str.upper, "LOWER": str.lower}
TOKEN = re.compile(r"""
    \s*(?:
      (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
    | (?P<string>'(?:[^']|'')*')
    | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<quoted>"[^"]+")
    | (?P<op><=|>=|<>|!=|=|<|>|\(|\)|,|-|\+)
    )""", re.VERBOSE)
MAX_DEPTH = 64                           # nested parentheses, NOTs and functions
DATE_TEXT = re.compile(r"^\d{4}[-/]\d{2}[-/]\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")


@dataclass(frozen=True)
class Token:
    kind: str           # number, string, name, op, end
    text: str
    position: int


@dataclass(frozen=True)
class Operand:
    """A compiled value expression and its type: number, string, date or null."""
    value: Callable[[Row], Any]
    type: str
    literal: bool = False


def compile_where(text: str | None, fields: Sequence[dict]) -> Callable[[Row], bool]:
    """A predicate for `text` over rows keyed by field name; an empty clause matches every row."""
    if text is None or not text.strip():
        return lambda row: True
    predicate = Parser(text, fields).parse()
    return lambda row: predicate(row) is True


def invalid(detail: str) -> UnableToComplete:
    return UnableToComplete(f"Invalid 'where' clause: {detail}")


def tokenize(text: str) -> list[Token]:
    tokens, position = [], 0
    while True:
        match = TOKEN.match(text, position)
        if match is None or match.end() == position:
            rest = text[position:]
            if rest.strip():
                start = len(text) - len(rest.lstrip())
                if text[start] == "'":
                    raise invalid(f"unterminated string starting at position {start}.")
                raise invalid(f"unexpected character {text[start]!r} at position {start}.")
            tokens.append(Token("end", "", len(text)))
            return tokens
        kind = match.lastgroup or "end"
        tokens.append(Token(kind, match.group(kind), match.start(kind)))
        position = match.end()


def parse_date(text: str) -> int:
    """'YYYY-MM-DD[ hh:mm:ss]' (UTC) as epoch milliseconds."""
    if not DATE_TEXT.match(text):
        raise invalid(f"{text!r} is not a date (expected 'YYYY-MM-DD' or 'YYYY-MM-DD hh:mm:ss').")
    try:
        moment = dt.datetime.fromisoformat(text.replace("/", "-"))
    except ValueError:
        raise invalid(f"{text!r} is not a valid date.") from None
    return int(round(moment.replace(tzinfo=dt.timezone.utc).timestamp() * 1000))


def like_pattern(pattern: str) -> re.Pattern[str]:
    """SQL LIKE: % is any run of characters, _ is one character; matching is case-sensitive."""
    parts = [".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern]
    return re.compile("".join(parts), re.DOTALL)


def invert(predicate: Predicate) -> Predicate:
    """SQL NOT: unknown stays unknown."""
    def inverted(row: Row) -> bool | None:
        value = predicate(row)
        return None if value is None else not value
    return inverted


class Parser:
    """Recursive descent: or_expr := and_expr (OR and_expr)*; and_expr := not_expr (AND not_expr)*;
    not_expr := NOT not_expr | predicate; predicate := ( or_expr ) | operand condition."""

    def __init__(self, text: str, fields: Sequence[dict]) -> None:
        self.tokens = tokenize(text)
        self.index = 0
        self.depth = 0
        self.fields = {f["name"].lower(): f for f in fields}

    # -- token helpers
    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def keyword(self, *words: str) -> bool:
        """True (and consume) when the next token is one of the keywords."""
        token = self.current
        if token.kind == "name" and token.text.upper() in words:
            self.index += 1
            return True
        return False

    def symbol(self, *symbols: str) -> str | None:
        token = self.current
        if token.kind == "op" and token.text in symbols:
            self.index += 1
            return token.text
        return None

    def expect_symbol(self, symbol: str) -> None:
        if self.symbol(symbol) is None:
            raise self.error(f"expected {symbol!r}")

    def nested(self, parse: Callable[[], T]) -> T:
        """Parse one level deeper; a limit keeps hostile clauses from exhausting the stack."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise invalid(f"nested deeper than {MAX_DEPTH} levels at position {self.current.position}.")
        try:
            return parse()
        finally:
            self.depth -= 1

    def error(self, expected: str) -> UnableToComplete:
        token = self.current
        found = "the end of the clause" if token.kind == "end" else repr(token.text)
        return invalid(f"{expected} but found {found} at position {token.position}.")

    # -- grammar
    def parse(self) -> Predicate:
        predicate = self.or_expr()
        if self.current.kind != "end":
            raise self.error("expected AND, OR or the end of the clause")
        return predicate

    def or_expr(self) -> Predicate:
        parts = [self.and_expr()]
        while self.keyword("OR"):
            parts.append(self.and_expr())
        if len(parts) == 1:
            return parts[0]

        def any_true(row: Row) -> bool | None:
            values = [part(row) for part in parts]
            return True if True in values else None if None in values else False
        return any_true

    def and_expr(self) -> Predicate:
        parts = [self.not_expr()]
        while self.keyword("AND"):
            parts.append(self.not_expr())
        if len(parts) == 1:
            return parts[0]

        def all_true(row: Row) -> bool | None:
            values = [part(row) for part in parts]
            return False if False in values else None if None in values else True
        return all_true

    def not_expr(self) -> Predicate:
        if self.keyword("NOT"):
            return invert(self.nested(self.not_expr))
        return self.predicate()

    def predicate(self) -> Predicate:
        if self.symbol("("):
            inner = self.nested(self.or_expr)
            self.expect_symbol(")")
            return inner
        left = self.operand()
        if self.keyword("IS"):
            negate = self.keyword("NOT")
            if not self.keyword("NULL"):
                raise self.error("expected NULL after IS")
            return lambda row: (left.value(row) is None) != negate
        negate = self.keyword("NOT")
        if self.keyword("IN"):
            return self.negated(self.in_list(left), negate)
        if self.keyword("BETWEEN"):
            return self.negated(self.between(left), negate)
        if self.keyword("LIKE"):
            return self.negated(self.like(left), negate)
        if negate:
            raise self.error("expected IN, BETWEEN or LIKE after NOT")
        symbol = self.symbol(*COMPARISONS)
        if symbol is None:
            raise self.error("expected a comparison operator (=, <>, <, <=, >, >=), IN, BETWEEN, LIKE or IS")
        right = self.operand()
        left, right = self.compatible(left, right)
        compare = COMPARISONS[symbol]

        def comparison(row: Row) -> bool | None:
            a, b = left.value(row), right.value(row)
            return None if a is None or b is None else compare(a, b)
        return comparison

    @staticmethod
    def negated(predicate: Predicate, negate: bool) -> Predicate:
        return invert(predicate) if negate else predicate

    def in_list(self, left: Operand) -> Predicate:
        self.expect_symbol("(")
        values = [self.compatible(left, self.operand())[1]]
        while self.symbol(","):
            values.append(self.compatible(left, self.operand())[1])
        self.expect_symbol(")")

        def contained(row: Row) -> bool | None:
            value = left.value(row)
            if value is None:
                return None
            candidates = [v.value(row) for v in values]
            return True if value in candidates else None if None in candidates else False
        return contained

    def between(self, left: Operand) -> Predicate:
        low = self.compatible(left, self.operand())[1]
        if not self.keyword("AND"):
            raise self.error("expected AND in BETWEEN")
        high = self.compatible(left, self.operand())[1]

        def inside(row: Row) -> bool | None:
            value, a, b = left.value(row), low.value(row), high.value(row)
            return None if value is None or a is None or b is None else a <= value <= b
        return inside

    def like(self, left: Operand) -> Predicate:
        if left.type != "string":
            raise invalid(f"LIKE needs a text field or value, near position {self.current.position}.")
        token = self.current
        if token.kind != "string":
            raise self.error("expected a 'pattern' after LIKE")
        self.index += 1
        pattern = like_pattern(token.text[1:-1].replace("''", "'"))

        def matches(row: Row) -> bool | None:
            value = left.value(row)
            return None if value is None else pattern.fullmatch(value) is not None
        return matches

    def operand(self) -> Operand:
        token = self.current
        if token.kind == "op" and token.text in "-+" and self.tokens[self.index + 1].kind == "number":
            self.index += 1
            sign = -1 if token.text == "-" else 1
            return Operand(constant(sign * self.number()), "number", literal=True)
        if token.kind == "number":
            return Operand(constant(self.number()), "number", literal=True)
        if token.kind == "string":
            self.index += 1
            return Operand(constant(token.text[1:-1].replace("''", "'")), "string", literal=True)
        if token.kind == "quoted":
            self.index += 1
            return self.field(token.text[1:-1], token.position)
        if token.kind == "name":
            word = token.text.upper()
            if word in ("DATE", "TIMESTAMP") and self.tokens[self.index + 1].kind == "string":
                self.index += 1
                text = self.current.text[1:-1]
                self.index += 1
                return Operand(constant(parse_date(text)), "date", literal=True)
            if word == "NULL":
                self.index += 1
                return Operand(constant(None), "null", literal=True)
            if word in FUNCTIONS and self.tokens[self.index + 1].text == "(":
                self.index += 2
                inner = self.nested(self.operand)
                self.expect_symbol(")")
                if inner.type not in ("string", "null"):
                    raise invalid(f"{word}() needs a text value, near position {token.position}.")
                function = FUNCTIONS[word]
                return Operand(lambda row: unknown_text(inner.value(row), function), "string", inner.literal)
            if word in KEYWORDS:
                raise self.error("expected a field name or a value")
            self.index += 1
            return self.field(token.text, token.position)
        raise self.error("expected a field name or a value")

    def number(self) -> int | float:
        token = self.current
        self.index += 1
        if not math.isfinite(float(token.text)):
            raise invalid(f"the number at position {token.position} is too large.")
        return float(token.text) if any(c in token.text for c in ".eE") else int(token.text)

    def field(self, name: str, position: int) -> Operand:
        info = self.fields.get(name.lower())
        if info is None:
            raise invalid(f"unknown field {name!r} at position {position}.")
        canonical, field_type = info["name"], info["type"]
        if field_type in NUMBER_FIELDS:
            kind = "number"
        elif field_type in STRING_FIELDS:
            kind = "string"
        elif field_type == "esriFieldTypeDate":
            kind = "date"
        else:
            raise invalid(f"field {canonical!r} cannot be used in a where clause.")
        return Operand(lambda row: row.get(canonical), kind)

    @staticmethod
    def compatible(left: Operand, right: Operand) -> tuple[Operand, Operand]:
        """Check the two sides can be compared; a text literal compared with a date becomes a date."""
        if left.type == "null" or right.type == "null" or left.type == right.type:
            return left, right
        if {left.type, right.type} == {"date", "number"}:
            return left, right
        if left.type == "date" and right.type == "string" and right.literal:
            return left, Operand(constant(parse_date(right.value({}))), "date", literal=True)
        if right.type == "date" and left.type == "string" and left.literal:
            return Operand(constant(parse_date(left.value({}))), "date", literal=True), right
        raise invalid(f"cannot compare a {left.type} with a {right.type}.")


def constant(value: Any) -> Callable[[Row], Any]:
    return lambda row: value


def unknown_text(value: str | None, function: Callable[[str], str]) -> str | None:
    return None if value is None else function(value)
