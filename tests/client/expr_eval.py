"""A small evaluator for the subset of expr-lang our retry expressions use.

Supports ``==``, ``!=``, ``&&``, ``||``, ``!``, ``matches`` (RE2-style search,
as expr's ``matches`` does), parentheses, string literals with JSON escapes and
dotted variables such as ``lastRetry.message``. Anything else is a syntax error,
so a generated expression outside this subset fails the tests instead of being
guessed at.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<op>==|!=|&&|\|\||!|\(|\))
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
    )""",
    re.VERBOSE,
)


class ExprSyntaxError(ValueError):
    pass


@dataclass(frozen=True)
class _Token:
    kind: str
    value: str


def tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if not match:
            raise ExprSyntaxError(f"unexpected input at {pos}: {text[pos : pos + 20]!r}")
        kind = match.lastgroup
        assert kind is not None
        tokens.append(_Token(kind, match.group(kind)))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[_Token], variables: dict[str, str]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.variables = variables

    def peek(self) -> _Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, value: str | None = None) -> _Token:
        token = self.peek()
        if token is None or (value is not None and token.value != value):
            raise ExprSyntaxError(f"expected {value or 'a token'} at token {self.pos}, got {token}")
        self.pos += 1
        return token

    def parse(self) -> bool:
        result = self.or_()
        if self.peek() is not None:
            raise ExprSyntaxError(f"trailing input at token {self.pos}: {self.peek()}")
        return result

    def or_(self) -> bool:
        value = self.and_()
        while (token := self.peek()) is not None and token.value == "||":
            self.take()
            right = self.and_()
            value = value or right
        return value

    def and_(self) -> bool:
        value = self.unary()
        while (token := self.peek()) is not None and token.value == "&&":
            self.take()
            right = self.unary()
            value = value and right
        return value

    def unary(self) -> bool:
        token = self.peek()
        if token is not None and token.value == "!":
            self.take()
            return not self.unary()
        return self.comparison()

    def comparison(self) -> bool:
        token = self.peek()
        if token is not None and token.value == "(":
            self.take("(")
            value = self.or_()
            self.take(")")
            return value
        left = self.operand()
        op = self.take()
        right = self.operand()
        if op.value == "==":
            return left == right
        if op.value == "!=":
            return left != right
        if op.value == "matches":
            return re.search(right, left) is not None
        raise ExprSyntaxError(f"unsupported operator {op.value!r}")

    def operand(self) -> str:
        token = self.take()
        if token.kind == "string":
            value: str = json.loads(token.value)
            return value
        if token.kind == "name" and token.value in self.variables:
            return self.variables[token.value]
        raise ExprSyntaxError(f"unknown operand {token.value!r}")


def evaluate(expression: str, variables: dict[str, str]) -> bool:
    """Evaluate ``expression`` with ``variables`` (``{"lastRetry.message": ...}``)."""
    return _Parser(tokenize(expression), variables).parse()


def last_retry(*, status: str = "Failed", exit_code: str = "1", message: str = "") -> dict[str, str]:
    """The ``lastRetry.*`` variables Argo gives a retry expression."""
    return {"lastRetry.status": status, "lastRetry.exitCode": exit_code, "lastRetry.message": message}
