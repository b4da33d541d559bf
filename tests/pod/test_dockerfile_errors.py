"""Dockerfiles the parser cannot understand: one clear error naming the line, never a guess."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hera_imagebuild.pod.dockerfile import parse_dockerfile
from hera_imagebuild.pod.dockerfile_lexer import DockerfileError
from hera_imagebuild.pod.dockerfile_limits import (
    MAX_DOCKERFILE_CHARS,
    MAX_EXPANDED_CHARS,
    MAX_EXPANDED_TOTAL,
    MAX_EXPANSION_DEPTH,
)
from hera_imagebuild.sandbox.matrix import BadInputRecorder

BAD_DOCKERFILES = [
    # (Dockerfile, line named, words the message must contain)
    ("", 1, "no FROM instruction"),
    ("# only a comment\n", 1, "no FROM instruction"),
    ("FROM\n", 1, "FROM needs an image"),
    ("ARG BASE\nFROM $BASE\n", 2, "variable 'BASE' has no value"),
    ("FROM alpine\nARG LATE=x\nFROM $LATE\n", 3, "variable 'LATE' has no value"),
    ("ARG EMPTY=\nFROM ${EMPTY}\n", 2, "is empty once its variables are expanded"),
    ("FROM ${BASE:?required}\n", 1, "operator this parser does not evaluate"),
    ("FROM ${BASE\n", 1, "without a closing"),
    ("FROM Alpine:Latest\n", 1, "is not a valid image reference"),
    ("FROM alpine:3 AS 1st\n", 1, "stage name '1st' must start with a letter"),
    ("FROM alpine AS a\nFROM debian AS A\n", 2, "stage name 'a' is used twice"),
    ("FROM alpine AS\n", 1, "expected FROM [--platform=PLATFORM] IMAGE [AS NAME]"),
    ("FROM alpine # comment\n", 1, "expected FROM"),
    ("FROM --platform=linux alpine\n", 1, "is not a platform"),
    ("FROM --platform=$NOPE alpine\n", 1, "variable 'NOPE' has no value"),
    ("FROM --pull=always alpine\n", 1, "unknown FROM flag '--pull'"),
    ("RUN echo hi\nFROM alpine\n", 1, "RUN before the first FROM"),
    ("FROM alpine\nRUNN echo\n", 2, "unknown instruction 'RUNN'"),
    ("FROM alpine\nRUN <<EOF\necho never closed\n", 2, "heredoc '<<EOF' is never terminated"),
    ("FROM alpine\nCOPY --from=0 /a /b\n", 2, "not the index of an earlier stage"),
    ("FROM alpine AS a\nCOPY --from=a /x /x\n", 2, "names the stage it is in"),
    ("FROM alpine\nCOPY --from=later /x /\nFROM debian AS later\n", 2, "defined later (line 3)"),
    ("FROM alpine\nCOPY --from= /x /x\n", 2, "COPY --from is empty"),
    ("FROM alpine\nCOPY --from=$IMG /x /x\n", 2, "variable 'IMG' has no value"),
    ("FROM alpine\nRUN --mount=type=bind,from=NOPE:x,target=/t true\n", 2, "not a valid image reference"),
    # Pinning would drop or move the quotes (render replaces the name between them).
    ('FROM alpine\nRUN --mount=type=bind,from=bus"y"box,target=/t true\n', 2, "quotes inside an image name"),
    ("# escape=x\nFROM alpine\n", 1, "escape directive 'x' is invalid"),
    ("# escape=`\n# escape=`\nFROM alpine\n", 2, "parser directive 'escape' is given twice"),
    ("FROM alpine\nARG\n", 2, "ARG needs a name"),
    # Rendering would have appended prefetch's LABEL to the RUN line (a false success).
    ("FROM alpine\nRUN make install \\\n", 2, "ends inside a line continuation"),
    ("FROM alpine\nRUN make install \\\n\n# trailing comment\n", 2, "ends inside a line continuation"),
    ("\\\n", 1, "continues nothing"),
]


@pytest.mark.parametrize(("text", "line", "message"), BAD_DOCKERFILES)
def test_bad_dockerfile_is_a_clear_error_naming_the_line(
    text: str, line: int, message: str, bad_input: BadInputRecorder
):
    with pytest.raises(DockerfileError) as caught:
        parse_dockerfile(text)
    error = caught.value
    assert error.line == line
    assert str(error).startswith(f"Dockerfile line {line}: ")
    assert message in str(error)
    bad_input.record(area="Dockerfile", given=text, error=str(error))


def test_error_quotes_the_instruction_text():
    with pytest.raises(DockerfileError, match=r"line 2: .*: FROM \$\{MISSING\}:1$"):
        parse_dockerfile("ARG OTHER=1\nFROM ${MISSING}:1\n")


def test_build_arg_with_a_line_break_is_refused(bad_input: BadInputRecorder):
    with pytest.raises(ValueError, match="build arg 'SCRIPT': its value contains a line break") as caught:
        parse_dockerfile("FROM alpine\nARG SCRIPT\n", build_args={"SCRIPT": "a\nb"})
    bad_input.record(area="Dockerfile", given="--build-arg SCRIPT=$'a\\nb'", error=str(caught.value))


def test_label_with_a_line_break_is_refused():
    dockerfile = parse_dockerfile("FROM alpine\n")
    with pytest.raises(ValueError, match="label 'note': a line break cannot be written"):
        dockerfile.render({}, labels={"note": "two\nlines"})


def test_bad_platform_names_the_field():
    with pytest.raises(ValueError, match=r"platform: 'amd64' is not a platform; expected OS/ARCH"):
        parse_dockerfile("FROM alpine\n", platform="amd64")


def _doubling(lines: int) -> str:
    """``ARG A1=${A0}${A0}``, ``ARG A2=${A1}${A1}``, ...: line n holds 2**(n-1) characters."""
    args = ["ARG A0=x"] + [f"ARG A{i}=${{A{i - 1}}}${{A{i - 1}}}" for i in range(1, lines)]
    return "\n".join(args) + "\nFROM alpine\n"


def _nested(depth: int) -> str:
    return "FROM " + "${A:-" * depth + "alpine" + "}" * depth + "\n"


_HALF = "x" * (MAX_EXPANDED_CHARS // 2)
# name: (Dockerfile, line named, words the message must contain); each once hung or killed the parser.
BOMBS = {
    "nested-expansion": (_nested(5000), 1, f"nested more than {MAX_EXPANSION_DEPTH} levels deep"),
    "arg-doubling": (_doubling(64), MAX_EXPANDED_CHARS.bit_length() + 1, "longer than"),
    # One word copying a value 200,000 times: refused while it grows, not once it is built.
    "one-word-many-copies": (f"FROM alpine\nARG A={_HALF}\nARG B={'${A}' * 200_000}\n", 3, "longer than"),
    "many-arg-copies": (
        f"ARG A={_HALF}\n" + "ARG B=$A\n" * 64 + "FROM alpine\n",
        MAX_EXPANDED_TOTAL // len(_HALF) + 1,
        f"ARG defaults add up to more than {MAX_EXPANDED_TOTAL} characters",
    ),
    "file-too-long": (f"FROM alpine\nRUN {'x' * MAX_DOCKERFILE_CHARS}\n", 2, "longer than"),
    # The directive pattern backtracked quadratically over this white space (minutes).
    "directive-white-space": (f"# escape=a{' ' * 200_000}b\nFROM alpine\n", 1, "is invalid"),
    # int() refuses more than 4300 digits and reads no superscript: both were a ValueError traceback.
    "stage-index-5000-digits": (
        "FROM alpine\nFROM alpine\nCOPY --from=" + "9" * 5000 + " /a /b\n",
        3,
        "earlier",
    ),
    "stage-index-superscript": (
        "FROM alpine\nFROM alpine\nCOPY --from=\u00b2 /a /b\n",
        3,
        "not a valid image",
    ),
}


@pytest.mark.timeout(20)
@pytest.mark.parametrize("name", BOMBS)
def test_crafted_dockerfile_is_a_short_clear_error(name: str, bad_input: BadInputRecorder):
    text, line, message = BOMBS[name]
    with pytest.raises(DockerfileError) as caught:
        parse_dockerfile(text)
    error = caught.value
    assert error.line == line
    assert message in str(error)
    # The values it quotes can be as long as the file; the message stays one readable line.
    assert len(str(error)) < 1000
    bad_input.record(area="Dockerfile", given=f"crafted ({name}, {len(text)} characters)", error=str(error))


def _copies(total: int) -> str:
    """ARG defaults that add up to ``total`` characters once expanded."""
    whole, rest = divmod(total, MAX_EXPANDED_CHARS)
    return (
        f"FROM alpine\nARG A={'x' * MAX_EXPANDED_CHARS}\n"
        + "ARG B=$A\n" * (whole - 1)
        + f"ARG C={'x' * rest}\n"
    )


LIMITS: dict[str, tuple[int, Callable[[int], str]]] = {
    "expansion-depth": (MAX_EXPANSION_DEPTH, _nested),
    "expanded-chars": (MAX_EXPANDED_CHARS, lambda n: f"FROM alpine\nARG A={'x' * n}\n"),
    "expanded-total": (MAX_EXPANDED_TOTAL, _copies),
    "dockerfile-chars": (MAX_DOCKERFILE_CHARS, lambda n: ("FROM alpine\n# " + "x" * n)[:n]),
}


@pytest.mark.parametrize("name", LIMITS)
def test_a_limit_refuses_only_what_is_past_it(name: str):
    limit, dockerfile = LIMITS[name]
    assert parse_dockerfile(dockerfile(limit)).stages[0].base == "alpine"
    # Each message names the limit: "more than 16 levels", "longer than 65536 characters", ...
    with pytest.raises(DockerfileError, match=f"than {limit} "):
        parse_dockerfile(dockerfile(limit + 1))
