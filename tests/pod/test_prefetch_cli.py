"""``hera-imagebuild prefetch`` command line: flags, JSON twins, bad input, the registry map format."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest
from prefetch_helpers import run_prefetch

from hera_imagebuild import BuildSpec, PvcContext
from hera_imagebuild.builders import BUILDAH, KANIKO, MirrorPlan
from hera_imagebuild.builders.kaniko import NO_OP_REGISTRY_MAP
from hera_imagebuild.cli import prefetch as cli
from hera_imagebuild.common.contract import PrefetchArgs
from hera_imagebuild.common.failures import EXIT_FAILED, EXIT_USAGE
from hera_imagebuild.common.reference import parse_reference
from hera_imagebuild.pod.prefetch_sources import Source, mirror_plan, parse_mirrors, parse_target

pytestmark = pytest.mark.timeout(30)

SECRET = "hunter2-not-for-logs"


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    return parser.parse_args(list(argv))


def test_no_fallback_is_the_same_as_fallback_false():
    assert cli.config_from_args(parse("--no-fallback")).fallback is False
    assert cli.config_from_args(parse("--fallback=false")).fallback is False
    assert cli.config_from_args(parse()).fallback is True


def test_json_twins_merge_with_repeated_flags():
    config = cli.config_from_args(
        parse(
            '--build-args-json={"A": "1", "B": "2"}',
            "--build-arg=B=3",
            "--build-arg=C=x=y",
            '--labels-json={"team": "ml"}',
            "--label=stage=dev",
            '--mirrors-json={"docker.io": ["m1.example.com/hub"], "ghcr.io": "m2.example.com,m3.example.com"'
            "}",
            "--mirror=index.docker.io=m4.example.com",
            '--insecure-registries-json=["m1.example.com"]',
            "--insecure-registry=m2.example.com",
        )
    )
    assert config.build_args == {"A": "1", "B": "3", "C": "x=y"}
    assert config.labels == {"team": "ml", "stage": "dev"}
    assert config.mirrors == {
        "docker.io": [Source("m1.example.com", "hub"), Source("m4.example.com")],
        "ghcr.io": [Source("m2.example.com"), Source("m3.example.com")],
    }
    assert config.access.insecure_registries == {"m1.example.com", "m2.example.com"}


def test_template_argv_round_trips_through_the_parser():
    args = PrefetchArgs(dockerfile="Dockerfile", fallback="false", platform="linux/arm64", probe_timeout=2.5)
    argv = args.to_argv(json_values={"build_args": "{}", "mirrors": '{"docker.io": ["mirror:5000/hub"]}'})
    config = cli.config_from_args(parse(*argv[1:]))
    assert (config.fallback, config.platform, config.probe_timeout) == (False, "linux/arm64", 2.5)
    assert config.mirrors == {"docker.io": [Source("mirror:5000", "hub")]}


def _plan(targets: dict[str, list[Source]], *, fallback: bool = True) -> MirrorPlan:
    return mirror_plan(targets, fallback=fallback, insecure=())


def test_registry_map_format():
    hub = Source("mirror.example.com:5000", "dockerhub")
    assert KANIKO.registry_config(_plan({})) == NO_OP_REGISTRY_MAP
    origin_only = _plan({"docker.io": [Source("docker.io", role="origin")]})
    assert origin_only.sources == {}
    assert KANIKO.registry_config(origin_only) == NO_OP_REGISTRY_MAP
    plan = _plan(
        {"docker.io": [hub, Source("m2.example.com")], "ghcr.io": [Source("cache:5000", "c", "cache")]}
    )
    assert (
        KANIKO.registry_config(plan)
        == "index.docker.io=mirror.example.com:5000/dockerhub;index.docker.io=m2.example.com;"
        "ghcr.io=cache:5000/c"
    )


def test_registries_conf_tries_the_sources_in_order_and_the_registry_last_only_with_fallback():
    plan = _plan({"docker.io": [Source("m1:5000", "hub"), Source("m2:5000")]})
    with_fallback = BUILDAH.registry_config(plan)
    assert with_fallback.index('location = "m1:5000/hub"') < with_fallback.index('location = "m2:5000"')
    assert 'prefix = "docker.io"\nlocation = "docker.io"' in with_fallback
    without = BUILDAH.registry_config(
        _plan({"docker.io": [Source("m1:5000", "hub"), Source("m2:5000")]}, fallback=False)
    )
    # The last source takes the registry's place: docker.io itself is never asked.
    assert 'prefix = "docker.io"\nlocation = "m2:5000"' in without
    assert 'location = "docker.io"' not in without


def test_only_kaniko_refuses_a_dot_in_a_mirror_path():
    with pytest.raises(ValueError, match="kaniko #3182"):
        KANIKO.check_mirror("docker.io", "mirror.example.com/docker.io", field="--mirror docker.io")
    BUILDAH.check_mirror("docker.io", "mirror.example.com/docker.io", field="--mirror docker.io")


def test_mirror_targets_are_normalised():
    mirrors = parse_mirrors(
        [("registry-1.docker.io", ["m.example.com/hub"]), ("docker.io", ["m.example.com/hub"])]
    )
    assert mirrors == {"docker.io": [Source("m.example.com", "hub")]}
    assert Source("m.example.com", "hub").locate(parse_reference("python:3")).name == (
        "m.example.com/hub/library/python"
    )
    assert parse_target("cache:5000/team", field="--cache-registry", role="cache") == Source(
        "cache:5000", "team", "cache"
    )


@pytest.mark.parametrize(
    "target", ["m.example.com/hub/", "cache:5000//team", "m.example.com/Hub", "m.example.com/a;b=c"]
)
def test_pod_and_client_refuse_the_same_registry_addresses(target):
    # One grammar (common/grammar.py): what a spec refuses, the pod refuses for plain-YAML users.
    with pytest.raises(ValueError, match="is not valid; expected 'host") as from_pod:
        parse_target(target, field="--mirror docker.io")
    with pytest.raises(ValueError, match="is not valid; expected 'host") as from_client:
        BuildSpec(
            context=PvcContext(claim_name="ctx"),
            destinations=["127.0.0.1:5000/app:1"],
            mirrors={"docker.io": [target]},
        )
    assert from_pod.value.args[0].partition(":")[2] == from_client.value.args[0].partition(":")[2]


BAD_COMMAND_LINES = [
    (["--mirror=docker.io"], "is not REGISTRY=MIRROR[,MIRROR...]"),
    (["--mirror=docker.io=mirror.example.com/docker.io"], "has a '.' in its path 'docker.io'"),
    (["--cache-registry=cache.example.com/team.cache"], "kaniko #3182"),
    (["--mirror=docker.io=Mirror.example.com/Hub"], "the path made of lower-case letters"),
    (["--mirror=not a host=mirror.example.com"], "is not a registry host"),
    ([f"--mirror=docker.io=user:{SECRET}@mirror.example.com"], "carries credentials"),
    (["--platform=amd64"], "--platform: 'amd64' is not valid; expected OS/ARCH[/VARIANT]"),
    (["--platform=Linux/AMD64"], "--platform: 'Linux/AMD64' is not valid; expected OS/ARCH[/VARIANT]"),
    (
        ['--build-args-json={"NOTE": "a\\nb"}'],
        "--build-arg NOTE: 'a\\nb' is not valid; expected text on one line",
    ),
    (
        ['--labels-json={"note": "tab\\there"}'],
        "--label note: 'tab\\there' is not valid; expected text on one line",
    ),
    (["--label=bad key=1"], "--label: 'bad key' is not valid; expected a label key"),
    (['--build-args-json={"1X": "a"}'], "--build-arg: '1X' is not valid; expected a name of letters"),
    (["--build-arg=V={{workflow.name}}"], "expected text without '{{'"),
    (["--build-arg=NOVALUE"], "--build-arg: 'NOVALUE' is not KEY=VALUE"),
    (["--build-args-json=[1]"], "--build-args-json: expected a JSON object of strings"),
    (["--labels-json={bad"], "--labels-json: not valid JSON"),
    (['--mirrors-json={"docker.io": 5}'], "the mirrors of 'docker.io' must be a list of strings"),
    (["--probe-timeout=0"], "--probe-timeout: 0.0 must be a positive number of seconds"),
    (["--authfile=/nonexistent/config.json"], "--authfile: '/nonexistent/config.json' does not exist"),
    (["--fallback=maybe"], "invalid choice: 'maybe'"),
]


@pytest.mark.parametrize(("argv", "message"), BAD_COMMAND_LINES)
def test_bad_command_line_is_a_usage_error(argv, message, capsys, tmp_path, bad_input):
    run = run_prefetch(capsys, tmp_path, "FROM scratch\n", *argv)

    assert run.code == EXIT_USAGE
    assert message in run.err
    assert SECRET not in run.err
    assert "Traceback" not in run.err
    bad_input.record(area="CLI", given=" ".join(argv), error=run.err.strip().splitlines()[-1])


@pytest.mark.parametrize(
    ("dockerfile", "argv", "message"),
    [
        ("FROM scratch AS app\n", ["--target=missing"], "target: no stage is named 'missing'"),
        ("FROM scratch\nFROM\n", [], "Dockerfile line 2: FROM needs an image"),
        # Argo substitutes inside parameter values (workflow/common/util.go: SubstituteParams),
        # and the pinned Dockerfile is one: it would reach the build rewritten.
        ("FROM scratch\n# {{workflow.name}}\n", [], "Dockerfile line 2: '{{' cannot reach the build"),
        ("FROM scratch\nRUN echo '{{=sprig.b64enc(\"x\")}}'\n", [], "expected the braces written apart"),
    ],
)
def test_bad_dockerfile_input_fails_without_retry(dockerfile, argv, message, capsys, tmp_path):
    run = run_prefetch(capsys, tmp_path, dockerfile, *argv)

    assert run.code == EXIT_FAILED
    assert run.last_line.startswith("prefetch failed: ")
    assert message in run.last_line


def test_missing_dockerfile(capsys, tmp_path):
    run = run_prefetch(capsys, tmp_path, "FROM scratch\n", f"--dockerfile={tmp_path / 'nope'}")

    assert run.code == EXIT_FAILED
    assert f"--dockerfile: cannot read '{tmp_path / 'nope'}'" in run.last_line


def test_scratch_only_dockerfile_needs_no_registry_and_warns_about_unused_args(capsys, tmp_path):
    run = run_prefetch(
        capsys, tmp_path, "FROM scratch\nARG USED\n", "--build-arg=USED=1", "--build-arg=TYPO=2"
    )

    assert run.code == 0, run.err
    assert run.dockerfile.startswith('FROM scratch\nARG USED="1"\nLABEL "org.opencontainers.image.created"=')
    assert run.registry_map == NO_OP_REGISTRY_MAP
    assert run.report["unused_build_args"] == ["TYPO"]
    assert "warning: build arg 'TYPO' is not declared by any ARG" in run.err
    assert run.last_line.startswith("prefetch: 0 base image(s) pinned in ")
    assert run.last_line.endswith("mirror plan: every image from its own registry (fallback on)")


def test_console_script_runs_the_step(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    done = subprocess.run(
        [sys.executable, "-m", "hera_imagebuild.cli.main", "prefetch", f"--output-dir={tmp_path / 'out'}"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "Dockerfile").read_text().startswith("FROM scratch\nLABEL ")


def test_no_source_at_all_is_a_deterministic_failure(capsys, tmp_path):
    run = run_prefetch(capsys, tmp_path, "FROM registry.invalid/team/app:1\n", "--no-fallback")

    assert run.code == EXIT_FAILED
    assert run.last_line == (
        "prefetch failed: no source could provide registry.invalid/team/app:1 for linux/amd64; tried: none "
        "(no mirror is configured for registry.invalid and the fallback to it is off)"
    )
