"""One redaction for every line a step prints or reports: credentials in use, userinfo, control bytes.

Error texts carry what registries said, and a hostile registry can say anything: echo the
``Authorization`` header it received, or send newlines and ANSI escapes that forge log lines or
rewrite the terminal. Every credential this process loads or obtains is remembered here
(:func:`remember_secret`), and :func:`redact` replaces each with ``***``, masks ``userinfo@``
and turns control characters into ``?``, so the step's output cannot carry them.
"""

from __future__ import annotations

import re
import threading

from hera_imagebuild.common.reference import redact_credentials

_MIN_SECRET = 4  # shorter values would mask ordinary words; no real credential is that short
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # newline and tab are layout, not forgery
_lock = threading.Lock()
_secrets: set[str] = set()


def remember_secret(*values: str) -> None:
    """Remember credentials in use (passwords, tokens, encoded headers) so no output shows them."""
    with _lock:
        _secrets.update(value for value in values if len(value) >= _MIN_SECRET)


def redact(text: str) -> str:
    """``text`` without any remembered credential, ``userinfo@`` or control character."""
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)  # a longer secret may contain a shorter one
    for secret in secrets:
        text = text.replace(secret, "***")
    return _CONTROL.sub("?", redact_credentials(text))
