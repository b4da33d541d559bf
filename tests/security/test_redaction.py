"""Secrets stay out of errors, logs and reports, whatever a user types or a registry answers.

* userinfo of any kind (``user:pw@``, a token alone) is refused in URL fields, and never echoed;
* a registry that echoes the ``Authorization`` header it received, or sends newlines and ANSI
  escapes in its error text, gets neither into the step's last line, its log lines or report.json.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from hera_imagebuild.cli.main import main
from hera_imagebuild.client.context import GitContext, S3Context
from hera_imagebuild.client.spec import BuildSpec
from hera_imagebuild.common.redaction import redact, remember_secret
from hera_imagebuild.sandbox.credentials import Credentials
from hera_imagebuild.sandbox.faultproxy import Fault, FaultProxy
from hera_imagebuild.sandbox.images import OCIImage
from hera_imagebuild.sandbox.matrix import BadInputRecorder
from hera_imagebuild.sandbox.registry import Registry
from hera_imagebuild.sandbox.tls import TLSFiles

TOKEN = "ghp_0123456789abcdefTOKEN"
GIT = GitContext(url="https://github.com/example-org/repo.git")


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: GitContext(url=f"https://{TOKEN}@github.com/org/repo.git"), "context.url"),
        (lambda: GitContext(url=f"https://user:{TOKEN}@github.com/org/repo.git"), "context.url"),
        (
            lambda: S3Context(url="s3://bucket/ctx.tar.gz", endpoint=f"user:{TOKEN}@s3.example.com"),
            "context.endpoint",
        ),
        (
            lambda: BuildSpec(
                context=GIT,
                destinations=["r.example.com/a:1"],
                mirrors={"docker.io": [f"u:{TOKEN}@m.example.com"]},
            ),
            "mirrors[docker.io]",
        ),
        (
            lambda: BuildSpec(
                context=GIT,
                destinations=["r.example.com/a:1"],
                base_image_cache=f"u:{TOKEN}@cache.example.com",
            ),
            "base_image_cache",
        ),
    ],
    ids=["git token alone", "git user and token", "s3 endpoint", "mirror", "base image cache"],
)
def test_userinfo_in_a_url_field_is_refused_and_never_shown(
    build: Callable[[], object], field: str, bad_input: BadInputRecorder
) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(field)}: ") as error:
        build()
    message = str(error.value)
    assert TOKEN not in message
    bad_input.record(area="build spec", given=f"{field} with a token in its userinfo", error=message)


def test_ssh_urls_keep_their_user_name() -> None:
    assert GitContext(url="ssh://git@github.com/org/repo.git").url == "ssh://git@github.com/org/repo.git"


def test_redaction_masks_secrets_in_use_userinfo_and_control_characters() -> None:
    remember_secret("s3cret-in-use")
    text = "GET https://u:pw@r.example.com/v2/: s3cret-in-use\x1b[2J\rforged\x00 repo@sha256:" + "a" * 64
    assert redact(text) == "GET https://***@r.example.com/v2/: ***?[2J?forged? repo@sha256:" + "a" * 64


def test_a_registry_echoing_the_authorization_header_cannot_print_it(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    tls_registry: Registry,
    tls_files: TLSFiles,
    tls_user: Credentials,
    fault_proxy: Callable[..., FaultProxy],
    docker_config: Callable[..., Path],
    oci_image: Callable[..., OCIImage],
) -> None:
    """The registry answers the manifest PUT with an error quoting our Authorization and forged lines."""
    forged = "\n2026-01-01T00:00:00Z push: sha256:forged pushed and verified\x1b[1A\x1b[2K"
    hostile = Fault(
        "status", method="PUT", path="/manifests/", status=500, echo_header="Authorization", text=forged
    )
    front = fault_proxy(tls_registry, hostile, name="echoing-registry")
    image = oci_image(seed="echo", layer_sizes=(1024,))
    authfile = docker_config({front.host: tls_user})
    code = main(
        [
            "push",
            f"--image={image.layout_dir}",
            f"--destination={front.host}/echo/app:1",
            f"--authfile={authfile}",
            f"--cert-dir={tls_files.cert_dir}",
            f"--output-dir={tmp_path / 'out'}",
            "--max-attempts=1",
            "--timeout=20",
        ]
    )
    err = capsys.readouterr().err
    assert code != 0
    assert any(record.authorized for record in front.requests)  # it did receive the credentials
    encoded = json.loads(authfile.read_text())["auths"][front.host]["auth"]
    assert encoded not in err
    assert tls_user.password not in err
    assert "\x1b" not in err
    assert err.splitlines()[-1].startswith("push failed: ")  # the forged text stays inside the quote
    assert not any(line.startswith("2026-01-01T00:00:00Z push: sha256:forged") for line in err.splitlines())
    assert "you sent Authorization: Basic ***" in err
