"""Band arithmetic expressions (`(B4 - B3) / (B4 + B3)`), parsed by hand and evaluated with numpy.

Expressions come from requests, so they are never given to `eval`: a tokenizer and a
recursive-descent parser accept only numbers, band names `B1..Bn` (1-based, any case), the operators
`+ - * / **` (`^` is a synonym of `**`), parentheses, unary minus and the functions in `FUNCTIONS`.
Precedence follows Python: `**` binds tighter than unary minus on its left (`-B1**2` is `-(B1**2)`)
and is right-associative.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from .errors import BadParameter

MAX_LENGTH = 2000
MAX_DEPTH = 64

FUNCTIONS: dict[str, tuple[Callable[..., np.ndarray], int]] = {   # name -> (function, argument count)
    "sqrt": (np.sqrt, 1),
    "abs": (np.abs, 1),
    "exp": (np.exp, 1),
    "log": (np.log, 1),
    "log10": (np.log10, 1),
    "min": (np.minimum, 2),
    "max": (np.maximum, 2),
}
BINARY: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide, "**": np.power,
}
TOKEN = re.compile(r"(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
                   r"|(?P<op>\*\*|[-+*/^(),])")
BAND = re.compile(r"^[bB]([1-9][0-9]*)$")


@dataclass(frozen=True)
class Token:
    kind: str           # "number", "name", "op" or "end"
    text: str
    position: int


def tokenize(text: str) -> list[Token]:
    tokens = []
    position = 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position == len(text):
            break
        match = TOKEN.match(text, position)
        if match is None:
            raise syntax_error(f"unexpected character '{text[position]}'", position)
        value = match.group()
        tokens.append(Token(match.lastgroup, "**" if value == "^" else value, position))
        position = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


def syntax_error(reason: str, position: int) -> BadParameter:
    return BadParameter(f"Invalid band arithmetic expression: {reason} at position {position + 1}.")


# An expression tree: numbers, band references, operators and function calls.
@dataclass(frozen=True)
class Number:
    value: float


@dataclass(frozen=True)
class Band:
    number: int                          # 1-based


@dataclass(frozen=True)
class Negate:
    operand: Node


@dataclass(frozen=True)
class Binary:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Call:
    name: str
    arguments: tuple[Node, ...]


Node = Number | Band | Negate | Binary | Call


class Parser:
    """expression := term (('+' | '-') term)*
       term       := unary (('*' | '/') unary)*
       unary      := '-' unary | '+' unary | power
       power      := atom ('**' unary)?
       atom       := number | band | function '(' expression (',' expression)* ')' | '(' expression ')'"""

    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.index = 0
        self.depth = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.current
        self.index += 1
        return token

    def expect(self, text: str) -> None:
        if self.current.text != text or self.current.kind != "op":
            raise syntax_error(f"expected '{text}'", self.current.position)
        self.advance()

    def parse(self) -> Node:
        if self.current.kind == "end":
            raise syntax_error("empty expression", 0)
        node = self.expression()
        if self.current.kind != "end":
            raise syntax_error(f"unexpected '{self.current.text}'", self.current.position)
        return node

    def deeper(self) -> None:
        """Count a nesting level; a limit keeps hostile input from exhausting the stack."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise syntax_error("too deeply nested", self.current.position)

    def expression(self) -> Node:
        self.deeper()
        node = self.term()
        while self.current.kind == "op" and self.current.text in ("+", "-"):
            op = self.advance().text
            node = Binary(op, node, self.term())
        self.depth -= 1
        return node

    def term(self) -> Node:
        node = self.unary()
        while self.current.kind == "op" and self.current.text in ("*", "/"):
            op = self.advance().text
            node = Binary(op, node, self.unary())
        return node

    def unary(self) -> Node:
        if self.current.kind == "op" and self.current.text in ("+", "-"):
            self.deeper()
            op = self.advance().text
            operand = self.unary()
            self.depth -= 1
            return Negate(operand) if op == "-" else operand
        return self.power()

    def power(self) -> Node:
        node = self.atom()
        if self.current.kind == "op" and self.current.text == "**":
            self.advance()
            node = Binary("**", node, self.unary())
        return node

    def atom(self) -> Node:
        token = self.advance()
        if token.kind == "number":
            value = float(token.text)
            if not math.isfinite(value):
                raise syntax_error("number too large", token.position)
            return Number(value)
        if token.kind == "name":
            band = BAND.match(token.text)
            if band:
                return Band(int(band.group(1)))
            name = token.text.lower()
            if name not in FUNCTIONS:
                raise syntax_error(f"unknown name '{token.text}' (bands are B1, B2, ...)", token.position)
            return self.call(name, token)
        if token.kind == "op" and token.text == "(":
            node = self.expression()
            self.expect(")")
            return node
        what = "end of expression" if token.kind == "end" else f"'{token.text}'"
        raise syntax_error(f"unexpected {what}", token.position)

    def call(self, name: str, token: Token) -> Call:
        self.expect("(")
        arguments = [self.expression()]
        while self.current.kind == "op" and self.current.text == ",":
            self.advance()
            arguments.append(self.expression())
        self.expect(")")
        if len(arguments) != FUNCTIONS[name][1]:
            raise syntax_error(f"{name}() takes {FUNCTIONS[name][1]} argument(s)", token.position)
        return Call(name, tuple(arguments))


@dataclass(frozen=True)
class Expression:
    """A parsed expression: the bands it reads and a numpy evaluator."""
    root: Node

    @property
    def bands(self) -> list[int]:
        """The 1-based band numbers used, sorted."""
        found: set[int] = set()
        stack = [self.root]
        while stack:
            node = stack.pop()
            if isinstance(node, Band):
                found.add(node.number)
            elif isinstance(node, Negate):
                stack.append(node.operand)
            elif isinstance(node, Binary):
                stack.extend((node.left, node.right))
            elif isinstance(node, Call):
                stack.extend(node.arguments)
        return sorted(found)

    def evaluate(self, bands: Mapping[int, np.ndarray]) -> np.ndarray:
        """The value for every pixel; division by zero and domain errors give inf/nan, not exceptions."""
        values = {number: np.asarray(band, dtype=np.float64) for number, band in bands.items()}
        with np.errstate(all="ignore"):
            return np.asarray(evaluate(self.root, values), dtype=np.float64)


def evaluate(node: Node, bands: Mapping[int, np.ndarray]) -> np.ndarray | float:
    if isinstance(node, Number):
        return node.value
    if isinstance(node, Band):
        return bands[node.number]
    if isinstance(node, Negate):
        return np.negative(evaluate(node.operand, bands))
    if isinstance(node, Binary):
        return BINARY[node.op](evaluate(node.left, bands), evaluate(node.right, bands))
    function = FUNCTIONS[node.name][0]
    return function(*(evaluate(argument, bands) for argument in node.arguments))


def parse(text: str) -> Expression:
    """Parse a band arithmetic expression; syntax errors raise BadParameter naming the position."""
    if len(text) > MAX_LENGTH:
        raise BadParameter(f"Invalid band arithmetic expression: longer than {MAX_LENGTH} characters.")
    return Expression(Parser(text).parse())
