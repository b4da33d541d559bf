"""``build --local`` refuses what it cannot do in one line, before starting anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from hera_imagebuild.builders import KANIKO, BuildJob
from hera_imagebuild.cli.main import main
from hera_imagebuild.common.failures import EXIT_USAGE
from hera_imagebuild.local.build import KANIKO_EXECUTOR_ENV
from hera_imagebuild.local.kaniko_sandbox import Bind, sandboxed_argv
from hera_imagebuild.sandbox.matrix import BadInputRecorder


@pytest.fixture
def context(tmp_path: Path) -> Path:
    directory = tmp_path / "context"
    directory.mkdir()
    (directory / "Dockerfile").write_text("FROM busybox:1.36\n")
    return directory


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(["build", "--local", *argv])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.err.strip()


DESTINATION = "-d=r.example.com/a:1"
BAD = [
    (["--context={context}/missing", DESTINATION], "is not a directory (a local build context)"),
    (["--context={context}", DESTINATION, "-f=../x"], "--dockerfile: '../x' is not a file inside"),
    (["--context={context}", "-d=Bad/Name:1"], "--destination: 'Bad/Name:1' is not a valid image reference"),
    (["--context={context}", DESTINATION, "--git-ref=v1"], "--git-ref: not used by a local build"),
    (["--context={context}", DESTINATION, "--watch"], "--watch: not used by a local build"),
    (["--context={context}", DESTINATION, "--build-timeout=0"], "--build-timeout: 0.0 must be"),
    (["--context={context}", DESTINATION, "--registry-ca=r.example.com"], "--registry-ca: "),
    (["--context={context}", DESTINATION, "--builder=kaniko"], "--builder=kaniko: no executor is given"),
    (
        ["--context={context}", DESTINATION, "--kaniko-executor={context}/Dockerfile"],
        "not an executable file",
    ),
]


@pytest.mark.parametrize(("argv", "message"), BAD, ids=[message[:40] for _, message in BAD])
def test_bad_input_is_one_line_and_exit_2(
    argv: list[str],
    message: str,
    context: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    bad_input: BadInputRecorder,
) -> None:
    monkeypatch.delenv(KANIKO_EXECUTOR_ENV, raising=False)
    code, error = _run(capsys, *(a.format(context=context) for a in argv))
    assert code == EXIT_USAGE
    assert "\n" not in error
    assert error.startswith("hera-imagebuild build --local: ")
    assert message in error
    bad_input.record(area="CLI", given="hera-imagebuild build --local " + " ".join(argv), error=error)


def test_a_missing_buildah_says_what_to_install(
    context: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    code, error = _run(capsys, f"--context={context}", "-d=r.example.com/a:1")
    assert code == EXIT_USAGE
    assert "buildah is not installed" in error
    assert "apt-get install buildah" in error


def test_kaniko_runs_chrooted_with_its_volumes_at_the_pod_paths(tmp_path: Path) -> None:
    (command,) = KANIKO.commands(BuildJob(paths=KANIKO.paths, registry_config="a=b"))
    binds = [
        Bind(tmp_path / "ctx", KANIKO.paths.context, read_only=True),
        Bind(tmp_path / "out", KANIKO.paths.output),
    ]
    argv = sandboxed_argv(
        command.argv,
        executor=tmp_path / "executor",
        root=tmp_path / "root",
        binds=binds,
        env_names=["DOCKER_CONFIG"],
    )
    assert argv[:6] == ["unshare", "--mount", "--pid", "--fork", "--kill-child", "--"]
    assert f"--bind={tmp_path / 'ctx'}:{KANIKO.paths.context}:ro" in argv
    assert f"--bind={tmp_path / 'out'}:{KANIKO.paths.output}" in argv
    assert "--pass-env=DOCKER_CONFIG" in argv
    assert argv[-len(command.argv) - 1 :] == ["--", *command.argv]  # kaniko's argv, untouched, last


def test_an_executor_in_the_environment_makes_kaniko_the_default(
    context: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KANIKO_EXECUTOR_ENV, str(context / "no-such-executor"))
    code, error = _run(capsys, f"--context={context}", DESTINATION)
    assert code == EXIT_USAGE
    assert "--builder=kaniko: " in error
    assert "no-such-executor" in error
    # An explicit --builder wins over the environment.
    monkeypatch.setenv("PATH", str(context / "empty"))
    code, error = _run(capsys, f"--context={context}", DESTINATION, "--builder=buildah")
    assert "buildah is not installed" in error
