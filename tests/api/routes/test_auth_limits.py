"""Brute force and sign-up floods: the auth endpoints' limits per address and per account."""

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import settings as examples
from hypothesis import strategies as st

from frameforge_api.core import rate_limit
from frameforge_api.core.config import Settings
from frameforge_api.core.rate_limit import FREE_FAILURES, MAX_FAILURE_WAIT, AuthLimits
from frameforge_api.main import create_app
from tests.api.conftest import PASSWORD, problem, sign_up_on

WRONG = {"password": "not the password 1"}


def _login(client: TestClient, email: str, password: str):
    return client.post("/api/v1/auth/login", json={"email": email, "password": password})


def test_guessing_one_accounts_password_from_one_address_is_stopped(client, alice):
    for _ in range(9):  # the tenth attempt on the account: alice's own login when signing up
        assert _login(client, "alice@example.com", WRONG["password"]).status_code == 401
    refused = _login(client, "Alice@Example.com", WRONG["password"])  # the same account
    status, detail = problem(refused)
    assert status == 429
    assert detail.startswith("too many requests: 10 per 600 s per account and address")
    assert 0 < int(refused.headers["Retry-After"]) <= 600
    # the owner, from another address, is not locked out
    elsewhere = TestClient(client.app, client=("198.51.100.7", 40000))
    assert _login(elsewhere, "alice@example.com", PASSWORD).status_code == 200


def test_guessing_spread_over_many_addresses_is_bounded_per_account(client, alice):
    limits = client.app.state.auth_limits
    for _ in range(limits.account_failures.limit):  # as many addresses as failures
        limits.account_failures.hit("login-failures:alice@example.com")
    unknown = TestClient(client.app, client=("198.51.100.9", 40000))  # no device cookie
    status, detail = problem(_login(unknown, "alice@example.com", PASSWORD))
    assert status == 429
    assert detail.startswith(f"too many requests: 100 per 3600 s {UNKNOWN}")
    assert _login(client, "alice@example.com", PASSWORD).status_code == 200  # her device


UNKNOWN = "per account, counting failed logins, from devices that never signed in to it"


def _owner_device(client: TestClient, address: str) -> TestClient:
    """The owner's device (the cookie jar of the client she signed up with), at a new
    address."""
    return TestClient(client.app, client=(address, 40000), cookies=client.cookies)


class Clock:
    """The limiters' clock, moved by the test (no test waits for real seconds)."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(rate_limit, "time", fake)
    return fake


def test_120_wrong_logins_from_12_addresses_do_not_lock_the_owner_out(client, alice, clock):
    """The review's attack: 10 guesses from each of 12 addresses, as fast as it goes. After
    10 failures each guess from a device that never signed in waits 1 s, doubling: 110 of
    the 120 are refused unchecked. The owner signs in from a fresh address with the device
    she signed in from before at once, and on a new device after the wait (at most 60 s)."""
    answers = []
    for n in range(12):
        attacker = TestClient(client.app, client=(f"203.0.113.{n + 1}", 40000))
        answers += [_login(attacker, "alice@example.com", WRONG["password"]) for _ in range(10)]
    statuses = [answer.status_code for answer in answers]
    assert statuses == [401] * 10 + [429] * 110
    detail = problem(answers[-1])[1]
    assert detail.startswith("too many failed logins on this account: the next try from a device")
    assert answers[-1].headers["Retry-After"] == "1"

    owner = _owner_device(client, "198.51.100.77")
    signed_in = _login(owner, "alice@example.com", PASSWORD)
    assert signed_in.status_code == 200
    assert signed_in.json()["accessToken"]
    new_device = TestClient(client.app, client=("198.51.100.78", 40000))
    waited = _login(new_device, "alice@example.com", PASSWORD)
    assert problem(waited)[0] == 429
    clock.now += int(waited.headers["Retry-After"])  # a bounded delay, then her password works
    assert _login(new_device, "alice@example.com", PASSWORD).status_code == 200


def test_each_failure_doubles_the_wait_up_to_a_minute(client, alice, clock):
    """A patient attacker who waits every delay out: 1, 2, 4 ... 60 s, so about 60 guesses
    an hour on one account however many addresses, and never the 100 that would refuse
    every new device for the rest of the hour."""
    addresses = (TestClient(client.app, client=(f"203.0.113.{n}", 40000)) for n in range(1, 99))
    for _ in range(10):
        assert _login(next(addresses), "alice@example.com", WRONG["password"]).status_code == 401
    waits = []
    for _ in range(9):
        refused = _login(next(addresses), "alice@example.com", WRONG["password"])
        waits.append(int(refused.headers["Retry-After"]))
        clock.now += waits[-1]
        assert _login(next(addresses), "alice@example.com", WRONG["password"]).status_code == 401
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60, 60]


@examples(max_examples=200)
@given(
    failures=st.lists(st.floats(min_value=0, max_value=3000), max_size=40),
    later=st.floats(min_value=0, max_value=4000),
)
def test_the_wait_is_bounded_and_grows_with_the_failures(failures, later):
    limits = AuthLimits.build(None)
    start = 1_000_000.0
    for offset in sorted(failures):
        limits.account_failures.hit("k", start + offset)
    now = start + max(failures, default=0) + later
    wait = limits.failure_wait("k", now)
    assert 0 <= wait <= MAX_FAILURE_WAIT
    count, _ = limits.account_failures.recent("k", now)
    if count < FREE_FAILURES:
        assert wait == 0
    limits.account_failures.hit("k", now)  # one more failure never shortens the wait
    assert limits.failure_wait("k", now) >= wait


def test_the_device_cookie_is_httponly_strict_per_account_and_not_a_way_round(client, alice):
    answer = _login(client, "alice@example.com", PASSWORD)
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith("frameforge_device=")
    for attribute in ("HttpOnly", "Path=/api/v1/auth", "SameSite=strict", "Max-Age=31536000"):
        assert attribute.lower() in cookie.lower(), attribute
    assert "secure" not in cookie.lower()  # http://127.0.0.1 in development; https: Secure

    limits = client.app.state.auth_limits
    for _ in range(limits.account_failures.limit):
        limits.account_failures.hit("login-failures:alice@example.com")
    # another account's cookie, or a forged one, exempts nobody
    bob_device = TestClient(client.app, client=("198.51.100.80", 40000))
    bob_device.post(
        "/api/v1/auth/register", json={"email": "bob@example.com", "password": PASSWORD}
    )
    assert _login(bob_device, "bob@example.com", PASSWORD).status_code == 200
    assert problem(_login(bob_device, "alice@example.com", PASSWORD))[0] == 429
    forged = TestClient(client.app, client=("198.51.100.81", 40000))
    forged.cookies.set("frameforge_device", "not.a.token", path="/api/v1/auth")
    assert problem(_login(forged, "alice@example.com", PASSWORD))[0] == 429
    # a stolen cookie buys a few guesses (10 an hour), then exempts no more
    thief = _owner_device(client, "198.51.100.82")
    for _ in range(limits.device_failures.limit):
        assert _login(thief, "alice@example.com", WRONG["password"]).status_code == 401
    assert problem(_login(thief, "alice@example.com", PASSWORD))[0] == 429


def test_a_sign_up_flood_from_one_address_is_stopped(instance, storage, database_url):
    settings = Settings(JWT_SECRET="f" * 40, registrations_per_hour=3)
    client = TestClient(create_app(settings, instance, storage, database_url))
    for n in range(3):
        sign_up_on(client, f"user{n}@example.com")
    answer = client.post(
        "/api/v1/auth/register", json={"email": "user3@example.com", "password": PASSWORD}
    )
    assert problem(answer)[0] == 429
    assert problem(answer)[1].startswith("too many requests: 3 per 3600 s per address")
    other = TestClient(client.app, client=("198.51.100.8", 40000))
    body = {"email": "user3@example.com", "password": PASSWORD}
    assert other.post("/api/v1/auth/register", json=body).status_code == 201


def test_every_auth_request_counts_against_its_address(instance, storage, database_url):
    settings = Settings(JWT_SECRET="f" * 40, auth_requests_per_minute=5)
    client = TestClient(create_app(settings, instance, storage, database_url))
    refresh = {"refreshToken": "not a token"}
    for _ in range(5):
        assert client.post("/api/v1/auth/refresh", json=refresh).status_code == 401
    assert problem(client.post("/api/v1/auth/refresh", json=refresh))[0] == 429
    assert problem(_login(client, "a@example.com", PASSWORD))[0] == 429
