"""The grammar of each value that the client, the pods and lint all check.

A spec is checked when it is built, a plain-YAML or ``templateRef`` user's
values only when the pod reads them, and lint checks the arguments given to
our templates: all three call the one function here for a value, so a value
one side accepts is never refused by another, and the messages read the same.
Each function raises :class:`ValueError` naming the field, the value (with any
credentials masked) and what is accepted. Standard library only: the pods
import it.
"""

from __future__ import annotations

import re

from hera_imagebuild.common.reference import (
    ReferenceError,
    is_repository_path,
    normalize_registry,
    redact_credentials,
)

PLATFORM_HELP = "OS/ARCH[/VARIANT] such as 'linux/amd64' or 'linux/arm64/v8'"
REGISTRY_SOURCE_HELP = "'host[:port][/path]' such as 'mirror.example.com/dockerhub' or '127.0.0.1:5000'"

_BUILD_ARG_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_LABEL_KEY = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._/-]*[A-Za-z0-9])?")
_PLATFORM = re.compile(r"[a-z0-9]+/[a-z0-9_]+(?:/[a-z0-9]+)?")
# Newline and tab included: a value with a line break cannot be an ARG default or a LABEL, and
# Argo's parameter values are single-line by our templates' contract.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def invalid(field: str, value: object, expected: str) -> ValueError:
    """The error for a field value: ``field: 'value' is not valid; expected ...``.

    A ``user:password@`` or ``token@`` in the value is shown as ``***@``: errors end up in logs.
    """
    shown = redact_credentials(value) if isinstance(value, str) else value
    return ValueError(f"{field}: {shown!r} is not valid; expected {expected}")


def literal_text(field: str, value: object) -> str:
    """A value passed on byte for byte: no control characters and no Argo ``{{``.

    Argo expands ``{{...}}`` and evaluates ``{{=...}}`` inside parameter values
    (``substituteParams`` in workflow/common/util.go replaces globals inside the
    template's input values), so such a value would not arrive as written.
    """
    if not isinstance(value, str):
        raise invalid(field, value, "a string")
    if _CONTROL.search(value):
        raise invalid(field, value, "text on one line without control characters (no newlines, tabs or NUL)")
    if "{{" in value:
        raise invalid(
            field,
            value,
            "text without '{{': Argo would expand or evaluate it inside the workflow instead of "
            "passing it on as written",
        )
    return value


def build_arg_name(field: str, name: object) -> str:
    """A build argument name: letters, digits and ``_``, not starting with a digit.

    Docker substitutes ``$NAME`` in a Dockerfile only for names of this form.
    """
    if not isinstance(name, str) or not _BUILD_ARG_NAME.fullmatch(name):
        raise invalid(
            field, name, "a name of letters, digits and '_' not starting with a digit, like 'CUDA_VERSION'"
        )
    return name


def label_key(field: str, key: object) -> str:
    """An image label key such as ``org.opencontainers.image.source`` or ``team``."""
    if not isinstance(key, str) or not _LABEL_KEY.fullmatch(key):
        raise invalid(
            field, key, "a label key of letters, digits, '.', '-', '_' and '/', such as 'com.example.team'"
        )
    return key


def platform(field: str, value: object) -> str:
    """``os/arch[/variant]`` in lower case, as OCI image indexes spell it."""
    if not isinstance(value, str) or not _PLATFORM.fullmatch(value):
        raise invalid(field, value, PLATFORM_HELP)
    return value


def registry_source(field: str, value: object) -> tuple[str, str]:
    """``host[:port][/path]``: a mirror, the base-image cache or another registry endpoint.

    Returns:
        The host with Docker Hub's aliases folded to ``docker.io``, and the path ("" for none).
    """
    if not isinstance(value, str):
        raise invalid(field, value, REGISTRY_SOURCE_HELP)
    host, slash, path = value.partition("/")
    if "@" in host:
        raise ValueError(
            f"{field}: {redact_credentials(value)!r} carries credentials ('user:password@'); registry "
            "credentials belong in the docker config Secret, never in a registry address"
        )
    try:
        host = normalize_registry(host, field=field)
    except ReferenceError:
        raise invalid(field, value, REGISTRY_SOURCE_HELP) from None
    if slash and not is_repository_path(path):
        raise invalid(
            field,
            value,
            f"{REGISTRY_SOURCE_HELP}, the path made of lower-case letters, digits and '.', '_', '-' "
            "separated by '/'",
        )
    return host, path
