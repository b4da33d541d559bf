"""Every JSON document this package did not write goes through one loader with size and depth limits.

Before, a document nested a few thousand levels deep was a RecursionError traceback wherever it came
in: a registry's error body, a manifest, a token answer, a docker config, a layout, a --*-json flag.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from hera_imagebuild.cli.main import main
from hera_imagebuild.common.untrusted_json import MAX_DEPTH, UntrustedJSONError, load_untrusted, nesting_depth
from hera_imagebuild.pod.registry.credentials import DockerConfig
from hera_imagebuild.pod.registry.errors import error_from_response
from hera_imagebuild.pod.registry.manifest import Manifest, ManifestError
from hera_imagebuild.sandbox.matrix import BadInputRecorder

DEEP = "[" * 100_000 + "]" * 100_000


def test_depth_is_measured_outside_strings_only() -> None:
    assert nesting_depth('{"a": [1, {"b": "[[[[{{{{"}]}') == 3
    assert nesting_depth(r'["\"[[[[", []]') == 2
    assert nesting_depth(DEEP) == MAX_DEPTH + 1  # counting stops once past the limit


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (DEEP, f"nested more than {MAX_DEPTH} levels deep"),
        ("x" * 101, "101 bytes, more than the 100 accepted"),
        (b"\xff\xfe", "not UTF-8 text"),
        ('{"a": }', "not valid JSON (Expecting value at line 1, column 7)"),
    ],
)
def test_the_loader_says_what_is_wrong(document: str | bytes, message: str) -> None:
    with pytest.raises(UntrustedJSONError, match=r"^thing: ") as error:
        load_untrusted(document, what="thing", max_bytes=100 if len(document) < 200 else 10**6)
    assert message in str(error.value)


def test_a_document_at_the_limit_still_parses() -> None:
    nested: object = []
    for _ in range(MAX_DEPTH - 1):
        nested = [nested]
    assert load_untrusted(json.dumps(nested), what="thing", max_bytes=10**6) == nested


def test_a_deep_manifest_is_a_manifest_error() -> None:
    with pytest.raises(ManifestError, match="nested more than"):
        Manifest.parse(DEEP.encode(), None)


def test_a_deep_registry_error_body_is_read_as_no_error_code() -> None:
    request = httpx.Request("GET", "https://registry.example.com/v2/")
    response = httpx.Response(503, content=DEEP.encode(), request=request)
    error = error_from_response(response, operation="probe", host="registry.example.com")
    assert error.code is None
    assert error.transient  # the status still says what it is


def test_a_deep_docker_config_is_a_clear_error(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text('{"auths": ' + DEEP + "}")
    with pytest.raises(ValueError, match="nested more than"):
        DockerConfig.load(str(config))


def test_a_deep_json_flag_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bad_input: BadInputRecorder
) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    code = main(["prefetch", f"--dockerfile={tmp_path / 'Dockerfile'}", f"--build-args-json={DEEP}"])
    error = capsys.readouterr().err.strip()
    assert code == 2
    assert "Traceback" not in error
    assert error.startswith("prefetch: --build-args-json: nested more than 64 levels deep; expected")
    bad_input.record(area="CLI", given="prefetch --build-args-json='[[[[...]]]]' (100,000 deep)", error=error)
