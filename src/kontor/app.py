"""Assembles the application from the areas' routes; no logic of its own."""

from __future__ import annotations

from typing import Any

from advanced_alchemy.extensions.litestar import (
    AsyncSessionConfig,
    SQLAlchemyAsyncConfig,
    SQLAlchemyPlugin,
)
from litestar import Litestar, Router
from litestar.config.compression import CompressionConfig
from litestar.config.csrf import CSRFConfig
from litestar.exceptions import HTTPException
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.plugins.htmx import HTMXPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from sqlalchemy.ext.asyncio import async_sessionmaker

from kontor import __version__
from kontor.accounts import admin_web as accounts_admin_web
from kontor.accounts import web as accounts_web
from kontor.accounts.auth import KontorAuthenticationMiddleware
from kontor.accounts.sessions import SESSION_COOKIE, RotatingSessionConfig
from kontor.admin import web as admin_web
from kontor.admin import webhook_pages
from kontor.booking import api as booking_api
from kontor.booking import availability
from kontor.booking import flow as booking_flow
from kontor.booking import manage as booking_manage
from kontor.booking.slot_cache import SlotCache
from kontor.calendars import web as calendars_web
from kontor.calendars.http import VERSIONS_STORE
from kontor.contacts import agent_web
from kontor.contacts import api as contacts_api
from kontor.db.commit import commit_before_send
from kontor.db.engine import create_engine, writer
from kontor.db.store import DatabaseStore
from kontor.db.write_queue import WriteTurns, sqlite_write_queue
from kontor.desk import callbacks_web
from kontor.desk import tickets_web as desk_tickets_web
from kontor.desk import web as desk_web
from kontor.live.bus import create_bus, register_bus
from kontor.notify import web as notify_web
from kontor.offices import api as offices_api
from kontor.offices import web as offices_web
from kontor.offices.directory import OfficeDirectory
from kontor.queue import api as queue_api
from kontor.queue import counter_actions, counter_web, display_web, ticket_web
from kontor.retention import web as retention_web
from kontor.settings import Settings, resource_dir
from kontor.waitlist import web as waitlist_web
from kontor.web import pages
from kontor.web.admission import admission_control
from kontor.web.errors import (
    DATABASE_ERRORS,
    database_error_handler,
    http_exception_handler,
    internal_error_handler,
    out_of_range_handler,
)
from kontor.web.input_guard import input_guard
from kontor.web.middleware import locale_middleware
from kontor.web.ratelimit import booking_rate_limit
from kontor.web.security import security_headers
from kontor.web.templating import build_environment
from kontor.worker.runner import Worker


class _DatabaseConfig(SQLAlchemyAsyncConfig):
    """The two configs of an app are given distinct keys here. The library keeps a process-wide
    registry of keys that never shrinks and renames a key it has seen, recursively: every app built
    in one process (tests build hundreds) would get a longer search, until Python's recursion limit."""

    def _ensure_unique(self, registry_name: str, key: str, new_key: str | None = None, _iter: int = 0) -> str:
        return new_key if new_key is not None else key


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or Settings.from_env()
    engine = create_engine(settings)
    write_engine = writer(engine)
    session_maker = async_sessionmaker(engine, expire_on_commit=False)
    write_session_maker = async_sessionmaker(write_engine, expire_on_commit=False)
    # Live updates of screens and desks; on SQLite, commits on either engine hand events to it.
    live = create_bus(settings)
    register_bus(engine, live)
    register_bus(write_engine, live)

    session_config = AsyncSessionConfig(expire_on_commit=False)
    # Each config's commit/close hook is made for its own scope key; a failed commit turns the
    # answer into a 503 instead of a success that was never stored (kontor.db.commit).
    read_db = _DatabaseConfig(
        engine_instance=engine,
        session_config=session_config,
        before_send_handler=commit_before_send("_kontor_db_session"),
        session_dependency_key="db_session",
        engine_dependency_key="db_engine",
        engine_app_state_key="db_engine",
        session_maker_app_state_key="db_session_maker",
        session_scope_key="_kontor_db_session",
    )
    # Handlers that change data ask for ``db_write``: on SQLite its transactions begin IMMEDIATE.
    write_db = _DatabaseConfig(
        engine_instance=write_engine,
        session_config=session_config,
        before_send_handler=commit_before_send("_kontor_db_write_session"),
        session_dependency_key="db_write",
        engine_dependency_key="db_write_engine",
        engine_app_state_key="db_write_engine",
        session_maker_app_state_key="db_write_session_maker",
        session_scope_key="_kontor_db_write_session",
    )

    # Sheds public requests beyond what this process can serve quickly; staff are never held back.
    admission = admission_control(settings)
    # On SQLite, writers take turns in this process; staff go first, and hold the public back.
    write_turns = WriteTurns(admission.staff_busy) if admission else WriteTurns()
    if admission:
        admission.on_staff_done.append(write_turns.wake)

    sessions = DatabaseStore(
        write_session_maker,
        namespace="sessions",
        turns=write_turns if settings.is_sqlite else None,
        read_session_maker=session_maker,
    )
    session_middleware = RotatingSessionConfig(
        key=SESSION_COOKIE,
        max_age=settings.session_max_age,
        secure=settings.secure_cookies,
        httponly=True,
        samesite="lax",
        store="sessions",
    ).middleware

    env = build_environment()
    template_config = TemplateConfig(engine=JinjaTemplateEngine.from_environment(env))

    async def dispose_engine(_app: Litestar) -> None:
        await engine.dispose()

    # Sends the outbox (and runs the other periodic steps) in this process; built here so a wrong
    # transport setting stops the server at startup.
    worker = Worker(settings) if settings.background_worker else None

    app = Litestar(
        route_handlers=[
            # The JSON API (and the health checks) make up the OpenAPI schema; pages are not in it.
            *offices_api.ROUTES,
            *booking_api.ROUTES,
            *queue_api.ROUTES,
            *availability.ROUTES,
            *contacts_api.ROUTES,
            *pages.HEALTH_ROUTES,
            Router(
                path="/",
                include_in_schema=False,
                route_handlers=[
                    *pages.ROUTES,
                    *offices_web.ROUTES,
                    *booking_manage.ROUTES,
                    *booking_flow.ROUTES,
                    *accounts_web.ROUTES,
                    *accounts_admin_web.ROUTES,
                    *admin_web.ROUTES,
                    *desk_web.ROUTES,
                    *desk_tickets_web.ROUTES,
                    *ticket_web.ROUTES,
                    *counter_web.ROUTES,
                    *counter_actions.ROUTES,
                    *display_web.ROUTES,
                    *notify_web.ROUTES,
                    *agent_web.ROUTES,
                    *callbacks_web.ROUTES,
                    *webhook_pages.ROUTES,
                    *calendars_web.ROUTES,
                    *waitlist_web.ROUTES,
                    *retention_web.ROUTES,
                ],
            ),
            create_static_files_router(path="/static", directories=[resource_dir("static")], name="static"),
        ],
        plugins=[SQLAlchemyPlugin(config=[read_db, write_db]), HTMXPlugin()],
        middleware=[
            locale_middleware,
            input_guard,
            *([admission.door] if admission else []),
            session_middleware,
            DefineMiddleware(KontorAuthenticationMiddleware, exclude=["^/static/", "^/schema"]),
            # After authentication, so signed-in staff can be told apart from the public.
            *filter(None, [booking_rate_limit(settings), admission and admission.middleware]),
            *([sqlite_write_queue(write_turns)] if settings.is_sqlite else []),
        ],
        csrf_config=CSRFConfig(
            secret=settings.secret_key,
            cookie_name="kontor_csrf",
            cookie_secure=settings.secure_cookies,
            cookie_samesite="strict",
            exclude=["^/api/"],
        ),
        template_config=template_config,
        before_send=[security_headers(https=settings.secure_cookies)],
        # Each calendar feed's latest ETag and when it was first served (its Last-Modified).
        stores={
            "sessions": sessions,
            VERSIONS_STORE: DatabaseStore(
                write_session_maker,
                namespace=VERSIONS_STORE,
                turns=write_turns if settings.is_sqlite else None,
                read_session_maker=session_maker,
            ),
        },
        exception_handlers={
            HTTPException: http_exception_handler,
            **dict.fromkeys(DATABASE_ERRORS, database_error_handler),
            OverflowError: out_of_range_handler,
            500: internal_error_handler,
        },
        openapi_config=OpenAPIConfig(
            title="kontor",
            version=__version__,
            description="The JSON API of kontor: offices, opening hours, bookings and queues.",
            path="/schema",
            render_plugins=[JsonRenderPlugin()],
        ),
        # Level 6, not Litestar's 9: a year's staff feed (6 MB of iCalendar) compresses in ~55 ms
        # instead of ~90 for a body 2.5 % larger; pages gain the same way.
        compression_config=CompressionConfig(backend="gzip", minimum_size=1024, gzip_compress_level=6),
        on_startup=[live.start, *([worker.start] if worker else []), _freeze_startup_objects],
        on_shutdown=[live.stop, *([worker.stop] if worker else []), dispose_engine],
        debug=settings.debug,
        state=_state(settings, session_maker, write_session_maker),
    )
    app.state["live_bus"] = live
    app.state["admission"] = admission
    app.state["write_turns"] = write_turns if settings.is_sqlite else None
    return app


def _state(settings: Settings, session_maker: Any, write_session_maker: Any) -> Any:
    from litestar.datastructures import State

    return State(
        {
            "settings": settings,
            "session_maker": session_maker,
            "write_session_maker": write_session_maker,
            "directory": OfficeDirectory(),
            "slot_cache": SlotCache(),
        }
    )


def _freeze_startup_objects(_app: Litestar) -> None:
    """Move everything built at startup (routes, templates, mappers) out of the garbage collector's
    sight: full collections then scan only what requests create, and pause every request for
    milliseconds instead of a large fraction of a second."""
    import gc

    gc.collect()
    gc.freeze()
