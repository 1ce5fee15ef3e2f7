"""A small, fully known city for tests: two districts, three offices, four services, a user per role.

Hours (Europe/Stockholm) — Kista: Mon–Thu 09:00–12:00 and 13:00–17:00, Wed also 17:00–19:00,
Fri 09:00–15:00, appointments Tue 09:00–12:00; summer (July 2026) Mon–Fri 10:00–15:00.
Tensta: Mon–Fri 10:00–16:00. Bromma: Mon–Fri 08:00–16:00, closed 2026-12-28..2026-12-30 ("Inventering").
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, time

from sqlalchemy.ext.asyncio import AsyncSession

from kontor.accounts.models import ApiToken, Role, User
from kontor.accounts.security import hash_password, hash_token
from kontor.hours.models import Closure, WeeklyHours
from kontor.offices.models import Counter, District, Office, OfficeService, Service

PASSWORDS = {role: f"{role}-password-123" for role in ("admin", "manager", "staff", "agent")}
AGENT_TOKEN = "kontor_test-agent-token-0123456789abcdef"
ADMIN_TOKEN = "kontor_test-admin-token-0123456789abcdef"


@functools.cache
def password_hash(password: str) -> str:
    """Argon2 is slow on purpose (~0.1–0.3 s); hash each test password once per run."""
    return hash_password(password)


@dataclass
class City:
    kista: Office
    tensta: Office
    bromma: Office
    services: dict[str, Service]
    users: dict[str, User]


def _weekly(office: Office, weekday: int, opens: str, closes: str, **extra: object) -> WeeklyHours:
    return WeeklyHours(
        office_id=office.id,
        weekday=weekday,
        opens=time.fromisoformat(opens),
        closes=time.fromisoformat(closes),
        **extra,
    )


async def build_city(db: AsyncSession) -> City:
    north = District(slug="rinkeby-kista", name="Rinkeby-Kista")
    west = District(slug="bromma", name="Bromma")
    db.add_all([north, west])
    await db.flush()
    kista = Office(
        slug="kista",
        name="Medborgarkontor Kista",
        district_id=north.id,
        street="Kistagången 1",
        postal_code="164 40",
        city="Kista",
        phone="08-000 00 01",
        email="kista@example.org",
        languages=["sv", "en", "fi", "ar"],
        accessibility="Hiss och hörslinga.",
    )
    tensta = Office(
        slug="tensta",
        name="Medborgarkontor Tensta",
        district_id=north.id,
        street="Tensta allé 2",
        postal_code="163 64",
        city="Spånga",
        languages=["sv", "so"],
    )
    bromma = Office(
        slug="bromma",
        name="Medborgarkontor Bromma",
        district_id=west.id,
        street="Brommaplan 3",
        postal_code="168 76",
        city="Bromma",
        languages=["sv", "en"],
    )
    db.add_all([kista, tensta, bromma])
    services = {
        "eservice": Service(
            code="eservice",
            letter="A",
            name_sv="Hjälp med e-tjänster",
            name_en="Help with e-services",
            name_fi="Apua sähköisissä palveluissa",
            duration_minutes=20,
            bookable=True,
            walk_in=True,
            sort_order=1,
        ),
        "budget": Service(
            code="budget",
            letter="B",
            name_sv="Budget- och skuldrådgivning",
            name_en="Budget and debt advice",
            name_fi="Budjetti- ja velkaneuvonta",
            duration_minutes=45,
            bookable=True,
            walk_in=False,
            sort_order=2,
        ),
        "consumer": Service(
            code="consumer",
            letter="C",
            name_sv="Konsumentvägledning",
            name_en="Consumer advice",
            name_fi="Kuluttajaneuvonta",
            duration_minutes=30,
            bookable=False,
            walk_in=True,
            sort_order=3,
        ),
        "finnish": Service(
            code="finnish",
            letter="F",
            name_sv="Service på finska",
            name_en="Service in Finnish",
            name_fi="Palvelua suomeksi",
            duration_minutes=20,
            bookable=True,
            walk_in=True,
            sort_order=4,
        ),
    }
    db.add_all(services.values())
    await db.flush()
    for office, codes in (
        (kista, ("eservice", "budget", "consumer", "finnish")),
        (tensta, ("eservice", "consumer")),
        (bromma, ("eservice", "budget")),
    ):
        for code in codes:
            db.add(OfficeService(office_id=office.id, service_id=services[code].id))
        for number in (1, 2):
            db.add(Counter(office_id=office.id, number=number, name=f"Lucka {number}"))

    before, summer, after = date(2026, 6, 30), (date(2026, 7, 1), date(2026, 7, 31)), date(2026, 8, 1)
    for weekday in range(5):
        if weekday < 4:
            db.add(_weekly(kista, weekday, "09:00", "12:00", valid_until=before))
            db.add(_weekly(kista, weekday, "13:00", "17:00", valid_until=before))
            db.add(_weekly(kista, weekday, "09:00", "12:00", valid_from=after))
            db.add(_weekly(kista, weekday, "13:00", "17:00", valid_from=after))
        else:
            db.add(_weekly(kista, weekday, "09:00", "15:00", valid_until=before))
            db.add(_weekly(kista, weekday, "09:00", "15:00", valid_from=after))
        db.add(_weekly(kista, weekday, "10:00", "15:00", valid_from=summer[0], valid_until=summer[1]))
        db.add(_weekly(tensta, weekday, "10:00", "16:00"))
        db.add(_weekly(bromma, weekday, "08:00", "16:00"))
    db.add(_weekly(kista, 2, "17:00", "19:00", valid_until=before))
    db.add(_weekly(kista, 2, "17:00", "19:00", valid_from=after))
    db.add(_weekly(kista, 1, "09:00", "12:00", kind="appointment"))
    db.add(
        Closure(
            office_id=bromma.id,
            first_day=date(2026, 12, 28),
            last_day=date(2026, 12, 30),
            reason="Inventering",
        )
    )

    users = {
        "admin": User(username="admin", display_name="Ada Admin", role=Role.ADMIN),
        "manager": User(username="manager", display_name="Maja Chef", role=Role.MANAGER, offices=[kista]),
        "staff": User(username="staff", display_name="Sam Desk", role=Role.STAFF, offices=[kista]),
        "agent": User(username="agent", display_name="Aino Agent", role=Role.AGENT),
        "bromma_manager": User(
            username="bromma_manager", display_name="Bo Bromma", role=Role.MANAGER, offices=[bromma]
        ),
    }
    for key, user in users.items():
        user.password_hash = password_hash(PASSWORDS.get(key, PASSWORDS["manager"]))
    db.add_all(users.values())
    await db.flush()
    db.add(
        ApiToken(
            name="telephony",
            user_id=users["agent"].id,
            token_hash=hash_token(AGENT_TOKEN),
            prefix=AGENT_TOKEN[:12],
        )
    )
    db.add(
        ApiToken(
            name="admin-cli",
            user_id=users["admin"].id,
            token_hash=hash_token(ADMIN_TOKEN),
            prefix=ADMIN_TOKEN[:12],
        )
    )
    await db.flush()
    return City(kista=kista, tensta=tensta, bromma=bromma, services=services, users=users)
