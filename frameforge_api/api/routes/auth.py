import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Cookie, Query, Request, Response, status
from fastapi.responses import RedirectResponse

from frameforge_api.api.deps import (
    AuthLimitsDep,
    ClientAddress,
    CurrentUser,
    InstanceDep,
    SessionDep,
    SettingsDep,
    StorageDep,
    TokenClaims,
    enforce,
)
from frameforge_api.api.schemas import (
    AccountDeletion,
    Credentials,
    Login,
    RefreshIn,
    TokenInfo,
    Tokens,
    UserOut,
)
from frameforge_api.core import devices, metrics
from frameforge_api.services import accounts, deletion, verification
from frameforge_core.errors import NotAuthenticated, RateLimited

router = APIRouter(prefix="/auth", tags=["auth"])


def _tokens(pair: accounts.TokenPair) -> Tokens:
    return Tokens(
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        expires_in=pair.expires_in,
    )


@router.post("/register", status_code=status.HTTP_201_CREATED, response_model=UserOut)
def register(
    body: Credentials,
    session: SessionDep,
    settings: SettingsDep,
    limits: AuthLimitsDep,
    address: ClientAddress,
) -> UserOut:
    """Create an account, and mail its address a link to confirm it (valid 2 days): no
    other email goes to the address until it is followed. 409 when the email is taken;
    429 past the accounts one address may make."""
    enforce(limits.registrations, f"register:{address}", "per address")
    with metrics.counted(metrics.AUTH_REGISTRATIONS):
        user = accounts.register(session, body.email, body.password, settings)
    return UserOut(id=user.id, email=user.email, created_at=user.created_at)


@router.get(
    "/verify-email",
    status_code=status.HTTP_303_SEE_OTHER,
    response_class=RedirectResponse,
    responses={
        303: {
            "description": "On to the page: /#email-verified, or, for a browser following a "
            "forged or expired link, /#email-link-refused"
        }
    },
)
def verify_email(
    token: Annotated[str, Query(max_length=4096)],
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    _: AuthLimitsDep,
) -> RedirectResponse:
    """The link mailed at registration: confirms the address (following it again changes
    nothing) and sends the browser on to the page. A forged or expired link sends a browser
    (``Accept: text/html``) to the page too, which says so and offers a new link; any other
    client gets 401."""
    page = settings.public_url.rstrip("/")
    try:
        verification.verify(session, token, settings, dt.datetime.now(dt.UTC))
    except NotAuthenticated:
        if "text/html" not in request.headers.get("accept", ""):
            raise
        return RedirectResponse(f"{page}/#email-link-refused", status.HTTP_303_SEE_OTHER)
    return RedirectResponse(f"{page}/#email-verified", status_code=status.HTTP_303_SEE_OTHER)


@router.post(
    "/verification",
    status_code=status.HTTP_202_ACCEPTED,
    response_class=Response,
    responses={204: {"description": "The address is confirmed already: nothing is sent"}},
)
def resend_verification(
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    limits: AuthLimitsDep,
) -> Response:
    """Mail a new confirmation link to your address (202), unless it is confirmed already
    (204). 429 past 5 an hour."""
    if user.email_verified_at is not None:
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    enforce(limits.verification_mails, f"verify:{user.id}", "per account")
    verification.request(session, user, settings, dt.datetime.now(dt.UTC))
    session.commit()
    return Response(status_code=status.HTTP_202_ACCEPTED)


@router.post("/login", response_model=Tokens)
def login(
    body: Login,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    limits: AuthLimitsDep,
    address: ClientAddress,
    device_cookie: Annotated[str | None, Cookie(alias=devices.COOKIE)] = None,
) -> Tokens:
    """Access token (1 h) and refresh token, and a device cookie (``frameforge_device``,
    HttpOnly) that exempts this client from the account's limit on failed logins next time.
    401, in the same time, for any wrong credential; 429 past the attempts on one account
    from this address, and, for a client without a device cookie of the account, while the
    account's failed logins (from anywhere) ask it to wait (1 s doubling to 60 s after 10)
    or past 100 an hour: the owner is never locked out of a device they signed in from
    before, whatever its address."""
    account = body.email.lower()
    enforce(limits.logins, f"login:{account}|{address}", "per account and address")
    device = devices.nonce_for(device_cookie, account, settings)
    if device is not None and not limits.device_failures.check(f"device:{device}").allowed:
        device = None  # failing too often with it: it exempts its holder no more
    if device is None:
        enforce(limits.account_failures, f"login-failures:{account}",
                UNKNOWN_DEVICES, record=False)  # fmt: skip
        wait = limits.failure_wait(f"login-failures:{account}")
        if wait:
            metrics.RATE_LIMIT_EXCEEDED.inc()
            raise RateLimited(
                f"too many failed logins on this account: the next try from a device that "
                f"never signed in to it in {wait} s (a device you signed in from before "
                "does not wait)",
                wait,
            )
    try:
        with metrics.counted(metrics.AUTH_LOGINS):
            user = accounts.authenticate(session, body.email, body.password)
    except NotAuthenticated:
        limits.account_failures.hit(f"login-failures:{account}")
        if device is not None:
            limits.device_failures.hit(f"device:{device}")
        raise
    now = dt.datetime.now(dt.UTC)
    devices.issue(response, account, settings, now)
    return _tokens(accounts.issue_tokens(session, user.id, settings, now))


UNKNOWN_DEVICES = (
    "per account, counting failed logins, from devices that never signed in to it "
    "(a device you signed in from before is not held to it)"
)


@router.post("/refresh", response_model=Tokens)
def refresh(
    body: RefreshIn, session: SessionDep, settings: SettingsDep, _: AuthLimitsDep
) -> Tokens:
    """A new pair for a refresh token, which is then spent. Reuse revokes the whole chain."""
    return _tokens(accounts.rotate(session, body.refresh_token, settings, dt.datetime.now(dt.UTC)))


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
def logout(
    body: RefreshIn, session: SessionDep, settings: SettingsDep, _: AuthLimitsDep
) -> Response:
    """Sign out: the refresh token, and every one this login traded it for, is revoked
    (a refresh with it is then 401), and so is every access token of this login, at once
    (401 "invalid or expired access token", as for an expired one); your other logins go on.
    401 for a token the API did not sign; signing out twice is 204."""
    accounts.sign_out(session, body.refresh_token, settings, dt.datetime.now(dt.UTC))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/validate", response_model=TokenInfo)
def validate(user: CurrentUser, claims: TokenClaims) -> TokenInfo:
    """Who the bearer token belongs to and when it expires. 401 when it is not valid."""
    expires_at = dt.datetime.fromtimestamp(claims["exp"], dt.UTC)
    return TokenInfo(
        user_id=user.id,
        email=user.email,
        email_verified=user.email_verified_at is not None,
        expires_at=expires_at,
    )


@router.delete("/me", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
def delete_account(
    body: AccountDeletion,
    user: CurrentUser,
    session: SessionDep,
    instance: InstanceDep,
    storage: StorageDep,
    limits: AuthLimitsDep,
    address: ClientAddress,
) -> Response:
    """Delete your account for good, with your password: every video, job and result of
    yours goes (live jobs are cancelled) and your tokens stop working. 401 for a wrong
    password (counted like a login attempt)."""
    enforce(limits.logins, f"login:{user.email}|{address}", "per account and address")
    accounts.authenticate(session, user.email, body.password)
    deletion.delete_account(session, instance, storage, user)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
