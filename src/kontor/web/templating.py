"""The Jinja environment: gettext, Babel formatting, and one idiom for "full page or fragment"."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import Request
from litestar.response import Template

from kontor import i18n
from kontor.settings import resource_dir


def build_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(resource_dir("templates"))),
        autoescape=select_autoescape(["html", "xml"], default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.install_gettext_callables(i18n.gettext, i18n.plural_form, newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(
        locale=i18n.current_locale.get,
        LOCALES=i18n.LOCALES,
        LANGUAGE_NAMES=i18n.LANGUAGE_NAMES,
        language_name=i18n.language_name,
        weekday_names=i18n.weekday_names,
    )
    env.filters.update(
        date=i18n.format_date,
        day=i18n.format_day,
        weekday=i18n.format_weekday,
        time=i18n.format_time,
        datetime=i18n.format_datetime,
        number=i18n.format_number,
    )
    return env


def is_htmx(request: Request[Any, Any, Any]) -> bool:
    """Whether htmx sent the request (and so wants a fragment, not the whole page)."""
    return request.headers.get("hx-request") == "true"


def page(
    request: Request[Any, Any, Any],
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    fragment: str | None = None,
    status_code: int = 200,
) -> Template:
    """Render ``template``; for an htmx request that targets part of the page, render ``fragment``
    (a template that the page includes) alone."""
    name = fragment if fragment and is_htmx(request) else template
    headers = {"Vary": "HX-Request, Accept-Language, Cookie"}
    return Template(template_name=name, context=dict(context or {}), status_code=status_code, headers=headers)


def render_fragment(request: Request[Any, Any, Any], name: str, context: Mapping[str, Any]) -> str:
    """Render a template to a string as a page response would (request, CSRF input, locale), for the
    messages of a live stream, which are not template responses."""
    full = Template(template_name=name, context=dict(context)).create_template_context(request)
    return request.app.template_engine.get_template(name).render(**full)
