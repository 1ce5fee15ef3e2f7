"""The demo city as plain data: Stockholm's thirteen district areas, one citizen office in each.

Street names are real streets of each area, but house numbers (9xx), phone numbers (08-000 00 NN)
and e-mail addresses (…@medborgarkontor.example) are made up, so nobody mistakes the demo for
the city's real offices.
"""

from __future__ import annotations

from dataclasses import dataclass

DEMO_PASSWORD = "demo-password"  # noqa: S105 — printed by `kontor demo`, which serves on localhost
DEMO_ACTOR = "demo"


@dataclass(frozen=True, slots=True)
class WeekPlan:
    """An office's normal week: Mon–Thu 09:00–16:00, one late evening until 19:00, a shorter Friday."""

    late_day: int  # 0 = Monday … 3 = Thursday
    friday_closes: str = "15:00"
    lunch_break: bool = False  # closed 12:00–13:00 Monday to Thursday
    appointment_day: int | None = None  # appointment only 08:00–10:00, drop-in from 10:00
    saturday: tuple[str, str] | None = None


@dataclass(frozen=True, slots=True)
class OfficePlan:
    slug: str
    district: str
    name: str
    street: str
    postal_code: str
    city: str
    languages: tuple[str, ...]
    accessibility: str
    directions: str
    services: tuple[str, ...]
    counters: int
    week: WeekPlan

    @property
    def email(self) -> str:
        return f"{self.slug}@medborgarkontor.example"


@dataclass(frozen=True, slots=True)
class ServicePlan:
    code: str
    letter: str
    name: tuple[str, str, str]  # sv, en, fi
    description: tuple[str, str, str]
    duration_minutes: int
    bookable: bool
    walk_in: bool


@dataclass(frozen=True, slots=True)
class DemoLogin:
    username: str
    display_name: str
    role: str
    offices: tuple[str, ...]
    try_this: str


# The tables are aligned by hand: one service or office per block reads better than the formatter's
# one-value-per-line layout.
# fmt: off
SERVICES: tuple[ServicePlan, ...] = (
    ServicePlan(
        "eservices", "A",
        ("Hjälp med e-tjänster och blanketter", "Help with e-services and forms",
         "Apua sähköisten palvelujen ja lomakkeiden kanssa"),
        ("Vi hjälper dig att använda stadens e-tjänster, fylla i blanketter och hitta rätt kontakt.",
         "We help you use the city's e-services, fill in forms and find the right contact.",
         "Autamme käyttämään kaupungin sähköisiä palveluja, täyttämään lomakkeita ja löytämään "
         "oikean yhteyshenkilön."),
        20, True, True,
    ),
    ServicePlan(
        "budget", "B",
        ("Budget- och skuldrådgivning", "Budget and debt advice", "Budjetti- ja velkaneuvonta"),
        ("Kostnadsfri och konfidentiell rådgivning om hushållets budget, skulder och betalningsplaner.",
         "Free and confidential advice on household budgets, debts and repayment plans.",
         "Maksutonta ja luottamuksellista neuvontaa kotitalouden budjetista, veloista ja "
         "maksusuunnitelmista."),
        45, True, False,
    ),
    ServicePlan(
        "consumer", "C",
        ("Konsumentvägledning", "Consumer advice", "Kuluttajaneuvonta"),
        ("Råd om köp, reklamationer, avtal och dina rättigheter som konsument.",
         "Advice on purchases, complaints, contracts and your rights as a consumer.",
         "Neuvontaa ostoksista, reklamaatioista, sopimuksista ja oikeuksistasi kuluttajana."),
        30, True, True,
    ),
    ServicePlan(
        "housing", "D",
        ("Vägledning om bostad och bidrag", "Housing and benefits guidance", "Asumis- ja etuusneuvonta"),
        ("Hjälp att söka bostad, bostadsbidrag och andra stöd, och att förstå ett beslut.",
         "Help applying for housing, housing allowance and other support, and understanding a decision.",
         "Apua asunnon, asumistuen ja muiden tukien hakemisessa sekä päätösten ymmärtämisessä."),
        30, True, True,
    ),
    ServicePlan(
        "elderly", "E",
        ("Äldre direkt – hjälp för äldre", "Help for older people (Äldre direkt)",
         "Apua ikäihmisille (Äldre direkt)"),
        ("Information om hemtjänst, trygghetslarm, färdtjänst och aktiviteter för dig över 65 år.",
         "Information on home care, safety alarms, mobility services and activities for people over 65.",
         "Tietoa kotipalvelusta, turvahälyttimistä, kuljetuspalvelusta ja toiminnasta yli "
         "65-vuotiaille."),
        30, True, True,
    ),
    ServicePlan(
        "building-permits", "F",
        ("Frågor om bygglov", "Building permit questions", "Rakennuslupaneuvonta"),
        ("Träffa en bygglovshandläggare om ansökan, ritningar och regler. Boka tid.",
         "Meet a building permit officer about applications, drawings and rules. Book a time.",
         "Tapaa rakennuslupakäsittelijä hakemuksesta, piirustuksista ja säännöistä. Varaa aika."),
        30, True, False,
    ),
    ServicePlan(
        "finnish", "G",
        ("Service på finska", "Service in Finnish", "Palvelua suomeksi"),
        ("Stockholm är finskt förvaltningsområde: här får du hjälp med dina ärenden på finska.",
         "Stockholm is a Finnish administrative area: get help with your errands in Finnish here.",
         "Tukholma kuuluu suomen kielen hallintoalueeseen: täällä saat apua asioihisi suomeksi."),
        20, True, True,
    ),
    ServicePlan(
        "energy", "H",
        ("Energi- och klimatrådgivning", "Energy and climate advice", "Energia- ja ilmastoneuvonta"),
        ("Opartiska råd om att spara energi, om uppvärmning, solceller och laddning av elbil.",
         "Impartial advice on saving energy, heating, solar panels and charging an electric car.",
         "Puolueetonta neuvontaa energian säästämisestä, lämmityksestä, aurinkopaneeleista ja "
         "sähköauton lataamisesta."),
        30, True, False,
    ),
    ServicePlan(
        "bankid", "I",
        ("Hjälp med BankID och e-legitimation", "Help with BankID and digital ID",
         "Apua BankID:n ja sähköisen tunnistautumisen kanssa"),
        ("Kom in utan bokning för hjälp att skaffa, installera och använda en e-legitimation.",
         "Drop in for help getting, installing and using a digital ID.",
         "Tule ilman ajanvarausta saamaan apua sähköisen tunnistautumisen hankkimisessa, "
         "asentamisessa ja käytössä."),
        20, False, True,
    ),
    ServicePlan(
        "newcomers", "J",
        ("Samhällsvägledning för nyanlända", "Guidance for new arrivals",
         "Yhteiskuntaneuvontaa maahan muuttaneille"),
        ("Vägledning om myndigheter, skola, vård och arbete för dig som är ny i Sverige.",
         "Guidance on public authorities, school, healthcare and work for people new to Sweden.",
         "Ohjausta viranomaisista, koulusta, terveydenhuollosta ja työstä Ruotsiin vasta "
         "muuttaneille."),
        30, True, True,
    ),
)

_STEP_FREE = "Entré i markplan utan trappsteg, automatiska dörrar."
_LOOP = "Hörslinga vid alla diskar."
_TOILET = "Tillgänglighetsanpassad toalett."

OFFICES: tuple[OfficePlan, ...] = (
    OfficePlan(
        "rinkeby-kista", "Rinkeby-Kista", "Medborgarkontor Kista", "Kistagången 901", "164 40", "Kista",
        ("sv", "en", "ar", "so", "ti", "fi"),
        f"{_STEP_FREE} {_LOOP} {_TOILET} Plats för rullstol och rullator i väntrummet.",
        "Tunnelbanans blå linje till Kista, uppgång Kista centrum, tre minuters promenad. "
        "Buss 179 till Kista centrum.",
        ("eservices", "budget", "consumer", "housing", "elderly", "finnish", "bankid", "newcomers"),
        3, WeekPlan(late_day=2, appointment_day=1),
    ),
    OfficePlan(
        "spanga-tensta", "Spånga-Tensta", "Medborgarkontor Tensta", "Tensta allé 902", "163 64",
        "Spånga", ("sv", "en", "so", "ar", "ti", "fa"),
        f"{_STEP_FREE} Hörslinga vid disk 1. {_TOILET}",
        "Tunnelbanans blå linje till Tensta, två minuters promenad mot Tensta centrum. Buss 117 och 179.",
        ("eservices", "consumer", "housing", "elderly", "bankid", "newcomers"),
        2, WeekPlan(late_day=0, friday_closes="14:00", lunch_break=True),
    ),
    OfficePlan(
        "hasselby-vallingby", "Hässelby-Vällingby", "Medborgarkontor Vällingby", "Kirunagatan 903",
        "162 68", "Vällingby", ("sv", "en", "fi", "ru", "fa"),
        f"Hiss från torget till entréplan. {_LOOP} {_TOILET} Sittplatser med armstöd i väntrummet.",
        "Tunnelbanans gröna linje till Vällingby, fyra minuters promenad genom centrum. "
        "Bussar till Vällingby centrum.",
        ("eservices", "budget", "consumer", "housing", "elderly", "finnish", "energy", "bankid"),
        3, WeekPlan(late_day=3, appointment_day=1),
    ),
    OfficePlan(
        "bromma", "Bromma", "Medborgarkontor Bromma", "Brommaplan 904", "168 76", "Bromma",
        ("sv", "en", "pl", "es"),
        f"{_STEP_FREE} Hörslinga vid disk 2. {_TOILET} Parkering för rörelsehindrade vid entrén.",
        "Tunnelbanans gröna linje till Brommaplan, entrén mot rondellen. Tvärbanan och bussar till "
        "Brommaplan.",
        ("eservices", "budget", "consumer", "elderly", "energy", "bankid"),
        2, WeekPlan(late_day=1, friday_closes="14:00", lunch_break=True),
    ),
    OfficePlan(
        "kungsholmen", "Kungsholmen", "Medborgarkontor Kungsholmen", "Fleminggatan 905", "112 26",
        "Stockholm", ("sv", "en", "es", "tr"),
        f"Hiss till kontoret på plan 1. {_LOOP} {_TOILET} Ledarhund välkommen.",
        "Tunnelbanans blå linje till Fridhemsplan, sex minuters promenad. Buss 1 längs Fleminggatan.",
        ("eservices", "budget", "consumer", "housing", "building-permits", "energy", "bankid"),
        2, WeekPlan(late_day=2),
    ),
    OfficePlan(
        "norrmalm", "Norrmalm", "Medborgarkontor Norrmalm", "Vasagatan 906", "111 20", "Stockholm",
        ("sv", "en", "ru", "es", "fa"),
        f"{_STEP_FREE} {_LOOP} {_TOILET} Skärmar med stor text visar kölappar.",
        "T-Centralen (alla tunnelbanelinjer) och Stockholm Central, tre minuters promenad.",
        ("eservices", "budget", "consumer", "housing", "elderly", "bankid", "newcomers"),
        3, WeekPlan(late_day=3),
    ),
    OfficePlan(
        "ostermalm", "Östermalm", "Medborgarkontor Östermalm", "Karlavägen 907", "114 31", "Stockholm",
        ("sv", "en", "ru", "pl"),
        f"Ramp vid entrén, dörröppnare. Hörslinga vid disk 1. {_TOILET}",
        "Tunnelbanans röda linje till Stadion, fem minuters promenad. Buss 4 till Karlavägen.",
        ("eservices", "budget", "consumer", "elderly", "energy", "bankid"),
        2, WeekPlan(late_day=0, friday_closes="14:00", lunch_break=True, appointment_day=1),
    ),
    OfficePlan(
        "sodermalm", "Södermalm", "Medborgarkontor Södermalm", "Götgatan 908", "118 46", "Stockholm",
        ("sv", "en", "fi", "es", "pl"),
        f"{_STEP_FREE} {_LOOP} {_TOILET} Plats för rullstol vid alla diskar.",
        "Tunnelbanans gröna linje till Medborgarplatsen eller Skanstull. Buss 3 och 4.",
        ("eservices", "budget", "consumer", "housing", "elderly", "finnish", "energy", "bankid",
         "newcomers"),
        3, WeekPlan(late_day=1),
    ),
    OfficePlan(
        "enskede-arsta-vantor", "Enskede-Årsta-Vantör", "Medborgarkontor Högdalen", "Högdalstorget 909",
        "124 54", "Bandhagen", ("sv", "en", "ar", "bs", "tr", "so"),
        f"Hiss från torget. Hörslinga vid disk 1. {_TOILET}",
        "Tunnelbanans gröna linje till Högdalen, entrén vid torget. Bussar till Högdalens centrum.",
        ("eservices", "budget", "consumer", "housing", "elderly", "bankid", "newcomers"),
        2, WeekPlan(late_day=2, friday_closes="14:00", lunch_break=True, appointment_day=1),
    ),
    OfficePlan(
        "skarpnack", "Skarpnäck", "Medborgarkontor Skarpnäck", "Skarpnäcks allé 910", "128 33",
        "Skarpnäck", ("sv", "en", "bs", "fa", "ar"),
        f"{_STEP_FREE} Hörslinga vid disk 2. {_TOILET}",
        "Tunnelbanans gröna linje till Skarpnäck, en minut från spärrarna.",
        ("eservices", "consumer", "housing", "elderly", "bankid"),
        2, WeekPlan(late_day=3, friday_closes="14:00", lunch_break=True),
    ),
    OfficePlan(
        "farsta", "Farsta", "Medborgarkontor Farsta", "Farstaplan 911", "123 47", "Farsta",
        ("sv", "en", "fi", "tr", "so"),
        f"{_STEP_FREE} {_LOOP} {_TOILET} Parkering för rörelsehindrade i garaget, hiss upp.",
        "Tunnelbanans gröna linje till Farsta centrum, två minuters promenad. Bussar till Farsta centrum.",
        ("eservices", "budget", "consumer", "housing", "elderly", "finnish", "bankid", "newcomers"),
        3, WeekPlan(late_day=0, saturday=("10:00", "13:00")),
    ),
    OfficePlan(
        "hagersten-alvsjo", "Hägersten-Älvsjö", "Medborgarkontor Liljeholmen", "Liljeholmstorget 912",
        "117 61", "Stockholm", ("sv", "en", "pl", "es", "ru"),
        f"Hiss från gallerian. {_LOOP} {_TOILET}",
        "Tunnelbanans röda linje och Tvärbanan till Liljeholmen, två minuters promenad.",
        ("eservices", "budget", "consumer", "housing", "building-permits", "energy", "bankid"),
        2, WeekPlan(late_day=1, friday_closes="14:00", appointment_day=3),
    ),
    OfficePlan(
        "skarholmen", "Skärholmen", "Medborgarkontor Skärholmen", "Skärholmstorget 913", "127 48",
        "Skärholmen", ("sv", "en", "ar", "tr", "bs", "ti"),
        f"{_STEP_FREE} {_LOOP} {_TOILET} Lugnt väntrum för den som behöver.",
        "Tunnelbanans röda linje till Skärholmen, entrén mot torget. Bussar till Skärholmens centrum.",
        ("eservices", "budget", "consumer", "housing", "elderly", "bankid", "newcomers"),
        3, WeekPlan(late_day=2, lunch_break=True, saturday=("10:00", "14:00")),
    ),
)
# fmt: on

# (office, weekday, at least this many days after the seed date) of a staff training day.
TRAINING_DAYS: tuple[tuple[str, int, int], ...] = (("rinkeby-kista", 2, 14), ("hasselby-vallingby", 3, 21))
TRAINING_REASON = "Stängt för personalutbildning"
INVENTORY_OFFICE = "norrmalm"  # closed 28–30 December
INVENTORY_REASON = "Inventering"
HOLIDAY_EVE_OFFICE = "sodermalm"  # open 10:00–13:00 on 23 December
HOLIDAY_EVE_REASON = "Dagen före julafton: öppet 10–13"

LOGINS: tuple[DemoLogin, ...] = (
    DemoLogin("admin", "Demo Administratör", "admin", (), "/admin: districts, offices, users and API tokens"),
    DemoLogin(
        "chef.kista",
        "Demo Chef Kista",
        "manager",
        ("rinkeby-kista",),
        "log in at /login, edit Kista's opening hours at /admin",
    ),
    DemoLogin(
        "chef.sodermalm",
        "Demo Chef Södermalm",
        "manager",
        ("sodermalm",),
        "the same for Södermalm; Kista is out of reach",
    ),
    DemoLogin(
        "disk.kista",
        "Demo Disk Kista",
        "staff",
        ("rinkeby-kista",),
        "/desk/rinkeby-kista: walk-in tickets and booked visits; /counter/rinkeby-kista",
    ),
    DemoLogin(
        "agent",
        "Demo Kontaktcenter",
        "agent",
        (),
        "/agent?phone=0700001101: a call comes in; book a visit at any office for the caller",
    ),
)
