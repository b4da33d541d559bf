"""A bounded fuzz of the Dockerfile parser, the same examples on every run.

Two properties: any text is parsed or refused with a :class:`DockerfileError`,
never another exception; and a parsed Dockerfile renders a pinned copy that
parses back to the same stages, images (pinned) and ARGs, with the appended
LABEL an instruction of its own.
"""

from __future__ import annotations

import dataclasses
import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st

from hera_imagebuild.pod.dockerfile import Dockerfile, ImageKey, parse_dockerfile
from hera_imagebuild.pod.dockerfile_lexer import DockerfileError, tokenize
from hera_imagebuild.pod.dockerfile_words import expand

# Deterministic and small: part of every test run, a few seconds in all.
FUZZ = settings(max_examples=300, deadline=None, derandomize=True, database=None)
LABEL_KEY = "org.example.fuzz"

KEYWORDS = ("FROM ", "from ", "ARG ", "RUN ", "COPY ", "ADD ", "LABEL ", "ENV ", "# ", " ", "")
FRAGMENTS = (
    *("alpine", "alpine:3.19", "scratch", " AS s0", " as S1", "s0", "0", "1", "99999", "ghcr.io/o/t@sha256:"),
    *("--platform=", "linux/arm64", "$BUILDPLATFORM", "--from=", "--mount=type=bind,from=", ",target=/t"),
    *("\\", "`", " ", "\t", "\r", "\x00", "\ufeff", "\u2028", "\u00e9", "\u00b2", "\U0001f600"),
    *("escape=`", "escape=\\", "syntax=x", "#", "=", '"', "'", "{", "}", "{{"),
    *("${", "$A", "${A}", "${A:-", "${A-", "${A:+", "${A+", "${A:?", "${A/", "A=", "IMG=alpine "),
    *("<<EOF", "<<-EOF", '<<"EOF"', "<<'EOF'", "<<<", "EOF", "\tEOF"),
)
LINE = st.tuples(
    st.sampled_from(KEYWORDS),
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=3)), max_size=8).map("".join),
    st.sampled_from(("\n", "\r\n", "\\\n", "`\n", "")),
).map("".join)
# Mostly lines that start with an instruction, some after a valid first stage, so that many parse.
SOUP = st.tuples(
    st.sampled_from(("", "FROM alpine AS s0\n", "# escape=`\nFROM alpine\n")), st.lists(LINE, max_size=12)
).map(lambda parts: parts[0] + "".join(parts[1]))
# Build arg and label values: anything but a line break, which neither can carry.
ONE_LINE = st.text(st.characters(exclude_characters="\r\n"), max_size=12)

REPOSITORIES = ("alpine", "busybox", "registry.example.com:5000/team/app", "localhost/tool")
TAGS = ("1", "3.19", "latest", "v2.0_rc-1")
IMAGES = (*REPOSITORIES, "alpine:3.19", "ghcr.io/org/tool@sha256:" + "c" * 64, "${IMG}:${TAG}", "$IMG")


def _digest(key: ImageKey) -> str:
    return "sha256:" + hashlib.sha256(repr(key).encode()).hexdigest()


def _stages(dockerfile: Dockerfile) -> list[tuple[object, ...]]:
    return [(s.name, s.parent, s.platform, s.image is None) for s in dockerfile.stages]


def _images(dockerfile: Dockerfile) -> list[tuple[object, ...]]:
    return [(i.instruction, i.stage, i.platform, i.written, i.image) for i in dockerfile.images]


def _check_round_trip(dockerfile: Dockerfile, target: str | None, label: str) -> None:
    digests = {image.key: _digest(image.key) for image in dockerfile.images}
    out = dockerfile.render(digests, labels={LABEL_KEY: label}, target=target)
    # No build args: render baked them in as ARG defaults.
    again = parse_dockerfile(out)
    assert _stages(again) == _stages(dockerfile)
    # Each image pinned under the name it was written with, the tag dropped.
    assert _images(again) == [
        (
            *image[:3],
            i.pinned_text(digests[i.key]),
            dataclasses.replace(i.image, tag=None, digest=digests[i.key]),
        )
        for i, image in zip(dockerfile.images, _images(dockerfile), strict=True)
    ]
    assert [(a.name, a.stage) for a in again.args] == [(a.name, a.stage) for a in dockerfile.args]
    # The LABEL is one more instruction, right after the target stage's last one: never merged into it.
    _, before = tokenize(dockerfile.text)
    escape, after = tokenize(out)
    position = sum(1 for instruction in before if instruction.end <= dockerfile.target_stage(target).end)
    keywords = [instruction.keyword for instruction in before]
    assert [instruction.keyword for instruction in after] == [
        *keywords[:position],
        "LABEL",
        *keywords[position:],
    ]
    assert [expand(word.raw, {}, escape=escape) for word in after[position].words()] == [
        f"{LABEL_KEY}={label}"
    ]


def _parse(text: str, build_args: dict[str, str]) -> Dockerfile | DockerfileError:
    """The parsed Dockerfile or the parser's error; any other exception fails the test."""
    try:
        return parse_dockerfile(text, build_args=build_args)
    except DockerfileError as error:
        return error


@FUZZ
@given(
    text=SOUP,
    build_args=st.dictionaries(st.sampled_from(["A", "IMG", "TAG"]), ONE_LINE, max_size=3),
    label=ONE_LINE,
)
def test_any_text_parses_or_is_a_dockerfile_error(text: str, build_args: dict[str, str], label: str):
    parsed = _parse(text, build_args)
    if isinstance(parsed, DockerfileError):
        assert str(parsed).startswith(f"Dockerfile line {parsed.line}: ")
        assert 1 <= parsed.line <= text.count("\n") + 1
    else:
        _check_round_trip(parsed, None, label)


@st.composite
def dockerfiles(draw: st.DrawFn) -> tuple[str, dict[str, str], str | None]:
    """A Dockerfile that parses (stages, ARGs, references, continuations, heredocs), build args, a target."""
    escape = draw(st.sampled_from(("\\", "`")))
    newline = draw(st.sampled_from(("\n", "\r\n")))
    lines = [f"# escape={escape}"] if escape == "`" or draw(st.booleans()) else []
    lines += [f"ARG IMG={draw(st.sampled_from(REPOSITORIES))}", "ARG TAG=1", "ARG NOTE"]
    build_args = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "IMG": st.sampled_from(REPOSITORIES),
                "TAG": st.sampled_from(TAGS),
                "SOURCE": st.sampled_from(REPOSITORIES),
                "NOTE": ONE_LINE,
            },
        )
    )
    names: list[str] = []
    for index in range(draw(st.integers(1, 4))):
        platform = draw(st.sampled_from(("", "--platform=$BUILDPLATFORM ", "--platform=linux/arm64 ")))
        base = draw(st.sampled_from((*IMAGES, "scratch", *(name.upper() for name in names))))
        split = f"{escape}{newline}  # a comment inside the continuation{newline}{newline}  "
        lines.append(f"FROM {platform}{draw(st.sampled_from((' ', split)))}{base} AS s{index}")
        names.append(f"s{index}")
        lines.append(f"ARG SOURCE={draw(st.sampled_from(IMAGES[:-2]))}")
        earlier = [*names[:-1], *map(str, range(index))]
        source = st.sampled_from((*earlier, *IMAGES[:-2], "$SOURCE"))
        body = st.one_of(
            st.sampled_from(
                (
                    "RUN echo hi",
                    "ARG NOTE",
                    'ARG NOTE="a default"',
                    "ARG SOURCE=busybox:1",
                    f"RUN echo a {escape}{newline}  && echo b",
                    f"RUN <<EOF bash{newline}FROM not-an-instruction{newline}EOF",
                    f"COPY <<-END /etc/motd{newline}\tLABEL not=this{newline}\tEND",
                    "# a comment",
                    "",
                )
            ),
            source.map(lambda name: f"COPY --from={name} /a /b"),
            source.map(lambda name: f"RUN --mount=type=bind,from={name},target=/t true"),
            source.map(lambda name: f'RUN --mount="type=bind,target=/t,from={name}" true'),
        )
        lines += draw(st.lists(body, max_size=5))
    ending = draw(st.sampled_from((newline, "", f"{newline}# trailing comment{newline}")))
    return newline.join(lines) + ending, build_args, draw(st.sampled_from((None, *names)))


@FUZZ
@given(case=dockerfiles(), label=ONE_LINE)
def test_rendered_dockerfile_parses_back_the_same(case: tuple[str, dict[str, str], str | None], label: str):
    text, build_args, target = case
    _check_round_trip(parse_dockerfile(text, build_args=build_args), target, label)
