"""Brute force and sign-up floods: the auth endpoints' limits per address and per account."""

from fastapi.testclient import TestClient

from frameforge_api.core.config import Settings
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
    for _ in range(limits.account_logins.limit):  # as many addresses as attempts
        limits.account_logins.hit("login:alice@example.com")
    _login(client, "alice@example.com", PASSWORD)
    status, detail = problem(_login(client, "alice@example.com", PASSWORD))
    assert (status, detail.split(";")[0]) == (429, "too many requests: 100 per 3600 s per account")


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
