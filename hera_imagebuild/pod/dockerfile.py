"""Find a Dockerfile's external base images and write the pinned copy the build uses.

:func:`parse_dockerfile` evaluates what decides which images a build pulls:
``ARG`` before the first ``FROM`` (defaults and build-arg overrides), the
automatic platform arguments, variables in ``FROM``, stage names (``AS name``,
case-insensitive) and indexes, ``scratch``, ``FROM --platform=``,
``COPY --from=`` and ``RUN --mount=...,from=``. What it cannot evaluate is an
error naming the line, never a guess; so is a file past the limits in
:mod:`~hera_imagebuild.pod.dockerfile_limits`, which keep the parse linear in
the size of the file however it is crafted.

:meth:`Dockerfile.render` writes the copy kaniko builds: every external image
pinned as ``name@sha256:...`` under its original registry name (kaniko's
``--registry-map`` sends the pull to a mirror), every ``ARG`` declaration of a
given build arg turned into ``ARG NAME=<value>`` (what ``--build-arg`` would
do; kaniko's argv is fixed when the template is rendered) and the labels as
one ``LABEL`` at the end of the target stage. Everything else stays
byte-for-byte.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from hera_imagebuild.common.reference import ImageReference, ReferenceError, parse_reference
from hera_imagebuild.pod.dockerfile_lexer import DockerfileError, Instruction, tokenize
from hera_imagebuild.pod.dockerfile_limits import MAX_EXPANDED_TOTAL
from hera_imagebuild.pod.dockerfile_words import (
    ExpansionError,
    UndefinedVariableError,
    Word,
    expand,
    quote,
)

__all__ = [
    "ArgDeclaration",
    "BaseImage",
    "Dockerfile",
    "DockerfileError",
    "ImageKey",
    "Stage",
    "normalize_platform",
    "parse_dockerfile",
]

_STAGE_NAME = re.compile(r"[a-zA-Z][a-zA-Z0-9_.-]*")
_PLATFORM_PART = re.compile(r"[a-z0-9][a-z0-9_.-]*")
SCRATCH = "scratch"

ImageKey = tuple[ImageReference, str]
"""An image and the platform it is resolved for: what one digest pins."""


def normalize_platform(text: str, *, field: str = "platform") -> str:
    """Validate ``OS/ARCH[/VARIANT]`` and return it in lower case.

    Raises:
        ValueError: Naming ``field``, the value and the accepted form.
    """
    parts = text.strip().lower().split("/")
    if not 2 <= len(parts) <= 3 or not all(_PLATFORM_PART.fullmatch(p) for p in parts):
        raise ValueError(
            f"{field}: {text!r} is not a platform; expected OS/ARCH[/VARIANT] such as linux/amd64"
        )
    return "/".join(parts)


def platform_args(platform: str) -> dict[str, str]:
    """The automatic ``BUILD*``/``TARGET*`` arguments for a build on and for ``platform``.

    kaniko builds for the platform it runs on, so the build and target
    platforms are the same.
    """
    os_name, arch, *variant = platform.split("/")
    values = {"PLATFORM": platform, "OS": os_name, "ARCH": arch, "VARIANT": variant[0] if variant else ""}
    return {f"{side}{key}": value for side in ("BUILD", "TARGET") for key, value in values.items()}


@dataclass(frozen=True)
class BaseImage:
    """One place where the Dockerfile uses an external image.

    Attributes:
        image: The parsed, normalised reference.
        written: The reference as written, variables expanded.
        platform: The platform its index resolves to (``FROM --platform`` or the build's).
        line: The line of the instruction.
        instruction: ``FROM``, ``COPY --from`` or ``RUN --mount``.
        stage: Index of the stage the instruction belongs to.
        span: File offsets of the text that :meth:`Dockerfile.render` replaces.
    """

    image: ImageReference
    written: str
    platform: str
    line: int
    instruction: str
    stage: int
    span: tuple[int, int] = field(repr=False)

    @property
    def key(self) -> ImageKey:
        """What one digest pins: the image and its platform."""
        return self.image, self.platform

    def pinned_text(self, digest: str) -> str:
        """The name as written (tag and digest dropped) pinned to ``digest``."""
        name = self.written.partition("@")[0]
        head, slash, last = name.rpartition("/")
        return f"{head}{slash}{last.partition(':')[0]}@{digest}"


@dataclass(frozen=True)
class Stage:
    """A build stage.

    Attributes:
        index: Position among the stages, from 0.
        name: The ``AS`` name in lower case, if any.
        line: The line of its ``FROM``.
        base: What it starts from, as written with variables expanded.
        parent: Index of the earlier stage it starts from, if it does.
        image: The external image it starts from, if it does (``None`` for
            ``scratch`` and for a stage built on an earlier stage).
        platform: The platform it builds for (``FROM --platform`` or the build's).
        end: File offset just past its last instruction.
    """

    index: int
    name: str | None
    line: int
    base: str
    parent: int | None
    image: BaseImage | None
    platform: str
    end: int = field(repr=False)


@dataclass(frozen=True)
class ArgDeclaration:
    """One ``NAME[=default]`` of an ``ARG`` instruction.

    Attributes:
        name: The argument name.
        line: The line of the instruction.
        stage: Index of the stage it is declared in, ``None`` before the first ``FROM``.
        span: File offsets of the ``NAME[=default]`` word.
    """

    name: str
    line: int
    stage: int | None
    span: tuple[int, int] = field(repr=False)


@dataclass(frozen=True)
class Dockerfile:
    r"""A parsed Dockerfile: its stages, external images and ``ARG`` declarations.

    Attributes:
        text: The original text.
        escape: The escape character (``\`` or the ``# escape=`` directive's).
        stages: The build stages in order.
        images: Every use of an external image, in file order.
        args: Every ``ARG`` declaration, in file order.
        build_args: The build arguments the file was evaluated with.
        unused_build_args: Build arguments no ``ARG`` declares (Docker warns about these).
    """

    text: str
    escape: str
    stages: tuple[Stage, ...]
    images: tuple[BaseImage, ...]
    args: tuple[ArgDeclaration, ...]
    build_args: Mapping[str, str]
    unused_build_args: tuple[str, ...]

    def target_stage(self, target: str | None = None) -> Stage:
        """The stage ``--target`` names (case-insensitive), or the last stage.

        Raises:
            ValueError: If no stage has that name; the message lists the names.
        """
        if target is None:
            return self.stages[-1]
        for stage in self.stages:
            if stage.name == target.lower():
                return stage
        names = ", ".join(repr(s.name) for s in self.stages if s.name) or "none"
        raise ValueError(f"target: no stage is named {target!r}; the stage names are: {names}")

    def images_for(self, target: str | None = None) -> list[BaseImage]:
        """The external images a build of ``target`` uses (stages after it are never built)."""
        last = self.target_stage(target).index
        return [image for image in self.images if image.stage <= last]

    def base_image(self, target: str | None = None) -> BaseImage | None:
        """The external image the target stage is built on, following earlier stages."""
        stage = self.target_stage(target)
        while stage.parent is not None:
            stage = self.stages[stage.parent]
        return stage.image

    def render(
        self,
        digests: Mapping[ImageKey, str],
        *,
        labels: Mapping[str, str] | None = None,
        target: str | None = None,
    ) -> str:
        """The Dockerfile to build: images pinned, build args baked in, labels added.

        Args:
            digests: The platform manifest digest for each image key; images
                without one are left as written.
            labels: Labels to add as one ``LABEL`` at the end of the target stage.
            target: The stage being built (default: the last).

        Raises:
            ValueError: If a label contains a line break.
        """
        edits: list[tuple[int, int, str]] = []
        for image in self.images:
            if image.key in digests:
                edits.append((*image.span, image.pinned_text(digests[image.key])))
        for arg in self.args:
            if arg.name in self.build_args:
                edits.append((*arg.span, f"{arg.name}={quote(self.build_args[arg.name], self.escape)}"))
        if labels:
            end = self.target_stage(target).end
            newline = "\r\n" if "\r\n" in self.text else "\n"
            pairs = []
            for key, value in labels.items():
                try:
                    pairs.append(f"{quote(key, self.escape)}={quote(value, self.escape)}")
                except ValueError as error:
                    raise ValueError(f"label {key!r}: {error}") from None
            lead = newline if end and not self.text[:end].endswith("\n") else ""
            edits.append((end, end, f"{lead}LABEL {' '.join(pairs)}{newline}"))
        # One pass: splicing each edit into the whole text would copy it once per image.
        pieces: list[str] = []
        position = 0
        for start, stop, replacement in sorted(edits):
            pieces += (self.text[position:start], replacement)
            position = stop
        pieces.append(self.text[position:])
        return "".join(pieces)


@dataclass
class _Parser:
    escape: str
    build_args: Mapping[str, str]
    platform: str
    global_env: dict[str, str] = field(default_factory=dict)
    stage_env: dict[str, str] = field(default_factory=dict)
    stages: list[Stage] = field(default_factory=list)
    # Stage index by (lower-case) name: a list scan per reference is quadratic in the stages.
    stage_names: dict[str, int] = field(default_factory=dict)
    images: list[BaseImage] = field(default_factory=list)
    args: list[ArgDeclaration] = field(default_factory=list)
    arg_chars: int = 0  # characters of the ARG defaults expanded so far, against MAX_EXPANDED_TOTAL

    def parse(self, instructions: list[Instruction]) -> None:
        self.global_env.update(platform_args(self.platform))
        builtins = dict(self.global_env)
        stage_instructions: list[Instruction] = []
        for instruction in instructions:
            if instruction.keyword == "FROM":
                self._close_stage(stage_instructions)
                stage_instructions = [instruction]
                self._from(instruction)
            elif not self.stages and not stage_instructions:
                if instruction.keyword != "ARG":
                    raise instruction.error(f"{instruction.keyword} before the first FROM (only ARG may be)")
                self._arg(instruction, self.global_env, outer=builtins)
            else:
                stage_instructions.append(instruction)
                if instruction.keyword == "ARG":
                    self._arg(instruction, self.stage_env, outer=self.global_env)
                elif instruction.keyword == "COPY":
                    self._copy(instruction)
                elif instruction.keyword == "RUN":
                    self._run(instruction)
        self._close_stage(stage_instructions)
        if not self.stages:
            raise DockerfileError(1, "the Dockerfile has no FROM instruction")
        self._check_forward_references()

    def _check_forward_references(self) -> None:
        """Refuse ``--from`` naming a later stage: kaniko would pull it as an image."""
        for image in self.images:
            index = self.stage_names.get(image.written.lower())
            if image.instruction != "FROM" and index is not None:
                later = self.stages[index]
                raise DockerfileError(
                    image.line,
                    f"{image.instruction}={image.written} names stage {later.index}, "
                    f"which is defined later (line {later.line}); a stage can only use earlier stages",
                )

    def _close_stage(self, instructions: list[Instruction]) -> None:
        if instructions and self.stages:
            self.stages[-1] = dataclasses.replace(self.stages[-1], end=instructions[-1].end)

    def _arg(self, instruction: Instruction, env: dict[str, str], *, outer: Mapping[str, str]) -> None:
        words = instruction.words()
        if not words:
            raise instruction.error("ARG needs a name")
        for word in words:
            name, has_default, default = word.raw.partition("=")
            if not name or not re.fullmatch(r"[^\s$\"'=]+", name):
                raise instruction.error(f"{name!r} is not an ARG name")
            stage = self.stages[-1].index if self.stages else None
            self.args.append(
                ArgDeclaration(name, instruction.line, stage, instruction.span(word.start, word.end))
            )
            if name in self.build_args:
                env[name] = self.build_args[name]
            elif has_default:
                env[name] = self._expand(instruction, default, env, strict=False)
                # The values stay in scope, so many copies of a long one would exhaust the memory;
                # every other expanded word is checked (as an image or platform) and then dropped.
                self.arg_chars += len(env[name])
                if self.arg_chars > MAX_EXPANDED_TOTAL:
                    raise instruction.error(
                        f"the ARG defaults add up to more than {MAX_EXPANDED_TOTAL} characters "
                        "once expanded (the limit)"
                    )
            elif name in outer:
                env[name] = outer[name]
            else:
                env.pop(name, None)

    def _expand(self, instruction: Instruction, text: str, env: Mapping[str, str], *, strict: bool) -> str:
        try:
            return expand(text, env, escape=self.escape, strict=strict)
        except UndefinedVariableError as error:
            where = "ARG before the first FROM" if instruction.keyword == "FROM" else "ARG in this stage"
            raise instruction.error(
                f"variable {error.name!r} has no value (declare it with {where} or pass it as a build arg)"
            ) from None
        except ExpansionError as error:
            raise instruction.error(str(error)) from None

    def _from(self, instruction: Instruction) -> None:
        flags, rest = _split_flags(instruction.words())
        platform = self.platform
        for flag in flags:
            flag_name, _, value = flag.raw.partition("=")
            if flag_name != "--platform":
                raise instruction.error(f"unknown FROM flag {flag_name!r} (accepted: --platform)")
            expanded = self._expand(instruction, value, self.global_env, strict=True)
            try:
                platform = normalize_platform(expanded, field="FROM --platform")
            except ValueError as error:
                raise instruction.error(str(error)) from None
        if not rest:
            raise instruction.error("FROM needs an image")
        name: str | None = None
        if len(rest) == 3 and rest[1].raw.lower() == "as":
            name = rest[2].raw.lower()
            if not _STAGE_NAME.fullmatch(name):
                raise instruction.error(
                    f"stage name {rest[2].raw!r} must start with a letter and contain only "
                    "letters, digits, '_', '.' and '-'"
                )
            if name in self.stage_names:
                raise instruction.error(f"stage name {name!r} is used twice")
        elif len(rest) != 1:
            raise instruction.error("expected FROM [--platform=PLATFORM] IMAGE [AS NAME]")
        word = rest[0]
        base = self._expand(instruction, word.raw, self.global_env, strict=True)
        if not base:
            raise instruction.error(f"FROM image {word.raw!r} is empty once its variables are expanded")
        index = len(self.stages)
        parent = self.stage_names.get(base.lower())
        image = None
        if parent is None and base.lower() != SCRATCH:
            image = self._image(instruction, word, base, "FROM", platform=platform)
        self.stages.append(
            Stage(index, name, instruction.line, base, parent, image, platform, instruction.end)
        )
        if name is not None:
            self.stage_names[name] = index
        self.stage_env = {}

    def _image(
        self, instruction: Instruction, word: Word, written: str, kind: str, *, platform: str | None = None
    ) -> BaseImage:
        """Record an external image; ``platform`` defaults to the current stage's."""
        if platform is None:
            platform = self.stages[-1].platform
        try:
            reference = parse_reference(written, field=f"{kind} image")
        except ReferenceError as error:
            raise instruction.error(str(error)) from None
        start = word.start + (word.raw.index("=") + 1 if kind == "COPY --from" else 0)
        span = instruction.span(start, word.end)
        # A FROM's stage is not in self.stages yet; other instructions belong to the last one.
        stage = len(self.stages) if kind == "FROM" else len(self.stages) - 1
        image = BaseImage(reference, written, platform, instruction.line, kind, stage, span)
        self.images.append(image)
        return image

    def _source(self, instruction: Instruction, raw: str, kind: str) -> str | None:
        """Expand a ``--from`` value; ``None`` when it names an earlier stage."""
        value = self._expand(instruction, raw, self.stage_env, strict=True)
        current = len(self.stages) - 1
        if not value:
            raise instruction.error(f"{kind} is empty")
        # ASCII digits only, as Docker reads an index: int() also reads other scripts' digits.
        if value.isascii() and value.isdigit():
            index = value.lstrip("0") or "0"
            # Lengths first: int() refuses a number of more than 4300 digits.
            if len(index) > len(str(current)) or int(index) >= current:
                raise instruction.error(f"{kind}={value} is not the index of an earlier stage")
            return None
        stage = self.stage_names.get(value.lower())
        if stage == current:
            raise instruction.error(f"{kind}={value} names the stage it is in")
        return None if stage is not None else value

    def _copy(self, instruction: Instruction) -> None:
        flags, _ = _split_flags(instruction.words())
        for flag in flags:
            if flag.raw.startswith("--from="):
                written = self._source(instruction, flag.raw[len("--from=") :], "COPY --from")
                if written is not None:
                    self._image(instruction, flag, written, "COPY --from")

    def _run(self, instruction: Instruction) -> None:
        flags, _ = _split_flags(instruction.words())
        for flag in flags:
            if not flag.raw.startswith("--mount="):
                continue
            offset = flag.start + len("--mount=")
            for option in flag.raw[len("--mount=") :].split(","):
                key, _, value = option.partition("=")
                if key.strip().lower() == "from":
                    written = self._source(instruction, value, "RUN --mount from")
                    if written is not None:
                        word = _unquoted(instruction, value, offset + len(key) + 1)
                        self._image(instruction, word, written, "RUN --mount")
                offset += len(option) + 1


def _unquoted(instruction: Instruction, value: str, start: int) -> Word:
    """The image name of a ``--mount`` ``from=`` value at ``start``, the quotes at its edges left out.

    Options are split on the raw text, so the quotes of ``--mount="type=bind,from=IMAGE"`` end
    up at the edge of a value; pinning them away would unbalance the quotes of the whole line.
    """
    name = value.strip("\"'")
    if '"' in name or "'" in name:
        raise instruction.error(
            f"RUN --mount from={value}: quotes inside an image name; quote the whole --mount value instead"
        )
    start += len(value) - len(value.lstrip("\"'"))
    return Word(start, start + len(name), name)


def _split_flags(words: list[Word]) -> tuple[list[Word], list[Word]]:
    """The leading ``--flag[=value]`` words and the rest."""
    count = 0
    while count < len(words) and words[count].raw.startswith("--"):
        count += 1
    return words[:count], words[count:]


def parse_dockerfile(
    text: str, *, build_args: Mapping[str, str] | None = None, platform: str = "linux/amd64"
) -> Dockerfile:
    """Parse a Dockerfile and evaluate which external images it uses.

    Args:
        text: The Dockerfile's contents.
        build_args: Build arguments, as ``--build-arg`` would pass them.
        platform: The platform the build runs on and builds for (``OS/ARCH[/VARIANT]``).

    Returns:
        The parsed Dockerfile.

    Raises:
        DockerfileError: For a construct it cannot understand; the message names the line.
        ValueError: For a bad platform or a build arg value with a line break.
    """
    build_args = dict(build_args or {})
    platform = normalize_platform(platform)
    for name, value in build_args.items():
        if "\n" in value or "\r" in value:
            raise ValueError(
                f"build arg {name!r}: its value contains a line break, which an ARG default cannot carry"
            )
    escape, instructions = tokenize(text)
    parser = _Parser(escape, build_args, platform)
    parser.parse(instructions)
    declared = {arg.name for arg in parser.args}
    return Dockerfile(
        text=text,
        escape=escape,
        stages=tuple(parser.stages),
        images=tuple(parser.images),
        args=tuple(parser.args),
        build_args=build_args,
        unused_build_args=tuple(sorted(set(build_args) - declared)),
    )
