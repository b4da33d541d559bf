"""Validators for build spec fields.

Each check raises :class:`ValueError` whose message names the field, repeats
the value and says what is accepted, so a typo is fixed from the message alone.
Values the pods check too come from :mod:`hera_imagebuild.common.grammar`.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Container, Iterable
from urllib.parse import urlsplit

from hera_imagebuild.builders import CLUSTER_BUILDER, builder_named
from hera_imagebuild.common import grammar
from hera_imagebuild.common.grammar import build_arg_name as build_arg_name
from hera_imagebuild.common.grammar import invalid as invalid
from hera_imagebuild.common.grammar import label_key as label_key
from hera_imagebuild.common.grammar import literal_text as literal_text
from hera_imagebuild.common.grammar import platform as platform
from hera_imagebuild.common.reference import ImageReference, normalize_registry, parse_reference

_DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_QUANTITY = re.compile(r"[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?")
_DURATION = re.compile(r"[0-9]+|([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))+")
_STAGE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.-]*")
_NO_PROXY_ITEM = re.compile(r"[A-Za-z0-9.*:/\[\]_-]+")
_ARGO_REFERENCE = re.compile(r"\{\{[A-Za-z0-9_.-]+\}\}")
_HOSTNAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9a-fA-F:.]+\]")
_LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
_URL_CHARS = re.compile(r"[A-Za-z0-9._~:/?#\[\]@!$&'()*+,;=%-]+")


def matching(
    field: str, value: object, pattern: re.Pattern[str], expected: str, *, max_length: int = 0
) -> str:
    """``value`` if it is a string that ``pattern`` matches in full (and fits ``max_length``, if given)."""
    too_long = max_length and isinstance(value, str) and len(value) > max_length
    if not isinstance(value, str) or too_long or not pattern.fullmatch(value):
        raise invalid(field, value, expected)
    return value


def dns_subdomain(field: str, value: str) -> str:
    """A Kubernetes object name (Secret, PVC, service account): DNS-1123 subdomain."""
    expected = "a Kubernetes name: lower-case letters, digits, '-' and '.', at most 253 characters"
    return matching(field, value, _DNS1123_SUBDOMAIN, expected, max_length=253)


def dns_label(field: str, value: str, *, max_length: int = 63) -> str:
    """A DNS-1123 label (template and task names)."""
    expected = (
        f"a DNS-1123 label: lower-case letters, digits and '-', at most {max_length} characters, "
        "starting and ending with a letter or digit"
    )
    return matching(field, value, _DNS1123_LABEL, expected, max_length=max_length)


def quantity(field: str, value: str) -> str:
    """A Kubernetes resource quantity such as ``500m``, ``2``, ``4Gi``."""
    return matching(field, value, _QUANTITY, "a Kubernetes quantity such as '500m', '2', '512Mi' or '4Gi'")


def duration(field: str, value: str) -> str:
    """An Argo backoff duration: seconds (``"30"``) or a Go duration (``"1m30s"``)."""
    return matching(field, value, _DURATION, "a duration such as '30', '10s', '2m' or '1h30m'")


_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ns|us|ms|s|m|h)")


def duration_seconds(field: str, value: str) -> float:
    """The seconds an Argo duration (``"30"``, ``"1h30m"``) stands for."""
    duration(field, value)
    if value.isdigit():
        return float(value)
    return sum(float(number) * _DURATION_UNITS[unit] for number, unit in _DURATION_PART.findall(value))


def positive_int(field: str, value: int, *, minimum: int = 1) -> int:
    """An integer of at least ``minimum`` (bools are not integers here)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise invalid(field, value, f"an integer >= {minimum}")
    return value


def label_value(field: str, value: str) -> str:
    """A Kubernetes label value (node selectors): at most 63 letters, digits, '-', '_', '.'."""
    expected = "a Kubernetes label value: at most 63 letters, digits, '-', '_' and '.'"
    return matching(field, value, _LABEL_VALUE, expected, max_length=63)


def stage_name(field: str, value: str) -> str:
    """A Dockerfile stage name (``FROM ... AS name``), or empty for the last stage."""
    if value == "":
        return value
    expected = "a stage name from 'FROM ... AS <name>' (letters, digits, '_', '.', '-'), or ''"
    return matching(field, value, _STAGE_NAME, expected)


def url(field: str, value: str) -> str:
    """Only characters a URL may hold (RFC 3986): no spaces, quotes, backticks or control characters."""
    expected = "a URL of the characters RFC 3986 allows (no spaces, quotes or backticks)"
    return matching(field, value, _URL_CHARS, expected)


def argo_reference(field: str, value: str) -> str:
    """An Argo artifact reference such as ``{{tasks.fetch.outputs.artifacts.src}}``."""
    expected = "an artifact reference such as '{{tasks.fetch.outputs.artifacts.source}}'"
    return matching(field, value, _ARGO_REFERENCE, expected)


def relative_path(field: str, value: str, *, allow_empty: bool = False) -> str:
    """A relative path that stays inside its root (no absolute path, no ``..``)."""
    if allow_empty and value == "":
        return value
    literal_text(field, value)
    normalized = posixpath.normpath(value) if value else ""
    if not value or value.startswith("/") or normalized == ".." or normalized.startswith("../"):
        raise invalid(
            field, value, "a relative path inside the build context, such as 'docker/train.Dockerfile'"
        )
    return value


def image(field: str, value: str) -> ImageReference:
    """Any image reference (tag and/or digest)."""
    return parse_reference(value, field=field)


def destination(field: str, value: str) -> ImageReference:
    """A push destination: ``registry/repository[:tag]``, no digest."""
    ref = parse_reference(value, field=field)
    if ref.digest:
        raise invalid(
            field, value, "a destination 'registry/repository:tag' without '@digest' (push sets the digest)"
        )
    return ref


def repository(field: str, value: str) -> ImageReference:
    """A repository without tag or digest (a cache repository)."""
    ref = parse_reference(value, field=field)
    if ref.tag or ref.digest:
        raise invalid(
            field, value, "a repository such as 'registry.example.com/cache/train' without tag or digest"
        )
    return ref


def registry(field: str, host: str, seen: Container[str] = ()) -> str:
    """``host`` normalised (Docker Hub's aliases fold to ``docker.io``); refuse one already in ``seen``."""
    key = normalize_registry(host, field=field)
    if key in seen:
        raise invalid(field, host, f"each registry once ({host!r} is another name for {key!r})")
    return key


def registry_with_prefix(field: str, value: str) -> str:
    """``host[:port][/path/prefix]``: a registry endpoint (the grammar the pods use too)."""
    grammar.registry_source(field, value)
    return value


def mirror(field: str, registry: str, value: str) -> str:
    """A mirror or the base-image cache: a registry endpoint the cluster builder can be sent to."""
    registry_with_prefix(field, value)
    builder_named(CLUSTER_BUILDER).check_mirror(registry, value, field=field)
    return value


def proxy_url(field: str, value: str) -> str:
    """``http://host:port`` (or https/socks5), no credentials in the URL, or empty."""
    if value == "":
        return value
    literal_text(field, value)
    parts = urlsplit(value)
    host = (
        parts.netloc.rpartition("@")[2].rsplit(":", 1)[0] if parts.port else parts.netloc.rpartition("@")[2]
    )
    if parts.scheme not in ("http", "https", "socks5") or not _HOSTNAME.fullmatch(host) or " " in value:
        raise invalid(field, value, "a proxy URL such as 'http://proxy.example.com:3128', or ''")
    if parts.username or parts.password:
        raise ValueError(
            f"{field}: a proxy URL with credentials is not accepted (it would be visible in the workflow); "
            "give the proxy host only, such as 'http://proxy.example.com:3128'"
        )
    return value


def no_proxy(field: str, value: str) -> str:
    """A NO_PROXY list: comma-separated hosts, domains (``.example.com``), IPs or CIDRs."""
    items = [item.strip() for item in value.split(",")] if value else []
    if any(not _NO_PROXY_ITEM.fullmatch(item) for item in items):
        raise invalid(field, value, "a comma-separated list of hosts, '.domains', IPs or CIDRs, or ''")
    return value


def unique(field: str, values: Iterable[str]) -> None:
    """Reject repeated entries (a repeated destination or mirror is a typo, not an intent)."""
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise invalid(field, value, "each entry once")
        seen.add(value)
