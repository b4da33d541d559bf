"""Argo's two expression languages, read by one small bounded parser.

* expr-lang (``github.com/expr-lang/expr`` v1.17.7 in the go.mod of Argo 3.7 and 4.0) for
  ``retryStrategy.expression``: workflow/controller/operator.go ``processNodeRetries`` calls
  util/expr/argoexpr/eval.go ``EvalBool``, which compiles it with ``expr.Env`` of the retry scope.
* govaluate (``github.com/Knetic/govaluate``) for a task's or step's ``when``, after its
  ``{{...}}`` are replaced: workflow/controller/steps.go ``shouldExecute`` (3.7 and 4.0); bare
  words there are strings.

The parser knows literals, names with member access and indexes, unary and binary operators
(each dialect's own table, with its precedences), ``?:``, calls and array literals: the subset
workflows use. Closures (``#``), map literals and pipes are reported as outside that subset.
Input length and nesting depth are bounded, so no input makes it slow or deep.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

MAX_LENGTH = 16_384
MAX_DEPTH = 48
_MAX_REPEAT = 1000  # Go's regexp refuses larger repeat counts ("invalid repeat count")


class ExpressionError(ValueError):
    """An expression that does not parse (the message says where and what was expected)."""


@dataclass(frozen=True)
class Dialect:
    """One expression language: its operators and how it writes names and strings.

    Attributes:
        name: how messages name it.
        binary: binary operator -> precedence (higher binds tighter).
        right: the right-associative binary operators.
        unary: the prefix operators.
        regex: operators whose right side is a regular expression (Go's RE2 syntax).
        quotes: the string delimiters.
        dotted_words: a word may hold dots (govaluate reads ``a.b`` as one accessor token).
        calls: names may be called (``int(x)``).
    """

    name: str
    binary: Mapping[str, int]
    right: frozenset[str]
    unary: frozenset[str]
    regex: frozenset[str]
    quotes: str
    dotted_words: bool
    calls: bool
    symbols: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        operators = {op for op in (*self.binary, *self.unary) if not op.isalpha()}
        punctuation = {"(", ")", "[", "]", ",", "?", ":", ".", "?."}
        # Longest first, so that "<=" is not read as "<" "=".
        object.__setattr__(self, "symbols", tuple(sorted(operators | punctuation, key=len, reverse=True)))

    def is_word_operator(self, word: str) -> bool:
        """Whether ``word`` is an operator spelled with letters (``and``, ``matches``, ``in``)."""
        return word in self.binary or word in self.unary


#: expr-lang's operators and precedences (parser/operator/operator.go: Unary, Binary). Its
#: ``|`` (pipe) and ``..`` (range) are left out: they are outside the subset.
EXPR = Dialect(
    name="expr",
    binary={
        **dict.fromkeys(("or", "||"), 10),
        **dict.fromkeys(("and", "&&"), 15),
        **dict.fromkeys(("==", "!=", "<", ">", ">=", "<=", "in", "matches"), 20),
        **dict.fromkeys(("contains", "startsWith", "endsWith"), 20),
        **dict.fromkeys(("+", "-"), 30),
        **dict.fromkeys(("*", "/", "%"), 60),
        **dict.fromkeys(("**", "^"), 100),
        "??": 500,
    },
    right=frozenset({"**", "^"}),
    unary=frozenset({"not", "!", "-", "+"}),
    regex=frozenset({"matches"}),
    quotes="\"'`",
    dotted_words=False,
    calls=True,
)
#: govaluate's operators (OperatorSymbol.go) in its planner's order (stagePlanner.go).
GOVALUATE = Dialect(
    name="govaluate",
    binary={
        "??": 5,
        "||": 10,
        "&&": 15,
        **dict.fromkeys(("==", "!=", ">", ">=", "<", "<=", "=~", "!~", "in"), 20),
        **dict.fromkeys(("|", "^", "&"), 25),
        **dict.fromkeys(("<<", ">>"), 27),
        **dict.fromkeys(("+", "-"), 30),
        **dict.fromkeys(("*", "/", "%"), 60),
        "**": 100,
    },
    right=frozenset({"**"}),
    unary=frozenset({"-", "!", "~"}),
    regex=frozenset({"=~", "!~"}),
    quotes="\"'",
    dotted_words=True,
    calls=False,
)
# expr's `not in`, `not matches`... (operator.go: AllowedNegateSuffix).
_NEGATABLE = frozenset({"in", "matches", "contains", "startsWith", "endsWith"})
_EXPR_CONSTANTS: dict[str, object] = {"true": True, "false": False, "nil": None}
_NUMBER = re.compile(r"0[xX][0-9a-fA-F_]+|[0-9][0-9_]*(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_GOVALUATE_NUMBER = re.compile(r"0x[0-9a-fA-F]+|[0-9.]+")
_EXPR_WORD = re.compile(r"[A-Za-z_$][A-Za-z0-9_]*")
_GOVALUATE_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_.]*")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "a": "\a", "b": "\b"}
_ESCAPES |= {"f": "\f", "v": "\v", "0": "\0"}


@dataclass(frozen=True)
class Token:
    """One lexical token: ``kind`` is number, string, word, symbol, placeholder or end."""

    kind: str
    text: str
    offset: int
    value: object = None


@dataclass(frozen=True)
class Node:
    """A parsed expression.

    Attributes:
        kind: literal, name, placeholder (a ``{{...}}`` replaced before evaluation), unary,
            binary, ternary, call, array or index.
        text: the operator, or the name's dotted path.
        children: the operands (for a call, the callee then the arguments).
        value: a literal's value; for a name, its parts.
    """

    kind: str
    text: str = ""
    children: tuple[Node, ...] = ()
    value: object = None

    def walk(self) -> Iterator[Node]:
        """This node and every node below it, depth first (iteratively: no recursion limit)."""
        pending = [self]
        while pending:
            node = pending.pop()
            yield node
            pending.extend(reversed(node.children))


def tokenize(text: str, dialect: Dialect) -> list[Token]:
    """Split ``text`` into tokens; a ``{{...}}`` is one placeholder token.

    Raises:
        ExpressionError: the text is too long, or holds a character or literal the dialect lacks.
    """
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"longer than {MAX_LENGTH} characters")
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        char = text[position]
        if char.isspace():
            position += 1
            continue
        token = _read_token(text, position, dialect)
        tokens.append(token)
        position = token.offset + len(token.text)
    tokens.append(Token("end", "", len(text)))
    return tokens


def _read_token(text: str, position: int, dialect: Dialect) -> Token:
    char = text[position]
    if text.startswith("{{", position):
        end = text.find("}}", position + 2)
        if end == -1:
            raise ExpressionError(f"'{{{{' without '}}}}' at offset {position}")
        return Token("placeholder", text[position : end + 2], position)
    if char in dialect.quotes:
        return _read_string(text, position, dialect)
    if char.isdigit():
        number = (_GOVALUATE_NUMBER if dialect.dotted_words else _NUMBER).match(text, position)
        assert number is not None  # a digit always matches
        return Token("number", number.group(), position, _number_value(number.group(), position))
    word = (_GOVALUATE_WORD if dialect.dotted_words else _EXPR_WORD).match(text, position)
    if word is not None:
        return Token("word", word.group(), position)
    if dialect.dotted_words and char == "[":  # govaluate's [escaped variable]
        end = text.find("]", position)
        if end == -1:
            raise ExpressionError(f"'[' without ']' at offset {position}")
        return Token("word", text[position : end + 1], position)
    for symbol in dialect.symbols:
        if text.startswith(symbol, position):
            return Token("symbol", symbol, position)
    raise ExpressionError(f"unexpected {char!r} at offset {position} (not part of {dialect.name}'s syntax)")


def _number_value(text: str, offset: int) -> float | int:
    try:
        cleaned = text.replace("_", "")
        if cleaned.lower().startswith("0x"):
            return int(cleaned, 16)
        return float(cleaned) if any(mark in cleaned for mark in ".eE") else int(cleaned)
    except ValueError:
        raise ExpressionError(f"malformed number {text!r} at offset {offset}") from None


def _read_string(text: str, start: int, dialect: Dialect) -> Token:
    quote = text[start]
    value: list[str] = []
    position = start + 1
    while position < len(text):
        char = text[position]
        if char == quote:
            return Token("string", text[start : position + 1], start, "".join(value))
        if char == "\\" and quote != "`":
            escape = text[position + 1 : position + 2]
            if dialect.dotted_words:  # govaluate keeps the escaped character as it is
                value.append(escape)
            elif escape in _ESCAPES:
                value.append(_ESCAPES[escape])
            elif escape in ("x", "u", "U"):
                width = {"x": 2, "u": 4, "U": 8}[escape]
                digits = text[position + 2 : position + 2 + width]
                if not re.fullmatch(rf"[0-9a-fA-F]{{{width}}}", digits):
                    raise ExpressionError(f"malformed \\{escape} escape at offset {position}")
                value.append(chr(int(digits, 16)))
                position += width
            else:
                raise ExpressionError(f"invalid escape '\\{escape}' in string at offset {position}")
            position += 2
            continue
        value.append(char)
        position += 1
    raise ExpressionError(f"unterminated string starting at offset {start}")


class _Parser:
    """Precedence climbing over :func:`tokenize`'s tokens; recursion is bounded by ``MAX_DEPTH``."""

    def __init__(self, text: str, dialect: Dialect) -> None:
        self.dialect = dialect
        self.tokens = tokenize(text, dialect)
        self.position = 0
        self.depth = 0

    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.position + ahead, len(self.tokens) - 1)]

    def take(self) -> Token:
        token = self.peek()
        self.position += 1
        return token

    def expect(self, symbol: str, context: str) -> None:
        token = self.take()
        if token.text != symbol or token.kind not in ("symbol", "word"):
            raise ExpressionError(f"expected '{symbol}' {context}, got {_describe(token)}")

    def parse(self) -> Node:
        if self.peek().kind == "end":
            raise ExpressionError("empty expression")
        node = self.expression()
        if self.peek().kind != "end":
            raise ExpressionError(f"unexpected {_describe(self.peek())} after a complete expression")
        return node

    def expression(self, minimum: int = 0) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError(f"nested deeper than {MAX_DEPTH} levels")
        left = self.unary()
        while True:
            operator, width = self.binary_operator()
            if operator is None or self.dialect.binary[operator] < minimum:
                break
            operator_token = self.peek()
            self.position += width
            precedence = self.dialect.binary[operator]
            if self.peek().kind == "end":
                raise ExpressionError(
                    f"'{operator_token.text}' at offset {operator_token.offset} has no right operand"
                )
            right = self.expression(precedence if operator in self.dialect.right else precedence + 1)
            left = Node("binary", operator, (left, right))
        if minimum == 0 and self.peek().text == "?" and self.peek().kind == "symbol":
            self.take()
            then = self.expression()
            self.expect(":", "in 'condition ? a : b'")
            left = Node("ternary", "?", (left, then, self.expression()))
        self.depth -= 1
        return left

    def binary_operator(self) -> tuple[str | None, int]:
        """The binary operator at the cursor (expr's ``not in`` counts as one) and its token count."""
        token = self.peek()
        if token.kind not in ("symbol", "word"):
            return None, 0
        following = self.peek(1)
        if token.text == "not" and self.dialect is EXPR and following.text in _NEGATABLE:
            return following.text, 2
        return (token.text, 1) if token.text in self.dialect.binary else (None, 0)

    def unary(self) -> Node:
        token = self.peek()
        if token.kind in ("symbol", "word") and token.text in self.dialect.unary:
            self.take()
            if self.peek().kind == "end":
                raise ExpressionError(f"'{token.text}' at offset {token.offset} has no operand")
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise ExpressionError(f"nested deeper than {MAX_DEPTH} levels")
            node = Node("unary", token.text, (self.unary(),))
            self.depth -= 1
            return node
        return self.postfix(self.primary())

    def primary(self) -> Node:
        token = self.take()
        if token.kind in ("number", "string"):
            return Node("literal", token.text, value=token.value)
        if token.kind == "placeholder":
            return Node("placeholder", token.text)
        if token.kind == "word" and not self.dialect.is_word_operator(token.text):
            return self.word(token)
        if token.text == "(":
            inner = self.expression()
            if self.dialect is GOVALUATE and self.peek().text == ",":  # govaluate's (a, b) for `in`
                items = [inner]
                while self.peek().text == ",":
                    self.take()
                    items.append(self.expression())
                inner = Node("array", "(", tuple(items))
            self.expect(")", f"to close '(' at offset {token.offset}")
            return inner
        if token.text == "[" and self.dialect is EXPR:
            return Node("array", "[", tuple(self.items("]", token)))
        if token.kind == "end":
            raise ExpressionError("unexpected end of expression: an operand is missing")
        raise ExpressionError(f"unexpected {_describe(token)} where an operand was expected")

    def word(self, token: Token) -> Node:
        if self.dialect is GOVALUATE:
            if token.text in ("true", "false"):
                return Node("literal", token.text, value=token.text == "true")
            return Node("name", token.text, value=tuple(token.text.split(".")))
        if token.text in _EXPR_CONSTANTS:
            return Node("literal", token.text, value=_EXPR_CONSTANTS[token.text])
        return Node("name", token.text, value=(token.text,))

    def items(self, closing: str, opening: Token) -> list[Node]:
        items: list[Node] = []
        while self.peek().text != closing:
            items.append(self.expression())
            if self.peek().text != ",":
                break
            self.take()
        self.expect(closing, f"to close '{opening.text}' at offset {opening.offset}")
        return items

    def postfix(self, node: Node) -> Node:
        if self.dialect is GOVALUATE:
            return node
        while True:
            token = self.peek()
            if token.text in (".", "?.") and token.kind == "symbol":
                self.take()
                member = self.take()
                if member.kind != "word":
                    raise ExpressionError(
                        f"expected a field name after '{token.text}', got {_describe(member)}"
                    )
                node = _member(node, member.text)
            elif token.text == "[" and token.kind == "symbol":
                self.take()
                index = self.expression()
                self.expect("]", f"to close '[' at offset {token.offset}")
                is_key = index.kind == "literal" and isinstance(index.value, str)
                node = _member(node, str(index.value)) if is_key else Node("index", "[", (node, index))
            elif token.text == "(" and token.kind == "symbol" and node.kind == "name":
                self.take()
                node = Node("call", node.text, (node, *self.items(")", token)))
            else:
                return node


def _member(node: Node, name: str) -> Node:
    """``node.name``: a longer name when ``node`` is a name, else an index by a constant key."""
    if node.kind == "name" and isinstance(node.value, tuple):
        return Node("name", f"{node.text}.{name}", value=(*node.value, name))
    return Node("index", "[", (node, Node("literal", repr(name), value=name)))


def _describe(token: Token) -> str:
    if token.kind == "end":
        return "the end of the expression"
    return f"'{token.text}' at offset {token.offset}"


def parse(text: str, dialect: Dialect = EXPR) -> Node:
    """Parse ``text`` in ``dialect``.

    Raises:
        ExpressionError: it does not parse, is longer than :data:`MAX_LENGTH` or nests deeper than
            :data:`MAX_DEPTH`.
    """
    return _Parser(text, dialect).parse()


# -- what Argo evaluates an expression with ------------------------------------------------------

#: The variables of a retry expression: ``retries`` and the ``lastRetry`` fields, every one a
#: string (workflow/controller/operator.go: buildRetryStrategyLocalScope).
RETRY_VARIABLES: Mapping[str, tuple[str, ...]] = {
    "retries": (),
    "lastRetry": ("duration", "exitCode", "message", "status"),
}
#: Functions in every Argo expression environment: Argo's own (util/expr/env/env.go:
#: GetFuncMap; ``sprig`` is a map of functions) and expr-lang's builtins (builtin/builtin.go).
EXPR_FUNCTIONS = frozenset(
    {"asInt", "asFloat", "jsonpath", "toJson", "sprig"}
    | {"abs", "all", "any", "bitand", "bitnand", "bitnot", "bitor", "bitshl", "bitshr", "bitushr"}
    | {"bitxor", "ceil", "concat", "count", "date", "duration", "filter", "find", "findIndex"}
    | {"findLast", "findLastIndex", "first", "flatten", "float", "floor", "fromBase64", "fromJSON"}
    | {"fromPairs", "get", "groupBy", "hasPrefix", "hasSuffix", "indexOf", "int", "join", "keys"}
    | {"last", "lastIndexOf", "len", "lower", "map", "max", "mean", "median", "min", "none", "now"}
    | {"one", "reduce", "repeat", "replace", "reverse", "round", "sort", "sortBy", "split"}
    | {"splitAfter", "string", "sum", "take", "timezone", "toBase64", "toJSON", "toPairs", "trim"}
    | {"trimPrefix", "trimSuffix", "type", "uniq", "upper", "values"}
)
_COMPARISONS = frozenset({"==", "!=", "<", ">", "<=", ">="})


def check_retry_expression(text: str) -> list[str]:
    """Why Argo would refuse ``retryStrategy.expression``, or evaluate it to a constant.

    Returns:
        One message per problem: does not compile, unknown variable (expr's ``unknown name``,
        checker/checker.go ``ident``), a ``matches`` pattern RE2 refuses (the checker compiles
        constant patterns), a string variable compared with a number (never equal in expr; an
        ordering fails at run time).
    """
    try:
        tree = parse(text, EXPR)
    except ExpressionError as error:
        return [f"does not compile as an expr expression: {error}"]
    messages: list[str] = []
    called = {node.children[0] for node in tree.walk() if node.kind == "call"}
    for node in tree.walk():
        if node.kind == "name" and node not in called:
            messages.extend(_retry_name(node))
        elif node.kind == "call":
            if node.text not in EXPR_FUNCTIONS and not node.text.startswith("sprig."):
                messages.append(f"unknown function '{node.text}' (not an expr builtin or one Argo adds)")
        elif node.kind == "binary":
            messages.extend(_binary_problems(node, EXPR))
    return messages


def _retry_name(node: Node) -> list[str]:
    parts = node.value if isinstance(node.value, tuple) else ()
    accepted = ", ".join(
        ".".join((root, name)) if name else root
        for root, fields in RETRY_VARIABLES.items()
        for name in (fields or ("",))
    )
    if parts[0] in EXPR_FUNCTIONS and len(parts) == 1:
        return []
    fields = RETRY_VARIABLES.get(parts[0])
    if fields is None:
        return [f"unknown variable '{node.text}': a retry expression has only {accepted}"]
    if len(parts) > 1 and parts[1] not in fields:
        return [f"unknown variable '{node.text}' (evaluates to nil): a retry expression has only {accepted}"]
    return []


def _is_string_variable(node: Node) -> bool:
    parts = node.value if node.kind == "name" and isinstance(node.value, tuple) else ()
    fields = RETRY_VARIABLES.get(parts[0]) if parts else None
    return fields is not None and (
        (len(parts) == 2 and parts[1] in fields) or (len(parts) == 1 and not fields)
    )


def _binary_problems(node: Node, dialect: Dialect) -> list[str]:
    left, right = node.children
    messages = []
    if node.text in dialect.regex and right.kind == "literal" and isinstance(right.value, str):
        reason = re2_error(right.value)
        if reason:
            messages.append(f"'{node.text}' pattern {right.text}: {reason}")
    if dialect is EXPR and node.text in _COMPARISONS:
        for variable, other in ((left, right), (right, left)):
            if _is_string_variable(variable) and other.kind == "literal" and _is_number(other.value):
                outcome = (
                    f"is always {str(node.text == '!=').lower()}"
                    if node.text in ("==", "!=")
                    else "fails when evaluated"
                )
                messages.append(
                    f"'{variable.text} {node.text} {other.text}' compares a string with a number and "
                    f'{outcome}: write {other.text!s} as a string ("{other.text}") or use '
                    f"int({variable.text})"
                )
    return messages


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_when(text: str) -> list[str]:
    """Why govaluate would refuse a ``when`` (its ``{{...}}`` stand for one operand each).

    Returns:
        One message per problem: does not parse (unbalanced parentheses, a dangling ``&&``), a
        ``=~``/``!~`` pattern RE2 refuses, or a dotted bare word with a lower-case part, which
        govaluate reads as an unexported field (parsing.go ``readToken``).
    """
    try:
        tree = parse(text, GOVALUATE)
    except ExpressionError as error:
        return [f"does not parse as a govaluate expression: {error}"]
    messages: list[str] = []
    for node in tree.walk():
        if node.kind == "binary":
            messages.extend(_binary_problems(node, GOVALUATE))
        elif node.kind == "name" and isinstance(node.value, tuple):
            lower = [part for part in node.value[1:] if part[:1] != part[:1].upper()]
            if lower:
                messages.append(
                    f"bare word '{node.text}' is read as a field access and '{lower[0]}' as an "
                    "unexported field: quote it"
                )
    return messages


# -- regular expressions: Go's RE2 syntax ---------------------------------------------------------

_RE2_GROUPS = {
    "(?=": "lookahead '(?=...)'",
    "(?!": "negative lookahead '(?!...)'",
    "(?<=": "lookbehind '(?<=...)'",
    "(?<!": "negative lookbehind '(?<!...)'",
    "(?>": "atomic group '(?>...)'",
    "(?(": "conditional '(?(...)...)'",
    "(?#": "comment group '(?#...)'",
    "(?P=": "named backreference '(?P=name)'",
}
_GO_FLAGS = re.compile(r"\(\?([a-zA-Z]*)(?:-([a-zA-Z]*))?[:)]")
_REPEAT = re.compile(r"\{(\d+)(?:,(\d*))?\}")
_GO_CLASS = re.compile(r"\\[pP](?:\{\^?[A-Za-z_]+\}|[A-Za-z])")


def re2_error(pattern: str) -> str | None:
    """Why Go's ``regexp.Compile`` (RE2 syntax) refuses ``pattern``, or ``None`` if it accepts it.

    Constructs RE2 lacks are found by a scan; the rest of the syntax (balanced groups, ranges,
    repetition of nothing) by Python's ``re`` on the pattern with Go-only spellings translated.
    """
    translated: list[str] = []
    in_class = False
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            escape = pattern[index + 1 : index + 2]
            if escape.isdigit() and escape != "0":
                return f"backreference '\\{escape}' is not supported by RE2 (Go's regexp)"
            if escape == "Z":
                return "'\\Z' is not supported by RE2 (Go's regexp): use '\\z'"
            if escape == "Q":
                end = pattern.find("\\E", index + 2)
                literal = pattern[index + 2 :] if end == -1 else pattern[index + 2 : end]
                translated.append(re.escape(literal))
                index = len(pattern) if end == -1 else end + 2
                continue
            go_class = _GO_CLASS.match(pattern, index)
            if go_class:
                translated.append("\\w")  # a Unicode class: any class keeps the rest checkable
                index = go_class.end()
                continue
            translated.append("\\Z" if escape == "z" else pattern[index : index + 2])
            index += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            closing = index + 1 + (pattern[index + 1 : index + 2] == "^")
            if pattern[closing : closing + 1] == "]":  # a leading ']' is literal
                translated.append(pattern[index : closing + 1])
                index = closing + 1
                continue
        elif char == "(":
            reason = _group_error(pattern, index)
            if reason:
                return reason
            if pattern.startswith("(?<", index) and pattern[index + 3 : index + 4].isalpha():
                translated.append("(?P<")  # Go's (?<name>...) is Python's (?P<name>...)
                index += 3
                continue
            flags = _GO_FLAGS.match(pattern, index)
            if flags:
                translated.append(flags.group().replace("U", ""))  # Go's ungreedy flag
                index = flags.end()
                continue
        elif char in "*+?}" and pattern[index + 1 : index + 2] in ("*", "+"):
            return f"nested repetition '{char}{pattern[index + 1]}' is not supported by RE2 (Go's regexp)"
        elif char == "{":
            repeat = _REPEAT.match(pattern, index)
            if repeat and max(int(count or 0) for count in repeat.groups()) > _MAX_REPEAT:
                return f"repeat count {repeat.group()} is larger than RE2's limit of {_MAX_REPEAT}"
        translated.append(char)
        index += 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "possible nested set" for Go's [[:alpha:]]
        try:
            re.compile("".join(translated).replace("(?)", ""))
        except re.error as error:
            return f"not a valid regular expression: {error.msg}"
    return None


def _group_error(pattern: str, index: int) -> str | None:
    for opening, name in _RE2_GROUPS.items():
        if pattern.startswith(opening, index):
            return f"{name} is not supported by RE2 (Go's regexp)"
    flags = _GO_FLAGS.match(pattern, index)
    if pattern.startswith("(?", index) and not pattern.startswith(("(?P<", "(?<"), index):
        if flags is None:
            return (
                f"unknown group syntax {pattern[index : index + 4]!r} "
                "(RE2 accepts (?flags), (?flags:...), (?P<name>...))"
            )
        unknown = set("".join(part or "" for part in flags.groups())) - set("imsU")
        if unknown:
            return f"flag '{sorted(unknown)[0]}' is not supported by RE2 (Go's regexp; flags: i, m, s, U)"
    return None
