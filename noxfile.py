"""Sessions for developers and CI: ``nox -s tests``, ``lint``, ``i18n`` and ``bench``."""

from __future__ import annotations

import tomllib
from pathlib import Path

import nox

nox.options.sessions = ["lint", "tests"]
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = True

PYTHON = "3.11"
LINTED = ["src", "tests", "bench", "noxfile.py", "alembic"]
I18N_DIR = "src/kontor/i18n"
LOCALE_DIR = f"{I18N_DIR}/locale"
TEMPLATE = f"{I18N_DIR}/messages.pot"
# The same list as kontor.i18n.LOCALES; the noxfile does not import the package it installs.
LOCALES = ("sv", "en", "fi")
COMPILE_CATALOGS = "from kontor import i18n; [i18n.compile_catalog(code) for code in i18n.LOCALES]"


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """The whole suite. PostgreSQL (KONTOR_TEST_POSTGRES_URL) and browser (Chromium) halves skip when
    their service is missing, and the run ends by naming what did not run."""
    session.install("-e", ".[test]")
    session.run("python", "-c", COMPILE_CATALOGS)
    # One test process per CPU; a module's tests stay in one process (the browser tests share a live
    # server per module). `nox -s tests -- -n 0 tests/booking` runs a part in this process alone.
    session.run("pytest", "-n", "auto", "--dist", "loadscope", "-m", "not pressure", *session.posargs)
    # Then the tests that load, kill or restart real servers, alone, so nothing else competes for the
    # CPU while they measure (5: the arguments selected none of them).
    session.run("pytest", "-n", "0", "-m", "pressure", *session.posargs, success_codes=[0, 5])


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    session.install("ruff==0.17.6")  # pinned: a new ruff release must not break CI by itself
    session.run("ruff", "check", *LINTED)
    session.run("ruff", "format", "--check", *LINTED)


@nox.session(python=PYTHON)
def i18n(session: nox.Session) -> None:
    """Extract messages from code and templates, merge them into each catalogue, compile."""
    session.install("babel", "jinja2")
    session.run(
        "pybabel", "extract", "-F", "babel.cfg", "-k", "N_", "--project=kontor", f"--version={_version()}",
        "--copyright-holder=kontor", "-o", TEMPLATE, ".",
    )  # fmt: skip
    for locale in LOCALES:
        session.run(
            "pybabel", "update", "-i", TEMPLATE, "-d", LOCALE_DIR, "-D", "messages", "-l", locale,
            "--init-missing", "--no-fuzzy-matching", "--ignore-obsolete",
        )  # fmt: skip
    session.run("pybabel", "compile", "-d", LOCALE_DIR, "-D", "messages", "--statistics")


def _version() -> str:
    return tomllib.loads(Path("pyproject.toml").read_text())["project"]["version"]


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Requests per second and p50/p99 of the hot pages, the waiting-room display, online booking
    (slots API, booking POST) and the queue (ticket issue, call-next) as a ratio to a hello-world app,
    and the latency from a call to the waiting-room screens: on SQLite (one process) and on
    PostgreSQL (two instances behind a round-robin balancer; KONTOR_BENCH_POSTGRES_URL or
    KONTOR_TEST_POSTGRES_URL, `--require-postgres` to insist). Goals are reported, never enforced."""
    session.install("-e", ".[test]")
    session.run("python", "bench/run.py", *session.posargs)
