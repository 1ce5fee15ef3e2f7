"""The demo's contact center: each office's notes for agents, a seat kept for phone bookings at
Kista and Tensta, and a morning's calls — visits booked with a hand-off for the office, calls solved
on the phone, and call-backs waiting at the offices' front desks."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kontor.accounts.models import User
from kontor.audit.models import Channel
from kontor.booking.models import Booking
from kontor.contacts.models import Contact
from kontor.contacts.services import log_contact, mark_callback_done
from kontor.offices.models import Office, OfficeService, Service
from kontor.settings import Settings

AGENT = "agent"
CLERK = "disk.kista"
# Local knowledge the offices keep for the contact center (the staff's language is Swedish).
NOTES = {
    "rinkeby-kista": (
        "Vi har tolk på plats i arabiska och somaliska tisdagar 9–12. Många besökare behöver hjälp "
        "med BankID: boka gärna 30 minuter.\nIngången från Kistagången har ramp; hissen till plan 2 "
        "ligger till vänster innanför entrén."
    ),
    "spanga-tensta": (
        "Drop-in är mest välbesökt måndag förmiddag. Vi talar arabiska, somaliska, dari och "
        "tigrinja.\nBudget- och skuldrådgivning endast efter bokning."
    ),
    "hasselby-vallingby": "Finska talas onsdagar. Parkering för rörelsehindrade vid entrén mot Kirunagatan.",
    "bromma": "Bygglovsfrågor: ta med ritningar. Inventering stänger kontoret sista veckan i december.",
    "kungsholmen": "Nära S:t Eriksplan. Vi hänvisar energirådgivning med hembesök till klimatrådgivarna.",
    "norrmalm": "Många nyanlända från hela staden: engelska och arabiska hela dagarna.",
    "ostermalm": "Äldre direkt har egen handläggare tisdagar och torsdagar.",
    "sodermalm": "Hörslinga vid disk 1. Kvällsöppet en dag i veckan till 19.",
    "enskede-arsta-vantor": "Kontoret ligger i Högdalen centrum, en trappa upp (hiss finns).",
    "skarpnack": "Litet kontor med en disk: boka hellre än drop-in för längre ärenden.",
    "farsta": "Finska och estniska talas. Ingång från Farstaplan, automatiska dörrar.",
    "hagersten-alvsjo": "Vid Liljeholmens tunnelbana. Energirådgivning varannan torsdag.",
    "skarholmen": "Tolk i arabiska, turkiska och persiska efter bokning, ring gärna kontoret först.",
}
# The offerings that keep one of two seats for the phone until 48 hours before.
PHONE_SEATS = (("rinkeby-kista", "eservices"), ("spanga-tensta", "eservices"))
# Fictional calls: outcome, category, office, summary, caller's number.
CALLS = (
    ("callback", "benefits", "rinkeby-kista", "Undrar över beslut om bostadsbidrag, vill ha hjälp att "
     "förstå brevet. Talar arabiska.", "070-000 11 01"),
    ("callback", "eservices", "rinkeby-kista", "Kommer inte in i e-tjänsten för parkeringstillstånd.",
     "070-000 11 02"),
    ("callback", "housing", "spanga-tensta", "Söker bostad, vill veta vilka papper som behövs.",
     "070-000 11 03"),
    ("solved", "information", None, "Frågade om öppettider i jul; svar givet.", None),
    ("forwarded", "forms", "bromma", "Bygglovsfråga om altan, skickad till kontoret.", "070-000 11 04"),
)  # fmt: skip


async def seed_contact_center(
    db: AsyncSession, today: date, settings: Settings | None = None
) -> tuple[int, int]:
    """Notes, phone seats and calls, unless there are contacts already; (created, existing)."""
    settings = settings or Settings()
    offices = {office.slug: office for office in await db.scalars(select(Office))}
    for slug, note in NOTES.items():
        office = offices.get(slug)
        if office is not None and not office.agent_notes:
            office.agent_notes = note
    for slug, code in PHONE_SEATS:
        offering = await db.scalar(
            select(OfficeService)
            .join(Service, Service.id == OfficeService.service_id)
            .where(OfficeService.office_id == offices[slug].id, Service.code == code)
        ) if slug in offices else None  # fmt: skip
        if offering is not None and offering.phone_seats == 0:
            offering.seats, offering.phone_seats = max(offering.seats, 2), 1
    existing = await db.scalar(select(func.count()).select_from(Contact)) or 0
    agent = await db.scalar(select(User).where(User.username == AGENT))
    if existing or agent is None:
        return 0, existing
    morning = datetime.combine(today, time(8, 30), ZoneInfo(settings.default_timezone))
    created = 0
    phone_bookings = await db.scalars(
        select(Booking).where(Booking.channel == Channel.PHONE.value).order_by(Booking.starts_at)
    )
    for booking in phone_bookings:
        await log_contact(
            db, agent=agent, channel=Channel.PHONE, category="eservices", outcome="visit_booked",
            summary="Behöver hjälp att ansöka om färdtjänst i e-tjänsten; har inget BankID än. "
            "Tar med id-handling.",
            booking=booking, now=morning, settings=settings,
        )  # fmt: skip
        created += 1
    for minutes, (outcome, category, slug, summary, phone) in enumerate(CALLS):
        office = offices.get(slug) if slug else None
        contact = await log_contact(
            db, agent=agent, channel=Channel.PHONE, category=category, outcome=outcome, summary=summary,
            office_id=office.id if office else None, phone=phone,
            callback_due_at=morning + timedelta(hours=26) if outcome == "callback" else None,
            now=morning + timedelta(minutes=7 * minutes), settings=settings,
        )  # fmt: skip
        created += 1
        if minutes == 1:  # one of Kista's call-backs was made already
            clerk = await db.scalar(select(User).where(User.username == CLERK))
            if clerk is not None:
                await mark_callback_done(
                    db, contact.id, user=clerk, note="Ringt upp, hjälpt med inloggningen.",
                    channel=Channel.DESK, now=morning + timedelta(minutes=40),
                )  # fmt: skip
    return created, 0
