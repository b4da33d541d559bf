"""``build --local``: the whole build DAG on this machine, with the pods' step code and argv contract.

prefetch and push run as ``python -m hera_imagebuild.cli.main prefetch|push``
with command lines from :mod:`hera_imagebuild.common.contract`, exactly as
their pods run them; the builder runs the command lines its
:class:`~hera_imagebuild.builders.Builder` entry writes for the template. Each
step has a deadline, as its pod has ``activeDeadlineSeconds``, and ends with
the pods' exit codes: 0, 1 (a retry cannot help), 2 (bad input), 75 (a retry
may help). A failed build is classified from its last lines by the builder's
failure table, the table its Argo retry rule is written from.

The output directory receives the files the pods leave for Argo (``digest``,
``image-ref``, ``image-refs.json``, ``base-images.json``) plus one
``report.json`` with every step's report, and only when the build has been
pushed and verified everywhere: a failed build leaves it untouched.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from hera_imagebuild.builders import (
    BUILDAH,
    KANIKO,
    LOCAL_BUILDER,
    Builder,
    BuildJob,
    BuildPaths,
    builder_named,
)
from hera_imagebuild.common.contract import (
    REGISTRY_CA_DIR,
    PrefetchArgs,
    PrefetchOutputs,
    PushArgs,
    PushOutputs,
)
from hera_imagebuild.common.failures import EXIT_FAILED, EXIT_OK, EXIT_TRANSIENT, EXIT_USAGE, FailureKind
from hera_imagebuild.common.reference import parse_reference
from hera_imagebuild.local.kaniko_sandbox import Bind, sandboxed_argv
from hera_imagebuild.local.process import Finished, run_bounded
from hera_imagebuild.pod.atomic import write_files

KANIKO_EXECUTOR_ENV = "HERA_IMAGEBUILD_KANIKO_EXECUTOR"
"""The environment variable that names a kaniko executor binary."""
STEP_COMMAND = (sys.executable, "-m", "hera_imagebuild.cli.main")
"""How a step runs here: this package's CLI in this interpreter, as the runtime image runs it."""


class BuilderUnavailable(ValueError):
    """The chosen builder cannot run on this machine (not installed, or needs root)."""


@dataclass(frozen=True, kw_only=True)
class LocalBuild:
    """One build on this machine: the build spec's fields that apply here, plus local settings.

    Attributes:
        context: The build context directory.
        destinations: ``registry/repository:tag`` to push to (the first is ``image-ref``).
        output_dir: Where the output files go.
        dockerfile: The Dockerfile's path relative to ``context``.
        build_args: Build arguments.
        labels: Labels for the built image.
        target: The stage to build (``""``: the last).
        platform: ``OS/ARCH[/VARIANT]``.
        mirrors: Mirrors per registry, in order.
        fallback: Whether to use an image's own registry after its mirrors.
        base_image_cache: ``HOST[/PREFIX]`` to copy base images into first (``""``: off).
        probe_timeout: Seconds a source may take to resolve an image.
        proxies: ``HTTP_PROXY``, ``HTTPS_PROXY``, ``NO_PROXY`` values for pulls and RUN lines.
        insecure_registries: Registries reached over plain HTTP.
        registry_ca: CA certificate file per privately signed registry.
        authfile: docker ``config.json`` with registry credentials.
        builder: ``buildah`` or ``kaniko``.
        kaniko_executor: The kaniko executor binary (default: ``$HERA_IMAGEBUILD_KANIKO_EXECUTOR``).
        build_timeout: Seconds the build may take (its pod's deadline).
        prefetch_timeout: Seconds prefetch may take.
        push_timeout: Seconds push may take, retries included.
        workdir: Keep the scratch files here (a new directory) instead of a temporary one.
    """

    context: Path
    destinations: Sequence[str]
    output_dir: Path
    dockerfile: str = "Dockerfile"
    build_args: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    target: str = ""
    platform: str = "linux/amd64"
    mirrors: Mapping[str, Sequence[str]] = field(default_factory=dict)
    fallback: bool = True
    base_image_cache: str = ""
    probe_timeout: float = 5.0
    proxies: Mapping[str, str] = field(default_factory=dict)
    insecure_registries: Sequence[str] = ()
    registry_ca: Mapping[str, Path] = field(default_factory=dict)
    authfile: Path | None = None
    builder: str = LOCAL_BUILDER
    kaniko_executor: Path | None = None
    build_timeout: float = 2700.0
    prefetch_timeout: float = 900.0
    push_timeout: float = 1800.0
    workdir: Path | None = None

    def __post_init__(self) -> None:
        builder_named(self.builder)
        if not self.context.is_dir():
            raise ValueError(f"--context: {str(self.context)!r} is not a directory (a local build context)")
        dockerfile = (self.context / self.dockerfile).resolve()
        if not dockerfile.is_relative_to(self.context.resolve()) or not dockerfile.is_file():
            raise ValueError(
                f"--dockerfile: {self.dockerfile!r} is not a file inside the context {str(self.context)!r}"
            )
        if not self.destinations:
            raise ValueError("--destination: at least one is required (registry/repository:tag)")
        for destination in self.destinations:  # before the build, not after it
            parse_reference(destination, field="--destination")
        for name in ("build_timeout", "prefetch_timeout", "push_timeout", "probe_timeout"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ValueError(
                    f"--{name.replace('_', '-')}: {value!r} must be a positive number of seconds"
                )
        for host, path in self.registry_ca.items():
            if not Path(path).is_file():
                raise ValueError(f"--registry-ca: {host}={str(path)!r}: no such file (a PEM CA certificate)")
        if self.output_dir.exists() and not self.output_dir.is_dir():
            raise ValueError(f"--output-dir: {str(self.output_dir)!r} exists and is not a directory")
        if self.workdir is not None and self.workdir.exists() and any(self.workdir.iterdir()):
            raise ValueError(
                f"--workdir: {str(self.workdir)!r} exists and is not empty; give a new directory"
            )


@dataclass(frozen=True)
class LocalResult:
    """How a local build ended.

    Attributes:
        exit_code: The pods' exit codes: 0, 1, 2 or 75.
        message: One line: what was built and pushed, or what failed and why.
        failed_step: ``prefetch``, ``build`` or ``push`` when one failed.
        digest: The pushed image's manifest digest.
        image_refs: ``repo@digest`` per destination.
        seconds: Wall time per step.
        log_tail: The failed step's last output lines, bounded like a termination message.
    """

    exit_code: int
    message: str
    failed_step: str | None = None
    digest: str | None = None
    image_refs: tuple[str, ...] = ()
    seconds: Mapping[str, float] = field(default_factory=dict)
    log_tail: str = ""


def kaniko_executor(build: LocalBuild) -> Path | None:
    """The executor binary: the setting, else ``$HERA_IMAGEBUILD_KANIKO_EXECUTOR``."""
    named = build.kaniko_executor or os.environ.get(KANIKO_EXECUTOR_ENV)
    return Path(named) if named else None


def check_builder(build: LocalBuild) -> Builder:
    """The builder, once it is known to be able to run here.

    Raises:
        BuilderUnavailable: One line saying what to install or set.
    """
    builder = builder_named(build.builder)
    if builder is KANIKO:
        executor = kaniko_executor(build)
        if executor is None or not (executor.is_file() and os.access(executor, os.X_OK)):
            where = f"{str(executor)!r} is not an executable file" if executor else "no executor is given"
            raise BuilderUnavailable(f"--builder=kaniko: {where}; {KANIKO.install_hint}")
        if shutil.which("unshare") is None:
            raise BuilderUnavailable("--builder=kaniko: needs unshare (util-linux) to hold the executor")
    elif shutil.which(BUILDAH.binary) is None:
        raise BuilderUnavailable(f"--builder=buildah: buildah is not installed; {BUILDAH.install_hint}")
    if builder.security.run_as_root and os.geteuid() != 0:
        raise BuilderUnavailable(f"--builder={builder.name}: builds run as root here; run as root (or sudo)")
    return builder


@contextlib.contextmanager
def scratch_directory(requested: Path | None, *, prefix: str = "hera-imagebuild-local-") -> Iterator[Path]:
    """``requested`` (kept afterwards), or a temporary directory removed at the end."""
    if requested is not None:
        requested.mkdir(parents=True, exist_ok=True)
        yield requested
        return
    with tempfile.TemporaryDirectory(prefix=prefix) as name:
        yield Path(name)


class _Steps:
    """Runs the three steps of one build in a scratch directory and remembers their times."""

    def __init__(self, build: LocalBuild, builder: Builder, work: Path, out: TextIO) -> None:
        self.build = build
        self.builder = builder
        self.work = work
        self.out = out
        self.seconds: dict[str, float] = {}
        self.cert_dir = self._cert_dir()

    def _cert_dir(self) -> Path | None:
        """The registry CAs as one directory of ``*.crt`` files (what ``--cert-dir`` takes)."""
        if not self.build.registry_ca:
            return None
        directory = self.work / "certs"
        directory.mkdir()
        for number, path in enumerate(self.build.registry_ca.values()):
            shutil.copyfile(path, directory / f"ca-{number}.crt")
        return directory

    def _echo(self, line: str) -> None:
        self.out.write(line + "\n")
        self.out.flush()

    def run(self, step: str, argv: Sequence[str], timeout: float, env: Mapping[str, str] = {}) -> Finished:
        if step not in self.seconds:
            self._echo(f"== {step}")
        live = step != "build" and self.out.isatty()
        finished = run_bounded(
            argv,
            timeout=timeout,
            env={**os.environ, **env},
            on_line=None if live else self._echo,
            inherit_output=live,
        )
        self.seconds[step] = finished.seconds
        return finished

    def prefetch(self) -> Finished:
        build = self.build
        args = PrefetchArgs(
            dockerfile=str(build.context / build.dockerfile),
            build_args=[f"{k}={v}" for k, v in build.build_args.items()],
            labels=[f"{k}={v}" for k, v in build.labels.items()],
            target=build.target or None,
            platform=build.platform,
            mirrors=[f"{registry}={','.join(found)}" for registry, found in build.mirrors.items()],
            fallback="true" if build.fallback else "false",
            probe_timeout=build.probe_timeout,
            cache_registry=build.base_image_cache or None,
            builder=self.builder.name,
            output_dir=str(self.work / "prefetch"),
            authfile=str(build.authfile) if build.authfile else None,
            cert_dir=str(self.cert_dir) if self.cert_dir else None,
            insecure_registries=list(build.insecure_registries),
        )
        return self.run("prefetch", [*STEP_COMMAND, *args.to_argv()], build.prefetch_timeout)

    def _job(
        self, paths: BuildPaths, registry_config: str, certificates: tuple[tuple[str, str], ...]
    ) -> BuildJob:
        build = self.build
        authfile = None if self.builder is KANIKO else build.authfile
        return BuildJob(
            paths=paths,
            registry_config=registry_config,
            skip_fallback="false" if build.fallback else "true",
            platform=build.platform,
            target=build.target,
            proxies=tuple(
                (spelling, value)
                for name, value in build.proxies.items()
                for spelling in (name, name.lower())
            ),
            insecure_registries=tuple(build.insecure_registries),
            registry_certificates=certificates,
            cert_dir=str(self.cert_dir) if self.cert_dir else None,
            authfile=str(authfile) if authfile else None,
            storage=str(self.work / "storage"),
        )

    def _host_paths(self) -> BuildPaths:
        directory = self.work / "build"
        for sub in ("pinned", "image", "out"):
            (directory / sub).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(
            self.work / "prefetch" / PrefetchOutputs.DOCKERFILE, directory / "pinned" / "Dockerfile"
        )
        return BuildPaths(
            context=str(self.build.context.resolve()),
            dockerfile=str(directory / "pinned" / "Dockerfile"),
            layout=str(directory / "image"),
            output=str(directory / "out"),
            docker_config=str(directory / "docker"),
        )

    def run_builder(self) -> tuple[Finished, Path, Path]:
        """Run the builder; returns how it ended, and the OCI layout and digest file on the host."""
        host = self._host_paths()
        config_file = self.work / "prefetch" / self.builder.registry_config_file
        if self.builder is KANIKO:
            finished = self._run_kaniko(host, config_file.read_text(encoding="utf-8"))
        else:
            commands = self.builder.commands(self._job(host, str(config_file), ()))
            finished = self._run_commands([(c.argv, c.env) for c in commands])
        return finished, Path(host.layout), Path(host.digest_file)

    def _run_kaniko(self, host: BuildPaths, registry_map: str) -> Finished:
        """Kaniko in its sandbox, its volumes at the build pod's mount paths."""
        executor = kaniko_executor(self.build)
        assert executor is not None  # check_builder made sure
        pod = KANIKO.paths
        certificates = tuple(
            (registry, f"{REGISTRY_CA_DIR}/{number}.crt")
            for number, registry in enumerate(self.build.registry_ca)
        )
        binds = [
            Bind(Path(host.context), pod.context, read_only=True),
            Bind(Path(host.dockerfile).parent, pod.dockerfile.rpartition("/")[0], read_only=True),
            Bind(Path(host.layout), pod.layout),
            Bind(Path(host.output), pod.output),
            *(
                Bind(Path(path), inside, read_only=True)
                for path, (_, inside) in zip(self.build.registry_ca.values(), certificates, strict=True)
            ),
        ]
        if self.build.authfile is not None:
            binds.append(Bind(self.build.authfile, f"{pod.docker_config}/config.json", read_only=True))
        (command,) = KANIKO.commands(self._job(pod, registry_map, certificates))
        root = self.work / "kaniko-root"
        root.mkdir()
        argv = sandboxed_argv(
            command.argv, executor=executor, root=root, binds=binds, env_names=list(command.env)
        )
        return self._run_commands([(tuple(argv), command.env)])

    def _run_commands(self, commands: Sequence[tuple[Sequence[str], Mapping[str, str]]]) -> Finished:
        """The builder's processes in order, all within the build's one deadline."""
        deadline = time.monotonic() + self.build.build_timeout
        finished = Finished(0, "", False, 0.0)
        spent = 0.0
        for argv, env in commands:
            finished = self.run("build", argv, max(deadline - time.monotonic(), 0.001), env)
            spent += finished.seconds
            if finished.returncode != 0:
                break
        self.seconds["build"] = spent
        return finished

    def push(self, layout: Path, digest: str) -> Finished:
        build = self.build
        args = PushArgs(
            image=str(layout),
            destinations=list(build.destinations),
            expected_digest=digest,
            # Leave the step time to report before its deadline, as the push template does.
            timeout=max(build.push_timeout - 60, build.push_timeout / 2),
            output_dir=str(self.work / "push"),
            authfile=str(build.authfile) if build.authfile else None,
            cert_dir=str(self.cert_dir) if self.cert_dir else None,
            insecure_registries=list(build.insecure_registries),
        )
        return self.run("push", [*STEP_COMMAND, *args.to_argv()], build.push_timeout)


def _step_failed(step: str, finished: Finished) -> tuple[int, str]:
    """The exit code and message of a failed prefetch or push: its own code and last line."""
    if finished.timed_out:
        return EXIT_TRANSIENT, f"{step} failed: it did not finish within its deadline and was stopped"
    lines = finished.tail.strip().splitlines()
    last = lines[-1] if lines else f"{step} failed (exit {finished.returncode}); its last line is above"
    known = finished.returncode in (EXIT_FAILED, EXIT_USAGE, EXIT_TRANSIENT)
    return (finished.returncode if known else EXIT_FAILED), last


def _build_failed(builder: Builder, finished: Finished, timeout: float) -> tuple[int, str]:
    """Classify a failed build from its last lines, with the table its Argo retry rule is written from."""
    if finished.timed_out:
        # What Argo sees for the pod, and what its retry rule accepts.
        return EXIT_TRANSIENT, f"the build did not finish within {timeout:g}s and was stopped"
    kind = builder.failures.classify(finished.tail)
    lines = [line for line in finished.tail.splitlines() if line.strip()]
    last = lines[-1] if lines else f"{builder.name} exited {finished.returncode} without output"
    return (EXIT_TRANSIENT if kind is FailureKind.TRANSIENT else EXIT_FAILED), last


def _outputs(work: Path) -> dict[str, str]:
    """The output files, from the steps' own outputs (one ``report.json`` with each step's report)."""
    prefetch, push = work / "prefetch", work / "push"
    report = {
        "prefetch": json.loads((prefetch / PrefetchOutputs.REPORT).read_text(encoding="utf-8")),
        "push": json.loads((push / PushOutputs.REPORT).read_text(encoding="utf-8")),
    }
    files = {
        name: (push / name).read_text(encoding="utf-8")
        for name in (PushOutputs.DIGEST, PushOutputs.IMAGE_REF, PushOutputs.IMAGE_REFS)
    }
    files[PrefetchOutputs.BASE_IMAGES] = (prefetch / PrefetchOutputs.BASE_IMAGES).read_text(encoding="utf-8")
    files["report.json"] = json.dumps(report, indent=2) + "\n"
    return files


def build_locally(build: LocalBuild, *, out: TextIO | None = None) -> LocalResult:
    """Run prefetch, the builder and push on this machine.

    Args:
        build: What to build and where to push it.
        out: Where the steps' lines go (default: stderr); a terminal gets live progress.

    Returns:
        How it ended; the output files are written only on success.

    Raises:
        BuilderUnavailable: The builder cannot run here (nothing was started).
    """
    out = out or sys.stderr
    builder = check_builder(build)
    with scratch_directory(build.workdir) as work:
        steps = _Steps(build, builder, work, out)

        def failed(
            step: str, code: int, message: str, finished: Finished, digest: str | None = None
        ) -> LocalResult:
            return LocalResult(code, message, step, digest, seconds=steps.seconds, log_tail=finished.tail)

        finished = steps.prefetch()
        if finished.returncode != EXIT_OK or finished.timed_out:
            return failed("prefetch", *_step_failed("prefetch", finished), finished)
        finished, layout, digest_file = steps.run_builder()
        if finished.returncode != 0 or finished.timed_out:
            code, message = _build_failed(builder, finished, build.build_timeout)
            return failed("build", code, f"build failed ({builder.name}): {message}", finished)
        try:
            digest = digest_file.read_text(encoding="utf-8").strip()
        except OSError:
            return failed("build", EXIT_FAILED, f"build failed ({builder.name}): no digest file", finished)
        finished = steps.push(layout, digest)
        if finished.returncode != EXIT_OK or finished.timed_out:
            return failed("push", *_step_failed("push", finished), finished, digest)
        files = _outputs(work)
    write_files(build.output_dir, files)
    refs = tuple(json.loads(files[PushOutputs.IMAGE_REFS]))
    return LocalResult(
        EXIT_OK,
        f"built with {builder.name}, pushed and verified: {', '.join(refs)}",
        digest=digest,
        image_refs=refs,
        seconds=steps.seconds,
    )
