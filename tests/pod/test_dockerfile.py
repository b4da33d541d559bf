"""Dockerfile parsing: which external images a build pulls, and the pinned copy it builds."""

from __future__ import annotations

import textwrap
from collections.abc import Callable

import pytest

from hera_imagebuild.pod.dockerfile import Dockerfile, parse_dockerfile
from hera_imagebuild.pod.dockerfile_words import expand, quote

DIGEST_A = "sha256:" + "a" * 64
DIGEST_B = "sha256:" + "b" * 64


def parse(text: str, **kwargs: object) -> Dockerfile:
    return parse_dockerfile(textwrap.dedent(text).lstrip("\n"), **kwargs)  # type: ignore[arg-type]


def written(dockerfile: Dockerfile) -> list[str]:
    return [image.written for image in dockerfile.images]


def test_arg_defaults_and_build_arg_overrides_pick_the_base():
    text = """
        ARG REGISTRY=registry.example.com:5000
        ARG VERSION=3.11
        FROM ${REGISTRY}/base/python:$VERSION-slim
    """
    assert written(parse(text)) == ["registry.example.com:5000/base/python:3.11-slim"]
    assert written(parse(text, build_args={"VERSION": "3.12"})) == [
        "registry.example.com:5000/base/python:3.12-slim"
    ]


@pytest.mark.parametrize(
    ("word", "env", "expected"),
    [
        ("${A:-x}", {}, "x"),
        ("${A:-x}", {"A": ""}, "x"),
        ("${A-x}", {"A": ""}, ""),
        ("${A:+alt}", {"A": "1"}, "alt"),
        ("${A:+alt}", {"A": ""}, ""),
        ("${A+alt}", {"A": ""}, "alt"),
        ("${A:-${B}}", {"B": "nested"}, "nested"),
        ('"quoted $A"', {"A": "v"}, "quoted v"),
        ("'$A'", {"A": "v"}, "$A"),
        ("\\$A", {"A": "v"}, "$A"),
        ("$A.$B", {"A": "1", "B": "2"}, "1.2"),
    ],
)
def test_variable_expansion(word: str, env: dict[str, str], expected: str):
    assert expand(word, env) == expected


@pytest.mark.parametrize("value", ["plain", 'with "quotes" and $dollar', "back\\slash\\", "", "tab\there"])
@pytest.mark.parametrize("escape", ["\\", "`"])
def test_quote_round_trips_through_expansion(value: str, escape: str):
    assert expand(quote(value, escape), {"dollar": "X"}, escape=escape) == value


def test_undeclared_build_arg_does_not_reach_from_but_is_reported_unused():
    dockerfile = parse(
        """
        ARG TAG=1
        FROM alpine:${TAG}
        ARG LATE
        """,
        build_args={"TAG": "2", "LATE": "x", "NOPE": "y"},
    )
    assert written(dockerfile) == ["alpine:2"]
    assert dockerfile.unused_build_args == ("NOPE",)


def test_stages_scratch_and_stage_references_are_not_external():
    dockerfile = parse(
        """
        FROM golang:1.22 AS Build
        RUN go build ./...
        FROM build AS test
        FROM scratch
        COPY --from=BUILD /out /out
        COPY --from=1 /x /x
        COPY --from=gcr.io/distroless/static:nonroot /etc/passwd /etc/passwd
        """
    )
    assert written(dockerfile) == ["golang:1.22", "gcr.io/distroless/static:nonroot"]
    assert [(s.name, s.parent, s.base) for s in dockerfile.stages] == [
        ("build", None, "golang:1.22"),
        ("test", 0, "build"),
        (None, None, "scratch"),
    ]
    assert [image.instruction for image in dockerfile.images] == ["FROM", "COPY --from"]
    assert dockerfile.base_image("test") is dockerfile.images[0]
    assert dockerfile.base_image() is None  # scratch


def test_a_later_stage_name_in_from_is_an_image():
    # Docker only resolves FROM against earlier stages; "later" here is a Docker Hub image.
    dockerfile = parse(
        """
        FROM later
        FROM alpine AS later
        """
    )
    assert written(dockerfile) == ["later", "alpine"]


def test_platform_flag_and_automatic_platform_args():
    dockerfile = parse(
        """
        FROM --platform=$BUILDPLATFORM golang:1.22 AS build
        FROM --platform=linux/arm64/v8 alpine:3.19
        FROM debian:${TARGETARCH}
        COPY --from=busybox:1 /bin/sh /sh
        """,
        platform="linux/arm64",
    )
    assert [(i.written, i.platform) for i in dockerfile.images] == [
        ("golang:1.22", "linux/arm64"),
        ("alpine:3.19", "linux/arm64/v8"),
        ("debian:arm64", "linux/arm64"),
        ("busybox:1", "linux/arm64"),
    ]


def test_same_image_for_two_platforms_gives_two_keys():
    dockerfile = parse(
        """
        FROM --platform=linux/arm64 alpine:3.19 AS a
        FROM alpine:3.19
        """
    )
    keys = {image.key for image in dockerfile.images}
    assert len(keys) == 2


def test_run_mount_from_image_and_stage_with_stage_args():
    dockerfile = parse(
        """
        FROM alpine AS tools
        FROM debian:12
        ARG CACHE_IMAGE=ghcr.io/org/cache:v1
        RUN --network=none --mount=type=bind,from=tools,target=/t \\
            --mount=type=cache,target=/c,from=$CACHE_IMAGE make
        """
    )
    assert written(dockerfile) == ["alpine", "debian:12", "ghcr.io/org/cache:v1"]
    assert dockerfile.images[2].instruction == "RUN --mount"


def test_continuations_comments_heredocs_and_case_are_handled():
    dockerfile = parse(
        """
        # escape=\\

        # A comment that mentions FROM evil:latest
        from \\
          # a comment inside a continuation
          python:3.12 \\

          as base
        RUN <<EOF bash
        FROM not-an-instruction
        EOF
        COPY <<-"END" /etc/motd
        \tFROM also-not-an-instruction
        \tEND
        Copy --FROM=x /a /b
        """
    )
    # --FROM (upper case) is not the --from flag, so "x" is no image.
    assert written(dockerfile) == ["python:3.12"]
    assert dockerfile.stages[0].name == "base"


def test_backtick_escape_directive():
    dockerfile = parse(
        """
        # escape=`
        ARG WIN=mcr.microsoft.com/windows/servercore:ltsc2022
        FROM `
          $WIN
        RUN dir c:\\
        """
    )
    assert written(dockerfile) == ["mcr.microsoft.com/windows/servercore:ltsc2022"]


def test_json_form_run_with_mount_flag():
    dockerfile = parse(
        """
        FROM alpine
        RUN --mount=type=bind,from=busybox:1.36,target=/b ["/b/bin/true"]
        """
    )
    assert written(dockerfile) == ["alpine", "busybox:1.36"]


def test_render_pins_bakes_args_and_labels_and_keeps_the_rest():
    text = textwrap.dedent(
        """\
        # syntax=docker/dockerfile:1
        ARG BASE=python:3.11 OTHER=1
        ARG GREETING
        FROM ${BASE} AS build
        ARG GREETING=hi
        RUN echo "$GREETING"   \\
            && true
        COPY --from=registry.example.com:5000/tools/lint:2@sha256:%s /lint /lint

        FROM build
        ARG BASE
        # trailing comment
        """
        % ("c" * 64)
    )
    dockerfile = parse_dockerfile(
        text, build_args={"BASE": "python:3.12", "GREETING": 'say "hi" $USER\\'}, platform="linux/amd64"
    )
    assert written(dockerfile) == ["python:3.12", f"registry.example.com:5000/tools/lint:2@sha256:{'c' * 64}"]
    digests = {dockerfile.images[0].key: DIGEST_A, dockerfile.images[1].key: DIGEST_B}
    out = dockerfile.render(digests, labels={"org.example.team": "ml", "note": "a $b"})
    expected = (
        text.replace("BASE=python:3.11 OTHER", 'BASE="python:3.12" OTHER')
        .replace("ARG GREETING\n", 'ARG GREETING="say \\"hi\\" \\$USER\\\\"\n')
        .replace("ARG GREETING=hi", 'ARG GREETING="say \\"hi\\" \\$USER\\\\"')
        .replace("FROM ${BASE}", f"FROM python@{DIGEST_A}")
        .replace(f"lint:2@sha256:{'c' * 64}", f"lint@{DIGEST_B}")
        .replace("ARG BASE\n", 'ARG BASE="python:3.12"\nLABEL "org.example.team"="ml" "note"="a \\$b"\n')
    )
    assert out == expected
    # Parsing the result with no build args gives the same values: baking == --build-arg.
    again = parse_dockerfile(out)
    assert written(again) == [f"python@{DIGEST_A}", f"registry.example.com:5000/tools/lint@{DIGEST_B}"]


def test_labels_go_to_the_target_stage_and_keep_crlf():
    text = "FROM alpine AS one\r\nRUN true\r\nFROM one AS two\r\nRUN false"
    dockerfile = parse_dockerfile(text)
    out = dockerfile.render({}, labels={"k": "v"}, target="ONE")
    assert out == 'FROM alpine AS one\r\nRUN true\r\nLABEL "k"="v"\r\nFROM one AS two\r\nRUN false'
    last = dockerfile.render({}, labels={"k": "v"})
    assert last.endswith('RUN false\r\nLABEL "k"="v"\r\n')


def test_label_lands_after_a_heredoc_body():
    dockerfile = parse(
        """
        FROM alpine
        RUN <<EOF
        echo hi
        EOF
        """
    )
    assert dockerfile.render({}, labels={"k": "v"}).endswith('EOF\nLABEL "k"="v"\n')


def test_images_for_target_leave_out_later_stages():
    dockerfile = parse(
        """
        FROM alpine AS base
        FROM debian AS docs
        FROM base AS final
        COPY --from=busybox /bin /bin
        """
    )
    assert [i.written for i in dockerfile.images_for("docs")] == ["alpine", "debian"]
    assert [i.written for i in dockerfile.images_for()] == ["alpine", "debian", "busybox"]


def test_unknown_target_names_the_stages():
    dockerfile = parse("FROM alpine AS base\n")
    with pytest.raises(ValueError, match=r"no stage is named 'nope'; the stage names are: 'base'"):
        dockerfile.target_stage("nope")


def test_byte_for_byte_without_edits():
    text = "\ufeff# syntax=x\r\nFROM  alpine\t\r\n\r\nRUN a \\\r\n  b\n"
    assert parse_dockerfile(text).render({}) == text


@pytest.mark.parametrize(
    "mount",
    [
        '"type=bind,target=/t,from=busybox:1"',
        '"type=bind,from=busybox:1,target=/t"',
        "'type=bind,target=/t,from=busybox:1'",
        'type=bind,from="busybox:1",target=/t',
    ],
)
def test_pinning_a_quoted_mount_keeps_its_quotes(mount: str):
    dockerfile = parse_dockerfile(f"FROM alpine\nRUN --mount={mount} true\n")
    assert written(dockerfile) == ["alpine", "busybox:1"]
    out = dockerfile.render({image.key: DIGEST_A for image in dockerfile.images})
    pinned = mount.replace("busybox:1", f"busybox@{DIGEST_A}")
    assert out == f"FROM alpine@{DIGEST_A}\nRUN --mount={pinned} true\n"
    assert written(parse_dockerfile(out)) == [f"alpine@{DIGEST_A}", f"busybox@{DIGEST_A}"]


def _stages(count: int, image: Callable[[int], str]) -> str:
    """Stage i is built on stage i - 1 (odd i) or on ``image(i)``, copying from stage i - 1."""
    return "".join(
        f"FROM s{i - 1} AS s{i}\n"
        if i % 2
        else f"FROM {image(i)} AS s{i}\n" + (f"COPY --from=s{i - 1} / /\n" if i else "")
        for i in range(count)
    )


@pytest.mark.timeout(20)
def test_thirty_thousand_stages_parse_and_pin():
    # Every FROM and --from names the stage before: a list scan per name, and a copy of the whole
    # text per pinned image, made this quadratic: 36 s where it now takes 1 s.
    count = 30_000
    dockerfile = parse_dockerfile(_stages(count, lambda i: f"b:{i}"))
    assert [(s.name, s.parent) for s in dockerfile.stages] == [
        (f"s{i}", i - 1 if i % 2 else None) for i in range(count)
    ]
    digests = {image.key: f"sha256:{image.stage:064x}" for image in dockerfile.images}
    assert len(digests) == count // 2
    assert dockerfile.render(digests) == _stages(count, lambda i: f"b@sha256:{i:064x}")
