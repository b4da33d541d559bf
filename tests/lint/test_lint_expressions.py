"""The bounded expr/govaluate parser: what it accepts, what it refuses and why."""

from __future__ import annotations

import pytest

from hera_imagebuild.lint.expressions import (
    EXPR,
    GOVALUATE,
    MAX_DEPTH,
    MAX_LENGTH,
    ExpressionError,
    check_retry_expression,
    check_when,
    parse,
    re2_error,
)


@pytest.mark.parametrize(
    "expression",
    [
        'lastRetry.status == "Error" || lastRetry.exitCode == "75"',
        "asInt(lastRetry.exitCode) >= 2 and int(retries) < 3 or not (float(lastRetry.duration) > 60)",
        'lastRetry.message not contains "denied" && lastRetry.message startsWith "dial"',
        'lastRetry.status in ["Error", "Failed"] ? true : false',
        'sprig.trim(lastRetry.message) endsWith "EOF" || lastRetry["status"] != "Failed"',
        'lastRetry.message matches "(?i)(?-i:: (UNAVAILABLE|UNKNOWN): )|\\\\pL+|\\\\Qa.b\\\\E"',
    ],
)
def test_valid_retry_expressions_have_no_problem(expression: str) -> None:
    assert check_retry_expression(expression) == []


def test_operator_precedence_follows_expr() -> None:
    tree = parse('a || b && c == "x"', EXPR)
    assert (tree.text, tree.children[1].text, tree.children[1].children[1].text) == ("||", "&&", "==")
    assert parse("2 ** 3 ** 2", EXPR).children[1].text == "**"  # right-associative


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("(lastRetry.status", "expected ')' to close '(' at offset 0"),
        ('lastRetry.status == "Error" || ', "'||' at offset 28 has no right operand"),
        ("lastRetry.status ==", "'==' at offset 17 has no right operand"),
        ('"unterminated', "unterminated string"),
        ("lastRetry.status == 'a' 'b'", "unexpected ''b'' at offset 24 after a complete expression"),
        ("filter(x, # > 1)", "unexpected '#' at offset 10"),
        ("(" * (MAX_DEPTH + 1) + "1" + ")" * (MAX_DEPTH + 1), f"nested deeper than {MAX_DEPTH} levels"),
        ("1" * (MAX_LENGTH + 1), f"longer than {MAX_LENGTH} characters"),
    ],
)
def test_expressions_that_do_not_compile(expression: str, message: str) -> None:
    with pytest.raises(ExpressionError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse(expression, EXPR)
    assert check_retry_expression(expression)[0].startswith("does not compile as an expr expression: ")


def test_retry_variables_and_types() -> None:
    assert check_retry_expression('lastRetry.exitcode == "1"') == [
        "unknown variable 'lastRetry.exitcode' (evaluates to nil): a retry expression has only retries, "
        "lastRetry.duration, lastRetry.exitCode, lastRetry.message, lastRetry.status"
    ]
    assert check_retry_expression("inputs.parameters.x == '1'")[0].startswith(
        "unknown variable 'inputs.parameters.x'"
    )
    assert check_retry_expression("75 != lastRetry.exitCode") == [
        "'lastRetry.exitCode != 75' compares a string with a number and is always true: write 75 as a "
        'string ("75") or use int(lastRetry.exitCode)'
    ]
    assert "fails when evaluated" in check_retry_expression("retries > 2")[0]
    assert check_retry_expression("int(retries) > 2") == []
    assert check_retry_expression("nope(retries)") == [
        "unknown function 'nope' (not an expr builtin or one Argo adds)"
    ]


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("a(?=b)", "lookahead '(?=...)' is not supported by RE2"),
        ("a(?!b)", "negative lookahead '(?!...)'"),
        ("(?<=a)b", "lookbehind '(?<=...)'"),
        ("(?<!a)b", "negative lookbehind '(?<!...)'"),
        ("(a)\\1", "backreference '\\1'"),
        ("(?P<x>a)(?P=x)", "named backreference"),
        ("(?>a)", "atomic group"),
        ("a++", "nested repetition '++'"),
        ("a{1001}", "repeat count {1001} is larger than RE2's limit of 1000"),
        ("(?x)a", "flag 'x' is not supported by RE2"),
        ("a\\Z", "use '\\z'"),
        ("(a", "not a valid regular expression: missing ), unterminated subpattern"),
    ],
)
def test_patterns_re2_refuses(pattern: str, reason: str) -> None:
    assert reason in (re2_error(pattern) or "")


@pytest.mark.parametrize(
    "pattern", ["(?i)a+?", "(?<name>a)", "[[:alpha:]]+", "[]a]", "\\p{Greek}\\z", "(?U)a*"]
)
def test_patterns_re2_accepts(pattern: str) -> None:
    assert re2_error(pattern) is None


def test_when_is_govaluate_with_tags_as_operands() -> None:
    assert check_when("{{tasks.a.outputs.result}} == heads && ({{x}} in (a, b) || !{{y}})") == []
    assert check_when("{{tasks.a.outputs.result}} =~ '^t'") == []
    assert check_when("{{a}} == heads &&") == [
        "does not parse as a govaluate expression: '&&' at offset 15 has no right operand"
    ]
    assert check_when("({{a}} == x") == [
        "does not parse as a govaluate expression: expected ')' to close '(' at offset 0, got the end of "
        "the expression"
    ]
    assert check_when("{{a}} =~ '(?!x)'")[0].startswith("'=~' pattern '(?!x)': negative lookahead")
    assert check_when("{{a}} == my.host") == [
        "bare word 'my.host' is read as a field access and 'host' as an unexported field: quote it"
    ]
    assert parse("a == b", GOVALUATE).children[0].value == ("a",)
