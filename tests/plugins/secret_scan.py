"""pytest plugin: fail the run when a test credential shows up in anything the tests produced.

What is scanned:

* the captured stdout, stderr and log records of every test phase, what a test
  read through ``capsys``/``capfd`` (an in-process CLI run's output), and the
  failure report itself (a failing assertion that prints a password would put
  it in the CI log: the plugin blanks it out of the report before pytest
  prints it, and fails the test);
* the files under each test's ``tmp_path`` when the test ends (the leak is
  charged to that test);
* at the end of the session: everything else under pytest's base temporary
  directory (session-scoped fixtures: registry logs, reports), and the
  repository's ``.artifacts/``, ``templates/``, ``examples/`` and ``docs/``.

What is looked for: every password of the sandbox's test users, in clear and as
base64 ``auth`` of ``user:password`` (the docker config spelling), plus any
HTTP ``Authorization`` header value and any JSON web token (the sandbox token
issuer's bearer tokens are JWTs). Files where credentials belong (docker
configs, registry configs) are not scanned.

Register it in ``tests/conftest.py``: ``pytest_plugins = ["plugins.secret_scan"]`` (``tests/`` is on
``sys.path`` because it holds the root conftest.py and is not a package).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from hera_imagebuild.common.untrusted_json import UntrustedJSONError, load_untrusted
from hera_imagebuild.sandbox import credentials as sandbox_credentials_module
from hera_imagebuild.sandbox.credentials import Credentials

REPO_ROOT = Path(__file__).resolve().parents[2]
REPO_OUTPUT_DIRS = (".artifacts", "templates", "examples", "docs")
MAX_FILE_BYTES = 8 * 1024 * 1024
REDACTED = "<redacted by secret_scan>"
BASETEMP = pytest.StashKey[Path]()

SECRET_SHAPES: dict[str, re.Pattern[str]] = {
    "an HTTP Authorization header value": re.compile(
        r"(?i)\bauthorization\b[\"']?\s*[:=]\s*[\"']?(?:basic|bearer)\s+[A-Za-z0-9+/=._~-]{8,}"
    ),
    "a JSON web token": re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
}


def sandbox_credentials(config: pytest.Config) -> list[Credentials]:
    """Every test credential: module-level :class:`Credentials` values of the sandbox and of conftest files.

    Raises:
        pytest.UsageError: If there are none: a scan for nothing would pass silently.
    """
    modules: list[object] = [sandbox_credentials_module]
    modules += [
        plugin
        for plugin in config.pluginmanager.get_plugins()
        if isinstance(plugin, ModuleType) and (plugin.__file__ or "").endswith("conftest.py")
    ]
    found: list[Credentials] = []
    for module in modules:
        for value in vars(module).values():
            items = value if isinstance(value, (tuple, list)) else (value,)
            found.extend(item for item in items if isinstance(item, Credentials) and item not in found)
    if not found:
        raise pytest.UsageError(
            "secret_scan: no test Credentials defined in hera_imagebuild.sandbox.credentials "
            "or a conftest.py: there is nothing to scan for"
        )
    return found


def secret_values(users: Iterable[Credentials]) -> dict[str, str]:
    """``label -> value`` of every spelling of each password; labels never contain the value."""
    values: dict[str, str] = {}
    for user in users:
        values[f"password of test user {user.username!r}"] = user.password
        values[f"base64 auth of test user {user.username!r}"] = user.auth
    return values


@dataclass(frozen=True)
class Leak:
    """One secret found somewhere it must not be."""

    where: str
    what: str
    test: str

    def __str__(self) -> str:
        return f"{self.what} in {self.where} (test: {self.test})"


class SecretScanner:
    """Finds known secret values and secret-shaped strings in text and files."""

    def __init__(self, secrets: Mapping[str, str]) -> None:
        self.secrets = dict(secrets)
        self.files_scanned = 0
        self.outputs_scanned = 0

    def find(self, text: str) -> list[str]:
        """Labels of the secrets in ``text``."""
        found = [label for label, value in self.secrets.items() if value in text]
        found += [label for label, shape in SECRET_SHAPES.items() if shape.search(text)]
        return found

    def redact(self, text: str) -> str:
        """``text`` with every secret replaced by a marker."""
        for value in self.secrets.values():
            text = text.replace(value, REDACTED)
        for shape in SECRET_SHAPES.values():
            text = shape.sub(REDACTED, text)
        return text

    def find_in_file(self, path: Path) -> list[str]:
        """Labels of the secrets in a text file; binary, huge and credential-store files are skipped."""
        try:
            if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_FILE_BYTES:
                return []
            data = path.read_bytes()
        except OSError:
            return []
        if b"\0" in data[:8192]:
            return []
        text = data.decode("utf-8", errors="replace")
        if _is_credential_store(path, text):
            return []
        self.files_scanned += 1
        return self.find(text)

    def scan_tree(self, root: Path, skip: Iterable[Path] = ()) -> Iterator[tuple[Path, list[str]]]:
        """``(file, labels)`` for each file under ``root`` (except under ``skip``) that holds a secret."""
        skipped = tuple(skip)
        if not root.is_dir():
            return
        for path in sorted(root.rglob("*")):
            if any(path.is_relative_to(s) for s in skipped):
                continue
            labels = self.find_in_file(path)
            if labels:
                yield path, labels


def _is_credential_store(path: Path, text: str) -> bool:
    """Whether a file is where credentials belong: a docker config, or a registry's own config.

    A docker ``config.json`` (top-level ``auths``) holds registry logins; a
    ``docker-registry`` config (top-level ``storage`` and ``http``) holds the
    upstream login of a pull-through cache. Both are written on purpose; a leak
    is a secret anywhere else.
    """
    if '"auths"' not in text and "storage" not in text:
        return False
    try:
        document = load_untrusted(text, what=str(path), max_bytes=len(text))
    except UntrustedJSONError:
        try:
            document = yaml.safe_load(text) if path.suffix in (".yml", ".yaml") else None
        except yaml.YAMLError:
            return False
    if not isinstance(document, dict):
        return False
    return "auths" in document or {"storage", "http"} <= document.keys()


class SecretScanPlugin:
    """The hooks; one instance per pytest run."""

    def __init__(self) -> None:
        self.scanner: SecretScanner | None = None
        self.leaks: list[Leak] = []
        self.read_outputs: list[str] = []
        """What the running test read through ``capsys``/``capfd`` since the last report."""
        self.tmp_paths: dict[str, Path] = {}
        self.scanned_dirs: list[Path] = []

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """Make the scanner once collection has loaded every conftest.py that defines credentials."""
        self.scanner = SecretScanner(secret_values(sandbox_credentials(session.config)))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        """Scan each phase's report, and at teardown the test's ``tmp_path``; a leak fails the test."""
        report = yield
        if self.scanner is None:
            return report
        if call.when == "setup" and isinstance(item, pytest.Function):
            tmp_path = item.funcargs.get("tmp_path")
            if isinstance(tmp_path, Path):
                self.tmp_paths[item.nodeid] = tmp_path
        leaks = self._scan_report(report)
        if call.when == "teardown" and item.nodeid in self.tmp_paths:
            directory = self.tmp_paths.pop(item.nodeid)
            self.scanned_dirs.append(directory)
            leaks += [
                Leak(str(path), label, item.nodeid)
                for path, labels in self.scanner.scan_tree(directory)
                for label in labels
            ]
        if leaks:
            self.leaks += leaks
            report.outcome = "failed"
            report.longrepr = "secret_scan: a test credential leaked:\n" + "\n".join(
                f"  {leak}" for leak in leaks
            )
        return report

    def _scan_report(self, report: pytest.TestReport) -> list[Leak]:
        """Find secrets in a phase's captured output and failure text, and blank them out."""
        assert self.scanner is not None
        self.scanner.outputs_scanned += 1
        leaks = []
        for index, (title, content) in enumerate(report.sections):
            if not title.endswith(report.when):  # earlier phases' output was scanned with them
                continue
            labels = self.scanner.find(content)
            if labels:
                leaks += [Leak(f"{title.lower()} ({report.when})", label, report.nodeid) for label in labels]
                report.sections[index] = (title, self.scanner.redact(content))
        read, self.read_outputs = "".join(self.read_outputs), []
        leaks += [
            Leak(f"output the test read through capsys/capfd ({report.when})", label, report.nodeid)
            for label in self.scanner.find(read)
        ]
        if report.longrepr is not None:
            text = report.longreprtext
            labels = self.scanner.find(text)
            if labels:
                leaks += [
                    Leak(f"the failure report ({report.when})", label, report.nodeid) for label in labels
                ]
                report.longrepr = self.scanner.redact(text)
        return leaks

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Scan what the whole session left behind; a leak fails the run."""
        if self.scanner is None:  # collection failed: nothing ran
            return
        basetemp = session.config.stash.get(BASETEMP, None)
        roots = [REPO_ROOT / name for name in REPO_OUTPUT_DIRS]
        if basetemp is not None:
            roots.insert(0, basetemp)
        for root in roots:
            for path, labels in self.scanner.scan_tree(root, skip=self.scanned_dirs):
                owner = _owner(path, basetemp)
                self.leaks += [Leak(str(path), label, owner) for label in labels]
        if self.leaks and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        """Say what was scanned, and every leak, loudly."""
        scanner = self.scanner
        if scanner is None:
            return
        if not self.leaks:
            terminalreporter.write_line(
                f"secret_scan: no test credential in {scanner.outputs_scanned} captured outputs "
                f"and {scanner.files_scanned} files"
            )
            return
        terminalreporter.section("secret_scan: TEST CREDENTIALS LEAKED", sep="!", red=True, bold=True)
        for leak in self.leaks:
            terminalreporter.write_line(str(leak), red=True)


def _owner(path: Path, basetemp: Path | None) -> str:
    """Which test or fixture wrote ``path``, as far as its directory tells."""
    if basetemp is not None and path.is_relative_to(basetemp):
        top = path.relative_to(basetemp).parts[0]
        return f"the test or session fixture that owns tmp dir {top!r}"
    return "the test session (written outside any tmp dir)"


@pytest.fixture(scope="session", autouse=True)
def _secret_scan_basetemp(pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Remember pytest's base temporary directory for the end-of-session scan."""
    pytestconfig.stash[BASETEMP] = tmp_path_factory.getbasetemp()


def _watch_capture_fixtures(plugin: SecretScanPlugin) -> Callable[[], None]:
    """Copy what tests read with ``capsys``/``capfd`` to the plugin; return the undo function.

    Output a test reads through these fixtures never reaches the report's
    captured sections, yet it is exactly what a CLI run in-process printed.
    """
    original = pytest.CaptureFixture.readouterr

    def readouterr(self: pytest.CaptureFixture[Any]) -> Any:
        result = original(self)
        for stream in (result.out, result.err):
            plugin.read_outputs.append(
                stream.decode(errors="replace") if isinstance(stream, bytes) else stream
            )
        return result

    pytest.CaptureFixture.readouterr = readouterr  # type: ignore[method-assign]

    def undo() -> None:
        pytest.CaptureFixture.readouterr = original  # type: ignore[method-assign]

    return undo


def pytest_configure(config: pytest.Config) -> None:
    """Register the scanner for this run."""
    plugin = SecretScanPlugin()
    config.pluginmanager.register(plugin, "secret_scan_plugin")
    config.add_cleanup(_watch_capture_fixtures(plugin))
