"""kontor as a city runs it: two instances on one PostgreSQL with the same secret key, and nginx in
front configured by ``deploy/nginx.conf`` as shipped (tests/deploy/nginx.py fills in only ports and
paths).

Through the proxy: pages and the API answer and are spread over both instances, the app's security
headers arrive, /readyz is ready; a waiting-room screen gets calls made on either instance at once; a
rush is shed with kontor's 503 and Retry-After without the proxy giving up on the instances; login
throttling counts the client's forwarded address, not the proxy's; and when one instance is killed,
GET requests keep being answered by the other until it is back. Also: ``kontor serve --workers 2``
on PostgreSQL, and its refusal on SQLite.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

from kontor import cli
from kontor.settings import Settings
from tests.conftest import ENGLISH, _skip_or_fail
from tests.deploy.nginx import NGINX, Nginx
from tests.helpers import login
from tests.pressure.conftest import bearer, make_api_token, open_around_the_clock
from tests.processes import HOST, KontorServer, free_port

pytestmark = pytest.mark.pressure

SLUG = "kista"
EVENT_TIMEOUT = 10.0
# Per user name 2 failed logins, per address 4 × 2 (kontor.accounts.throttle.ADDRESS_FACTOR): few
# requests reach the address limit.
LOGIN_MAX_FAILURES = 2
ADDRESS_LIMIT = 4 * LOGIN_MAX_FAILURES
# The proxy is the only peer the instances believe about forwarded addresses. Each instance serves
# one public request at a time (the others wait up to 50 ms for a turn), so a modest
# rush is enough to make it shed; requests one after another are never shed.
SERVER_ENV = {
    "KONTOR_FORWARDED_ALLOW_IPS": "127.0.0.1",
    "KONTOR_LOGIN_MAX_FAILURES": str(LOGIN_MAX_FAILURES),
    "KONTOR_PUBLIC_CONCURRENCY": "1",
    "KONTOR_PUBLIC_QUEUE_MS": "50",
}
# Residents arriving at once: far more than the two instances let in or wait (1 + 4 each).
RUSH = 40
RUSH_ROUNDS = 5
# The upstream's fail_timeout in deploy/nginx.conf, and time to spare, for a restarted instance to
# be sent requests again.
BACK_IN_ROTATION = 10 + 15

# (path, content type) of what a resident, a screen and an integration fetch.
PAGES = [
    ("/", "text/html"),
    (f"/offices/{SLUG}", "text/html"),
    (f"/offices/{SLUG}/display", "text/html"),
    ("/api/v1/offices", "application/json"),
    (f"/api/v1/offices/{SLUG}/queue", "application/json"),
    ("/static/css/kontor.css", "text/css"),
]


@pytest.fixture
def needs_nginx() -> None:
    if not NGINX.exists():
        _skip_or_fail("nginx", f"{NGINX} is not installed (apt-get install nginx)")


@pytest.fixture
def postgres_settings(settings: Settings) -> Settings:
    if settings.is_sqlite:
        pytest.skip("one SQLite process has no second instance to reach")
    return settings


@dataclass
class City:
    instances: list[KontorServer]
    proxy: Nginx
    token: str  # a bearer token of Kista's staff

    def address(self, index: int) -> str:
        """The instance as nginx names it in its access log."""
        return f"{HOST}:{self.instances[index].port}"

    def answered_by(self, at_least: int = 0) -> Counter[str]:
        """How many requests each instance answered through the proxy (the last one nginx tried)."""
        return Counter(served.upstreams[-1] for served in self.proxy.served(at_least))


@pytest.fixture
def city_setup(needs_nginx: None, postgres_settings: Settings, city, tmp_path: Path) -> Iterator[City]:  # type: ignore[no-untyped-def]
    open_around_the_clock(postgres_settings, SLUG)
    token = make_api_token(postgres_settings, "staff")
    instances = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        instances.append(KontorServer(postgres_settings, tmp_path / name, **SERVER_ENV))
    try:
        with ThreadPoolExecutor(len(instances)) as pool:  # both start at once: half the wait
            list(pool.map(lambda instance: instance.start(), instances))
        with Nginx([instance.port for instance in instances], tmp_path / "nginx") as proxy:
            yield City(instances, proxy, token)
    finally:
        for instance in instances:
            instance.kill()


# -- helpers ---------------------------------------------------------------------------------------


def _client(city: City, **headers: str) -> httpx.Client:
    return httpx.Client(base_url=city.proxy.base, headers={**ENGLISH, **headers}, timeout=10)


@asynccontextmanager
async def _screen(base: str) -> AsyncIterator[tuple[httpx.Headers, asyncio.Queue[str]]]:
    """A waiting-room screen on ``base``: its response headers, and a queue of the data lines it gets."""
    received: asyncio.Queue[str] = asyncio.Queue()
    opened: asyncio.Future[httpx.Headers] = asyncio.get_running_loop().create_future()

    async def listen() -> None:
        try:
            async with (
                httpx.AsyncClient(timeout=httpx.Timeout(5, read=None)) as client,
                client.stream("GET", f"{base}/offices/{SLUG}/display/events") as response,
            ):
                assert response.status_code == 200
                opened.set_result(response.headers)
                async for line in response.aiter_lines():
                    if line.startswith("data:"):
                        received.put_nowait(line)
        except Exception as exc:  # a failure to connect is the test's failure, not a silent timeout
            if not opened.done():
                opened.set_exception(exc)
            raise

    task = asyncio.create_task(listen())
    try:
        headers = await asyncio.wait_for(asyncio.shield(opened), EVENT_TIMEOUT)
        yield headers, received
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def _wait_for(received: asyncio.Queue[str], text: str) -> None:
    """Returns once a data line containing ``text`` arrived; fails after EVENT_TIMEOUT."""
    async with asyncio.timeout(EVENT_TIMEOUT):
        while text not in await received.get():
            pass


async def _issue_and_call(base: str, token: str) -> str:
    """A walk-in ticket issued and called to counter 1 on ``base``; its code."""
    async with httpx.AsyncClient(base_url=base, headers=bearer(token), timeout=10) as client:
        issued = await client.post(f"/api/v1/offices/{SLUG}/tickets", json={"service": "eservice"})
        assert issued.status_code == 201, issued.text
        called = await client.post(f"/api/v1/offices/{SLUG}/counters/1/next", json={"services": ["eservice"]})
        assert called.status_code == 200, called.text
        code: str = called.json()["code"]
        assert code == issued.json()["code"]
        return code


# -- a day through the proxy -----------------------------------------------------------------------


def test_pages_api_and_screens_work_through_the_proxy_on_both_instances(city_setup: City) -> None:
    with _client(city_setup) as client:
        for _round in range(2):
            for path, content_type in PAGES:
                response = client.get(path)
                assert response.status_code == 200, (path, response.text[:300])
                assert response.headers["content-type"].startswith(content_type), path

        home = client.get("/")
        # The app's security headers pass the proxy; no HSTS on plain http (KONTOR_SECURE_COOKIES off).
        assert "frame-ancestors 'none'" in home.headers["content-security-policy"]
        assert home.headers["x-content-type-options"] == "nosniff"
        assert home.headers["x-frame-options"] == "DENY"
        assert home.headers["referrer-policy"] == "strict-origin-when-cross-origin"
        assert "strict-transport-security" not in home.headers
        assert home.headers["server"] == "nginx"  # no version (server_tokens off)

        ready = client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["status"] == "ready"
        assert ready.json()["live_updates"] == "ok"  # PostgreSQL's LISTEN connection is up

    answered = city_setup.answered_by(at_least=2 * len(PAGES) + 2)
    total = sum(answered.values())
    assert set(answered) == {city_setup.address(0), city_setup.address(1)}
    # Round robin: each instance gets about half (an exact half is not promised across nginx workers).
    assert min(answered.values()) >= total // 4, answered

    async def screen_on_the_proxy() -> None:
        async with _screen(city_setup.proxy.base) as (headers, received):
            assert headers["content-type"].startswith("text/event-stream")
            assert "no-store" in headers["cache-control"] or "no-cache" in headers["cache-control"]
            # The screen sits on one instance; one of the calls is made on the other.
            for instance in city_setup.instances:
                code = await _issue_and_call(instance.base, city_setup.token)
                # Each event on its own, as it is sent: the proxy holds nothing back for later.
                await _wait_for(received, code)

    asyncio.run(screen_on_the_proxy())

    async def rush() -> list[httpx.Response]:
        # A year of opening hours: a public request that keeps its turn a while.
        today = date.today()
        year = {"from": today.isoformat(), "to": (today + timedelta(days=365)).isoformat()}
        limits = httpx.Limits(max_connections=RUSH)
        async with httpx.AsyncClient(base_url=city_setup.proxy.base, limits=limits, timeout=10) as client:
            path = f"/api/v1/offices/{SLUG}/hours"
            return await asyncio.gather(*(client.get(path, params=year) for _ in range(RUSH)))

    # More residents at once than the instances let in: those turned away get kontor's 503 with
    # Retry-After, and the proxy does not take a shedding instance for a broken one: right after,
    # residents and staff are served as before (no 502 "no live upstreams").
    # How many arrive at the same moment depends on the machine; a few rounds make sure one overlaps.
    shed: Counter[int] = Counter()
    for _ in range(RUSH_ROUNDS):
        answers = asyncio.run(rush())
        shed += Counter(response.status_code for response in answers)
        assert set(shed) <= {200, 503}, shed
        assert all(int(answer.headers["retry-after"]) > 0 for answer in answers if answer.status_code == 503)
        if shed[503]:
            break
    assert shed[503] > 0, f"no rush of {RUSH} was shed in {RUSH_ROUNDS} rounds: {shed}"
    staff = bearer(city_setup.token)
    with _client(city_setup) as client:
        for _ in range(4):
            assert client.get("/api/v1/offices").status_code == 200
            issued = client.post(
                f"/api/v1/offices/{SLUG}/tickets", json={"service": "eservice"}, headers=staff
            )
            assert issued.status_code == 201, issued.text


# -- the client's address --------------------------------------------------------------------------


def test_login_throttling_counts_the_forwarded_address_not_the_proxy(city_setup: City) -> None:
    # Both clients reach the proxy from 127.0.0.1; what tells them apart is the address an outer proxy
    # (or load balancer) forwarded, which nginx passes on with its own peer appended.
    with (
        _client(city_setup, **{"X-Forwarded-For": "198.51.100.7"}) as sprayer,
        _client(city_setup, **{"X-Forwarded-For": "203.0.113.9"}) as clerk,
    ):
        # A different user name each time: only the address's limit can be reached.
        for attempt in range(ADDRESS_LIMIT):
            failed = login(sprayer, f"nobody{attempt}", "wrong-password-123")
            assert failed.status_code == 400, failed.text[:300]

        refused = login(sprayer, "staff")
        assert refused.status_code == 429
        assert "Too many attempts" in refused.text
        assert int(refused.headers["retry-after"]) > 0

        # The same user, the right password, another address: in, and known on either instance.
        admitted = login(clerk, "staff")
        assert admitted.status_code == 303, admitted.text[:300]
        assert admitted.headers["location"] == "/staff"
        for instance in city_setup.instances:
            staff_home = httpx.get(f"{instance.base}/staff", cookies=clerk.cookies, headers=ENGLISH)
            assert staff_home.status_code == 200, instance.base


# -- an instance lost ------------------------------------------------------------------------------


def test_gets_keep_being_answered_while_an_instance_is_down_and_it_comes_back(city_setup: City) -> None:
    lost = city_setup.instances[0]
    with _client(city_setup) as client:
        assert client.get("/").status_code == 200
        lost.kill()
        before = len(city_setup.proxy.served(at_least=1))

        for _round in range(3):
            for path, _type in PAGES:
                response = client.get(path)
                assert response.status_code == 200, (path, response.status_code)
        # Tickets are still issued: a request the lost instance never received goes to the other.
        issued = client.post(
            f"/api/v1/offices/{SLUG}/tickets", json={"service": "eservice"}, headers=bearer(city_setup.token)
        )
        assert issued.status_code == 201, issued.text

        after_kill = city_setup.proxy.served(at_least=before + 3 * len(PAGES) + 1)[before:]
        assert {served.upstreams[-1] for served in after_kill} == {city_setup.address(1)}
        # nginx tried the lost one first at least once, and passed the request on.
        assert (city_setup.address(0), city_setup.address(1)) in {served.upstreams for served in after_kill}

        lost.start()
        assert httpx.get(f"{lost.base}/readyz", timeout=5).status_code == 200
        back_from = len(city_setup.proxy.served())
        deadline = time.monotonic() + BACK_IN_ROTATION
        while True:
            assert client.get("/api/v1/offices").status_code == 200
            if any(
                served.upstreams == (city_setup.address(0),) and served.status == 200
                for served in city_setup.proxy.served()[back_from:]
            ):
                break
            assert time.monotonic() < deadline, "the restarted instance got no requests through the proxy"
            time.sleep(0.2)


# -- several workers in one server -----------------------------------------------------------------


def test_two_workers_on_postgres_are_ready_and_share_live_updates(  # type: ignore[no-untyped-def]
    postgres_settings: Settings, city, tmp_path: Path
) -> None:
    open_around_the_clock(postgres_settings, SLUG)
    token = make_api_token(postgres_settings, "staff")
    server = KontorServer(postgres_settings, tmp_path, workers=2)
    try:
        server.start(timeout=60)
        # Each worker answers for itself: ask until both must have been asked (new connections each).
        deadline = time.monotonic() + 30
        ready_in_a_row = 0
        while ready_in_a_row < 6:
            ready = httpx.get(f"{server.base}/readyz", timeout=5)
            if ready.status_code == 200:
                ready_in_a_row += 1
                continue
            assert time.monotonic() < deadline, ready.text
            ready_in_a_row = 0
            time.sleep(0.2)
        assert ready.json()["live_updates"] == "ok"

        async def scenario() -> None:
            async with _screen(server.base) as (_headers, received):
                # New connections each: the calls land on either worker, the screen sits on one.
                for _ in range(3):
                    await _wait_for(received, await _issue_and_call(server.base, token))

        asyncio.run(scenario())
    finally:
        server.kill()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_two_workers_on_sqlite_are_refused(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KONTOR_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("KONTOR_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("KONTOR_SECRET_KEY", settings.secret_key)

    def serve_anyway(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("kontor served SQLite from several workers")

    monkeypatch.setattr("uvicorn.run", serve_anyway)  # a failure, not a server that never returns
    try:
        status = cli.main(["serve", "--port", str(free_port()), "--workers", "2"])
    except SystemExit as exit_:
        status = exit_.code
    said = capsys.readouterr().err + (status if isinstance(status, str) else "")
    assert status not in (0, None)
    assert "several workers need PostgreSQL" in said
