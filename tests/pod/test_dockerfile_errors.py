"""Dockerfiles the parser cannot understand: one clear error naming the line, never a guess."""

from __future__ import annotations

import pytest

from hera_imagebuild.pod.dockerfile import parse_dockerfile
from hera_imagebuild.pod.dockerfile_lexer import DockerfileError
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
