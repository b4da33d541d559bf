"""Command-line helpers shared by the pod-side steps (``prefetch``, ``push``).

Templates pass list-valued options as one JSON string (an Argo parameter
cannot expand into several argv elements); people repeat the flag. Both
spellings may be combined: the repeated values come first.
"""

from __future__ import annotations

import argparse

from hera_imagebuild.common.untrusted_json import UntrustedJSONError, load_untrusted
from hera_imagebuild.pod.registry.access import RegistryAccess

MAX_FLAG_JSON = 1024 * 1024
"""The largest ``--*-json`` value accepted (an Argo parameter is far smaller)."""


def load_json(text: str | None, json_flag: str, expected: str) -> object:
    """The JSON value of a ``--*-json`` option; ``None`` when it is absent or blank.

    Raises:
        ValueError: If the text is not valid JSON (naming the option and what is ``expected``).
    """
    if text is None or not text.strip():
        return None
    try:
        return load_untrusted(text, what=json_flag, max_bytes=MAX_FLAG_JSON)
    except UntrustedJSONError as error:
        raise ValueError(f"{error}; expected {expected}") from None


def merged_list(repeated: list[str] | None, json_text: str | None, *, flag: str, json_flag: str) -> list[str]:
    """A repeated flag's values followed by its JSON twin's (a JSON list of strings).

    Raises:
        ValueError: If the JSON is not a list of strings.
    """
    values = list(repeated or [])
    loaded = load_json(json_text, json_flag, '["a", "b"]')
    if loaded is None:
        return values
    if not isinstance(loaded, list) or not all(isinstance(item, str) for item in loaded):
        raise ValueError(
            f'{json_flag}: expected a JSON list of strings like \'["a", "b"]\' (the same as {flag})'
        )
    return values + loaded


def registry_access(args: argparse.Namespace) -> RegistryAccess:
    """Registry access from the ``RegistryAccessArgs`` options (authfile, cert dir, insecure registries).

    The TLS context is built here, so a bad certificate file is reported as bad
    input before any registry is contacted.

    Raises:
        ValueError: Naming the option, the value and what is accepted.
    """
    insecure = merged_list(
        args.insecure_registries,
        args.insecure_registries_json,
        flag="--insecure-registry",
        json_flag="--insecure-registries-json",
    )
    access = RegistryAccess.create(
        authfile=args.authfile, cert_dir=args.cert_dir, insecure_registries=insecure
    )
    access.ssl_context()
    return access
