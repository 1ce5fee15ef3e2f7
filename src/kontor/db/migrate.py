"""Run Alembic migrations from code (the CLI, the demo and the tests)."""

from __future__ import annotations

import asyncio
import threading

from alembic import command
from alembic.config import Config

from kontor.settings import Settings, resource_dir


def alembic_config(database_url: str) -> Config:
    config = Config(str(resource_dir("alembic.ini")))
    config.set_main_option("script_location", str(resource_dir("alembic")))
    config.attributes["database_url"] = database_url
    return config


def upgrade(settings: Settings, revision: str = "head") -> None:
    """Upgrade the database to ``revision``. Alembic's env runs its own event loop, so inside a running
    loop (tests, the demo) it is run on a thread of its own."""
    if settings.is_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    config = alembic_config(settings.database_url)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        command.upgrade(config, revision)
        return
    errors: list[BaseException] = []

    def run() -> None:
        try:
            command.upgrade(config, revision)
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
