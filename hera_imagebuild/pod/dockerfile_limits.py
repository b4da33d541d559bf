"""Every limit the Dockerfile parser puts on its (untrusted) input, in one place.

prefetch parses the user's Dockerfile before anything else runs, so a crafted
file must end in a clear error naming the line, never in a pod that hangs or
runs out of memory. Everything else the parser does is linear in the size of
the file, which :data:`MAX_DOCKERFILE_CHARS` bounds; these limits bound what
would otherwise grow faster than that. docs/usage.md ("Limits on the
Dockerfile") lists them for users.
"""

from __future__ import annotations

MAX_DOCKERFILE_CHARS = 1024 * 1024
"""Characters in the whole Dockerfile. The pinned copy reaches the build inside
the pod spec, which cannot carry much more than 100 KiB, so no Dockerfile near
this size could build anyway."""

MAX_EXPANSION_DEPTH = 16
"""``${...}`` nested inside the default or alternative value of another
(``${A:-${B:-...}}``). Each level is one more pass over the word."""

MAX_EXPANDED_CHARS = 64 * 1024
"""Characters in one word once its variables are expanded (an ``ARG`` default,
a ``FROM`` image). ``ARG B=${A}${A}`` doubles a value in one line."""

MAX_EXPANDED_TOTAL = 1024 * 1024
"""Characters of all ``ARG`` defaults of the file together, once expanded: the
values stay in scope, and many declarations each copying a long one
(``ARG B=${A}``) would exhaust the memory as surely as one huge value."""
