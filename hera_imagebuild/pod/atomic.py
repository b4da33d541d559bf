"""Writing a step's output files all or nothing.

Argo reads a step's outputs from files, and a later step trusts them; a file
half written, or one set of outputs mixed with another, would be reported as
a result. Every file is written to a temporary name in the same directory and
renamed into place only when all of them are complete.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path


def write_files(directory: str | Path, files: Mapping[str, str]) -> None:
    """Write ``files`` (name -> text) into ``directory``, renaming each into place once all are written.

    Raises:
        OSError: If the directory or a file cannot be written (no file is then left behind).
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written: dict[str, str] = {}
    try:
        for name, text in files.items():
            handle, written[name] = tempfile.mkstemp(prefix=f".{name}.", dir=directory)
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(text)
            os.chmod(written[name], 0o644)
    except OSError:
        for temporary in written.values():
            Path(temporary).unlink(missing_ok=True)
        raise
    for name, temporary in written.items():
        os.replace(temporary, directory / name)
