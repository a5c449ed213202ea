import datetime as dt

import jwt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from frameforge_api.core.security import (
    InvalidToken,
    create_token,
    decode_token,
    hash_password,
    verify_password,
)
from frameforge_api.services import verification
from frameforge_core import messaging
from frameforge_core.models import OutboxMessage
from tests.api.conftest import PASSWORD, problem

KEY = "k" * 40
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def test_register_then_login(client):
    body = {"email": "Carol@Example.com", "password": PASSWORD}
    created = client.post("/api/v1/auth/register", json=body)
    assert created.status_code == 201
    assert created.json()["email"] == "carol@example.com"
    assert "password" not in created.text

    tokens = client.post("/api/v1/auth/login", json=body).json()
    assert tokens["tokenType"] == "bearer"
    assert tokens["expiresIn"] == 3600
    claims = jwt.decode(tokens["accessToken"], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 3600


def test_duplicate_email_is_409_whatever_the_case(client, alice):
    answer = client.post(
        "/api/v1/auth/register", json={"email": "ALICE@example.com", "password": PASSWORD}
    )
    assert problem(answer) == (409, "an account with this email already exists")


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"email": "not-an-email", "password": PASSWORD}, "email: value is not a valid email"),
        ({"email": "d@example.com", "password": "short1"}, "password: use at least 10 characters"),
        ({"email": "d@example.com", "password": "onlyletters"}, "password: mix letters with"),
        ({"email": "d@example.com", "password": "x1" * 40}, "password: use at most 72 bytes"),
        ({"email": "d@example.com"}, "password: Field required"),
        ({"email": "d@example.com", "password": PASSWORD, "admin": True}, "admin: Extra inputs"),
    ],
)
def test_registration_rules(client, body, detail):
    status, message = problem(client.post("/api/v1/auth/register", json=body))
    assert status == 422
    assert message.startswith(detail)


BLANK = "password: use more than blank characters"
CONTROL = "password: do not use control characters"
EMAIL = "password: do not use your email address"
COMMON = "password: this password is among the most common ones"


@pytest.mark.parametrize(
    ("email", "password", "detail"),
    [
        ("d@example.com", " " * 10, BLANK),
        ("d@example.com", "\t \u3000" * 4, BLANK),
        ("d@example.com", "\x00" * 10, CONTROL),
        ("d@example.com", "good pass 1\n", CONTROL),
        ("d@example.com", "good\x1bpass 1", CONTROL),
        ("dora@example.com", "dora@example.com", EMAIL),
        ("dora@example.com", "DORA@Example.com!", EMAIL),
        ("dorothy@example.com", "dorothy12345", EMAIL),
        ("dora.smith@example.com", "I am dora.smith 1", EMAIL),
        ("d@example.com", "password123", COMMON),
        ("d@example.com", "Password123", COMMON),
        ("d@example.com", "qwerty 12345", COMMON),
        ("d@example.com", "1q2w3e4r5t", COMMON),
    ],
)
def test_weak_passwords_are_refused(client, email, password, detail):
    answer = client.post("/api/v1/auth/register", json={"email": email, "password": password})
    status, message = problem(answer)
    assert status == 422
    assert message.startswith(detail), message


@pytest.mark.parametrize("password", ["d is for dog 7", "a long pass 1", "Føtball 2024!"])
def test_ordinary_passwords_pass(client, password):
    answer = client.post("/api/v1/auth/register", json={"email": "d@x.io", "password": password})
    assert answer.status_code == 201, answer.json()


def test_login_is_not_held_to_the_policy_of_new_passwords(client, alice):
    """A password the policy now refuses is a wrong password at login (401, like any
    other), not a 422 that tells the caller which rule it breaks."""
    for password in ("password123", "\x00" * 10, "short"):
        answer = client.post(
            "/api/v1/auth/login", json={"email": "alice@example.com", "password": password}
        )
        assert problem(answer) == (401, "invalid email or password")
    too_long = {"email": "alice@example.com", "password": "x" * 73}
    assert problem(client.post("/api/v1/auth/login", json=too_long))[0] == 422


def test_malformed_json_is_422_problem(client):
    answer = client.post(
        "/api/v1/auth/register", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert problem(answer)[0] == 422


def test_wrong_password_and_unknown_email_look_the_same(client, alice):
    wrong = client.post(
        "/api/v1/auth/login", json={"email": "alice@example.com", "password": "wrong pass 1"}
    )
    unknown = client.post(
        "/api/v1/auth/login", json={"email": "nobody@example.com", "password": PASSWORD}
    )
    assert problem(wrong) == problem(unknown) == (401, "invalid email or password")


def test_validate(client, alice):
    info = client.post("/api/v1/auth/validate", headers=alice).json()
    assert info["email"] == "alice@example.com"
    assert info["valid"] is True


@pytest.mark.parametrize(
    "header",
    [
        {},
        {"Authorization": "Bearer nonsense"},
        {"Authorization": "Basic YWxpY2U6cGFzcw=="},
    ],
)
def test_validate_rejects_bad_tokens_with_401(client, header):
    answer = client.post("/api/v1/auth/validate", headers=header)
    assert problem(answer)[0] == 401
    assert answer.headers["www-authenticate"] == "Bearer"


def test_refresh_rotates_and_reuse_revokes_the_family(client, alice):
    body = {"email": "alice@example.com", "password": PASSWORD}
    first = client.post("/api/v1/auth/login", json=body).json()["refreshToken"]
    second = client.post("/api/v1/auth/refresh", json={"refreshToken": first})
    assert second.status_code == 200
    newer = second.json()["refreshToken"]
    replay = client.post("/api/v1/auth/refresh", json={"refreshToken": first})
    assert problem(replay) == (401, "invalid or expired refresh token")
    # the thief replayed a spent token: the legitimate holder's newer token dies too
    assert client.post("/api/v1/auth/refresh", json={"refreshToken": newer}).status_code == 401


def test_signing_out_revokes_the_refresh_token_and_its_login_only(client, alice):
    body = {"email": "alice@example.com", "password": PASSWORD}
    here = client.post("/api/v1/auth/login", json=body).json()["refreshToken"]
    elsewhere = client.post("/api/v1/auth/login", json=body).json()["refreshToken"]
    traded = client.post("/api/v1/auth/refresh", json={"refreshToken": here}).json()

    out = client.post("/api/v1/auth/logout", json={"refreshToken": traded["refreshToken"]})
    assert out.status_code == 204
    assert out.content == b""
    again = client.post("/api/v1/auth/refresh", json={"refreshToken": traded["refreshToken"]})
    assert problem(again) == (401, "invalid or expired refresh token")
    # signing out twice is fine; the other device's login is untouched
    assert client.post("/api/v1/auth/logout", json={"refreshToken": here}).status_code == 204
    assert client.post("/api/v1/auth/refresh", json={"refreshToken": elsewhere}).status_code == 200


def _bearer(tokens: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['accessToken']}"}


def _reads(client, header: dict[str, str]) -> list[tuple[int, str]]:
    """What three routes that read the caller's row their own ways answer ``header``."""
    answers = [
        client.get("/api/v1/videos/jobs", headers=header),  # get_current_user
        client.get("/api/v1/videos/jobs/no-such-job", headers=header),  # jobs.owned
        client.post("/api/v1/auth/validate", headers=header),
    ]
    return [(a.status_code, a.json().get("detail", "")) for a in answers]


SIGNED_OUT = [(401, "invalid or expired access token")] * 3
SIGNED_IN = [(200, ""), (404, "no such job"), (200, "")]


def test_signing_out_ends_the_logins_access_tokens_at_once(client, alice, bob):
    body = {"email": "alice@example.com", "password": PASSWORD}
    here = client.post("/api/v1/auth/login", json=body).json()
    elsewhere = client.post("/api/v1/auth/login", json=body).json()
    traded = client.post("/api/v1/auth/refresh", json={"refreshToken": here["refreshToken"]})
    assert _reads(client, _bearer(here)) == SIGNED_IN

    out = client.post("/api/v1/auth/logout", json={"refreshToken": traded.json()["refreshToken"]})
    assert out.status_code == 204
    # every access token of the login, the one traded for too, is refused as an expired one
    assert _reads(client, _bearer(here)) == SIGNED_OUT
    assert _reads(client, _bearer(traded.json())) == SIGNED_OUT
    # the same user's other login, and another user, go on as before
    assert _reads(client, _bearer(elsewhere)) == SIGNED_IN
    assert _reads(client, alice) == SIGNED_IN
    assert _reads(client, bob) == SIGNED_IN


def test_a_replayed_refresh_token_ends_its_logins_access_tokens(client, alice):
    body = {"email": "alice@example.com", "password": PASSWORD}
    first = client.post("/api/v1/auth/login", json=body).json()
    newer = client.post("/api/v1/auth/refresh", json={"refreshToken": first["refreshToken"]})
    client.post("/api/v1/auth/refresh", json={"refreshToken": first["refreshToken"]})  # replay
    assert _reads(client, _bearer(newer.json())) == SIGNED_OUT
    assert _reads(client, alice) == SIGNED_IN


def test_an_access_token_made_before_tokens_named_their_login_lasts_its_hour(client, alice):
    """Tokens issued before access tokens carried ``sid`` cannot be tied to a login: they
    are accepted until they expire (at most 1 h after the upgrade)."""
    user_id = client.post("/api/v1/auth/validate", headers=alice).json()["userId"]
    key = client.app.state.settings.signing_key
    old = create_token(user_id, "access", key, dt.timedelta(hours=1), dt.datetime.now(dt.UTC))
    assert "sid" not in decode_token(old, "access", key)
    assert _reads(client, {"Authorization": f"Bearer {old}"}) == SIGNED_IN


def test_an_access_token_names_its_login(client, alice):
    body = {"email": "alice@example.com", "password": PASSWORD}
    first = client.post("/api/v1/auth/login", json=body).json()
    traded = client.post("/api/v1/auth/refresh", json={"refreshToken": first["refreshToken"]})
    key = client.app.state.settings.signing_key
    login = decode_token(first["accessToken"], "access", key)["sid"]
    assert decode_token(traded.json()["accessToken"], "access", key)["sid"] == login
    other = client.post("/api/v1/auth/login", json=body).json()
    assert decode_token(other["accessToken"], "access", key)["sid"] != login


@pytest.mark.parametrize("token", ["not a token", "x" * 4096])
def test_signing_out_with_a_token_the_api_did_not_sign_is_401(client, token):
    answer = client.post("/api/v1/auth/logout", json={"refreshToken": token})
    assert problem(answer) == (401, "invalid or expired refresh token")
    assert problem(client.post("/api/v1/auth/logout", json={}))[0] == 422


def test_an_access_token_is_not_a_refresh_token(client, alice):
    access = alice["Authorization"].removeprefix("Bearer ")
    answer = client.post("/api/v1/auth/refresh", json={"refreshToken": access})
    assert problem(answer)[0] == 401


# Token rules, as properties.

subjects = st.text(min_size=1, max_size=40)


@given(subjects, st.integers(min_value=1, max_value=10**6), st.none() | st.uuids())
def test_token_round_trip(subject, seconds, login):
    now = dt.datetime.now(dt.UTC)
    extra = {} if login is None else {"sid": str(login)}
    token = create_token(subject, "access", KEY, dt.timedelta(seconds=seconds), now, **extra)
    claims = decode_token(token, "access", KEY)
    assert claims["sub"] == subject
    assert claims.get("sid") == extra.get("sid")


@given(subjects, st.data())
def test_any_tampered_token_is_rejected(subject, data):
    token = create_token(subject, "access", KEY, dt.timedelta(hours=1), dt.datetime.now(dt.UTC))
    position = data.draw(st.integers(0, len(token) - 1))
    replacement = data.draw(st.sampled_from("ABCDEFabcdef0123456789-_"))
    tampered = token[:position] + replacement + token[position + 1 :]
    if tampered != token:
        with pytest.raises(InvalidToken):
            decode_token(tampered, "access", KEY)


@given(subjects)
def test_expired_tokens_are_rejected(subject):
    token = create_token(subject, "access", KEY, dt.timedelta(hours=1), NOW)
    with pytest.raises(InvalidToken):
        decode_token(token, "access", KEY)


@given(subjects)
def test_alg_none_and_other_keys_are_rejected(subject):
    claims = {"sub": subject, "type": "access", "iat": NOW, "exp": NOW + dt.timedelta(days=3650)}
    unsigned = jwt.encode(claims, key=None, algorithm="none")
    with pytest.raises(InvalidToken):
        decode_token(unsigned, "access", KEY)
    with pytest.raises(InvalidToken):
        decode_token(jwt.encode(claims, "another-key" * 4, algorithm="HS256"), "access", KEY)


@settings(max_examples=5)  # bcrypt at cost 12 is slow on purpose
@given(st.text(min_size=1, max_size=30))
def test_password_hashes_never_repeat_and_verify(password):
    first, second = hash_password(password), hash_password(password)
    assert first != second
    assert first.startswith("$2b$12$")
    assert verify_password(password, first)
    assert not verify_password(password + "x", first)


def test_concurrent_use_of_one_refresh_token_has_one_winner(client, alice):
    from concurrent.futures import ThreadPoolExecutor

    body = {"email": "alice@example.com", "password": PASSWORD}
    token = client.post("/api/v1/auth/login", json=body).json()["refreshToken"]
    with ThreadPoolExecutor(4) as pool:
        codes = list(
            pool.map(
                lambda _: (
                    client.post("/api/v1/auth/refresh", json={"refreshToken": token}).status_code
                ),
                range(4),
            )
        )
    assert sorted(codes) == [200, 401, 401, 401]


def _verification_mails(client) -> list[str]:
    """The bodies of the verification mails waiting in the outbox for the worker."""
    with client.app.state.sessions() as session:
        return list(
            session.scalars(
                select(OutboxMessage.body).where(
                    OutboxMessage.routing_key == messaging.VERIFICATION_MAIL
                )
            )
        )


def test_registering_leaves_the_verification_mail_to_the_worker(client):
    body = {"email": "new@example.com", "password": PASSWORD}
    user_id = client.post("/api/v1/auth/register", json=body).json()["id"]
    [mail] = [
        messaging.VerificationMail.from_bytes(b.encode()) for b in _verification_mails(client)
    ]
    assert mail.user_id == user_id
    assert mail.link.startswith(f"{client.app.state.settings.public_url}/api/v1/auth/verify-email?")
    # a taken email makes no user, and so no mail
    assert client.post("/api/v1/auth/register", json=body).status_code == 409
    tokens = client.post("/api/v1/auth/login", json=body).json()
    header = {"Authorization": f"Bearer {tokens['accessToken']}"}
    assert client.post("/api/v1/auth/verification", headers=header).status_code == 202
    assert len(_verification_mails(client)) == 2


BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.parametrize("token", ["x.y.z", "not-a-token"])
def test_a_bad_confirmation_link_sends_a_browser_to_the_page_and_tells_clients_401(client, token):
    path = f"/api/v1/auth/verify-email?token={token}"
    landed = client.get(path, headers={"Accept": BROWSER_ACCEPT}, follow_redirects=False)
    assert landed.status_code == 303  # the page says the link failed and offers a new one
    page = client.app.state.settings.public_url.rstrip("/")
    assert landed.headers["location"] == f"{page}/#email-link-refused"
    for accept in ("application/json", "*/*"):
        answer = client.get(path, headers={"Accept": accept}, follow_redirects=False)
        assert problem(answer) == (401, verification.REFUSED)
