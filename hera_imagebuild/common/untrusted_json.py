"""One loader for JSON this package did not write: registry bodies, manifests, token answers, layouts, flags.

Python's ``json`` recurses once per nesting level, so a document nested a few thousand levels
deep ends in a ``RecursionError`` (a traceback, exit 1, where a clear error, or 75 for a
registry that may answer better next time, is due). :func:`load_untrusted` bounds the size
first, then measures the depth in one linear pass that skips strings, and only then parses.
"""

from __future__ import annotations

import json
import re

MAX_DEPTH = 64
"""Deepest nesting accepted: manifests and indexes nest about 5 levels, a docker config 3."""
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


class UntrustedJSONError(ValueError):
    """JSON that is too large, nested too deeply, not UTF-8 or not valid; the message says which."""


def nesting_depth(text: str, *, stop_after: int = MAX_DEPTH) -> int:
    """How deeply ``text``'s arrays and objects nest (strings skipped); counting stops past ``stop_after``."""
    depth = deepest = 0
    for token in _TOKENS.finditer(text):
        match token.group()[0]:
            case "[" | "{":
                depth += 1
                deepest = max(deepest, depth)
                if deepest > stop_after:
                    break
            case "]" | "}":
                depth -= 1
    return deepest


def load_untrusted(data: bytes | str, *, what: str, max_bytes: int) -> object:
    """Parse ``data`` as JSON within ``max_bytes`` and :data:`MAX_DEPTH`.

    Args:
        data: The document.
        what: How messages name it (``"manifest sha256:..."``, ``"--build-args-json"``).
        max_bytes: The largest document accepted.

    Raises:
        UntrustedJSONError: Naming ``what`` and the limit or the syntax error.
    """
    if len(data) > max_bytes:
        raise UntrustedJSONError(f"{what}: {len(data)} bytes, more than the {max_bytes} accepted")
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError:
        raise UntrustedJSONError(f"{what}: not UTF-8 text") from None
    if nesting_depth(text) > MAX_DEPTH:
        raise UntrustedJSONError(f"{what}: nested more than {MAX_DEPTH} levels deep")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise UntrustedJSONError(
            f"{what}: not valid JSON ({error.msg} at line {error.lineno}, column {error.colno})"
        ) from None
