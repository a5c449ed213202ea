"""Request and response bodies. JSON is camelCase, as in the seed's API."""

from __future__ import annotations

import datetime as dt
import http
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AnyUrl,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    UrlConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from frameforge_api.core.guards import control_characters
from frameforge_api.core.passwords import weakness
from frameforge_pipeline.engine.options import ExtractOptions

MIN_PASSWORD = 10
MAX_PASSWORD_BYTES = 72  # bcrypt reads no further
MAX_SEQ = 2**31 - 1  # video_jobs.seq is a 32-bit integer (PostgreSQL refuses larger ones)
# type "/" subtype [; parameters], printable ASCII (RFC 9110): it goes back out in a header
MEDIA_TYPE = (
    r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,63}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,63}(\s*;[ -~]*)?$"
)


def _no_control_characters(text: str) -> str:
    """Free text (a file name, an id) goes to the database, headers, logs and emails: no
    NUL (PostgreSQL stores none), line breaks, other controls or bidi overrides."""
    if found := control_characters(text):
        raise ValueError(f"control characters are not allowed ({', '.join(sorted(set(found)))})")
    return text


FreeText = Annotated[str, AfterValidator(_no_control_characters)]


def _in_utc(moment: dt.datetime) -> dt.datetime:
    """A moment in UTC: an aware one converted (PostgreSQL answers in the session's zone),
    a naive one taken as UTC (SQLite keeps no zone; every time stored is UTC)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


Instant = Annotated[dt.datetime, AfterValidator(_in_utc)]
"""Every time the API returns: RFC 3339 in UTC, written with ``Z``."""


def seq_cursor(cursor: str) -> str:
    """A ``cursor`` query parameter (a ``nextCursor``): a job sequence number the database
    can hold. Raises ValueError otherwise."""
    if int(cursor) > MAX_SEQ:
        raise ValueError(f"not a cursor of this API (at most {MAX_SEQ})")
    return cursor


Cursor = Annotated[str, AfterValidator(seq_cursor)]


class Body(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class Credentials(Body):
    """A new account's email and password (register), which the password policy checks."""

    email: EmailStr = Field(max_length=254)
    password: str

    @field_validator("password")
    @classmethod
    def _policy(cls, password: str, info: ValidationInfo) -> str:
        if len(password) < MIN_PASSWORD:
            raise ValueError(f"use at least {MIN_PASSWORD} characters")
        if len(password.encode(errors="surrogatepass")) > MAX_PASSWORD_BYTES:
            raise ValueError(f"use at most {MAX_PASSWORD_BYTES} bytes")
        if password.isalpha() or password.isdigit():
            raise ValueError("mix letters with digits or symbols")
        if reason := weakness(password, info.data.get("email")):
            raise ValueError(reason)
        return password


class Login(Body):
    """An email and password to log in with: not held to the policy of new passwords, so
    an account made before a rule was added can still log in (a wrong one is a 401)."""

    email: EmailStr = Field(max_length=254)
    password: str

    @field_validator("password")
    @classmethod
    def _bcrypt_can_check(cls, password: str) -> str:
        return checkable_password(password)


def checkable_password(password: str) -> str:
    """A password bcrypt can compare (a login's, a confirmation's). Raises ValueError."""
    try:
        size = len(password.encode())
    except UnicodeEncodeError:  # a lone surrogate ("\ud800" in JSON): no UTF-8 for it
        raise ValueError("not valid text (a lone surrogate)") from None
    if size > MAX_PASSWORD_BYTES:  # no account has one; bcrypt refuses to compare it
        raise ValueError(f"use at most {MAX_PASSWORD_BYTES} bytes")
    return password


class AccountDeletion(Body):
    """The account's password again: a stolen access token alone cannot delete an account."""

    password: Annotated[str, AfterValidator(checkable_password)]


class UserOut(Body):
    id: str
    email: str
    created_at: Instant


class Tokens(Body):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class RefreshIn(Body):
    refresh_token: str = Field(max_length=4096)


class TokenInfo(Body):
    valid: Literal[True] = True
    user_id: str
    email: str
    email_verified: bool = Field(
        description="whether the owner followed the link mailed at registration: until "
        "then no email is sent to the address (webhooks still are)"
    )
    expires_at: Instant


class UploadUrlIn(Body):
    filename: FreeText = Field(min_length=1, max_length=255)
    content_type: str = Field(
        "application/octet-stream", max_length=100, pattern=MEDIA_TYPE, examples=["video/mp4"]
    )
    size_bytes: int | None = Field(None, ge=0, description="0 is refused: the file is empty")


class UploadUrlOut(Body):
    video_id: str
    upload_url: str
    method: Literal["PUT"] = "PUT"
    headers: dict[str, str]
    expires_at: Instant


class UploadedOut(Body):
    video_id: str
    size_bytes: int


CallbackUrl = Annotated[AnyUrl, UrlConstraints(max_length=2000, allowed_schemes=["https", "http"])]


class JobIn(Body):
    video_id: FreeText = Field(max_length=64)
    options: ExtractOptions = Field(default_factory=ExtractOptions)
    callback_url: CallbackUrl | None = Field(
        None, description="Called (POST, Standard Webhooks signature) when the job ends."
    )


class JobCreated(Body):
    job_id: str
    status: str
    webhook_secret: str | None = Field(
        None, description="Verifies the callback's signature (Standard Webhooks); kept secret."
    )


class VideoFactsOut(BaseModel):
    """What the run's probe found of the video (``null`` until its run has probed it, and
    for a fact the file does not give): camelCase as the rest of the API. The manifest in
    the ZIP keeps the engine's snake_case names (``coded_width``)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    container: str | None = Field(
        None, description="the container's short name: mp4, mov, webm, mkv, avi, …"
    )
    demuxer: str | None = Field(
        None, description="FFmpeg's, named after every format it reads", examples=["mov,mp4"]
    )
    codec: str | None = None
    width: int | None = Field(None, description="displayed, upright")
    height: int | None = None
    coded_width: int | None = Field(None, description="as stored, before rotation and aspect")
    coded_height: int | None = None
    rotation: int | None = Field(None, description="degrees clockwise to turn it upright")
    sample_aspect_ratio: str | None = Field(None, examples=["1", "4/3"])
    ignored_sample_aspect_ratio: str | None = Field(
        None, description="an implausible one the file declares, ignored (square pixels)"
    )
    fps: float | None = Field(None, description="the average frame rate")
    fps_exact: str | None = Field(None, examples=["30000/1001"])
    duration: float | None = Field(None, description="seconds")
    frame_count: int | None = Field(None, description="as the container declares it")
    pixel_format: str | None = None
    color_trc: str | None = Field(None, description="transfer characteristic: bt709, …")
    has_audio: bool | None = None
    size_bytes: int | None = None
    sha256: str | None = Field(None, description="of the file, as the frame index has it")

    @model_validator(mode="before")
    @classmethod
    def _demuxer_of_an_earlier_probe(cls, facts: Any) -> Any:
        """Facts probed before ``container`` was a short name held FFmpeg's demuxer there
        (``mov,mp4,m4a,3gp,3g2,mj2``, which cannot tell mp4 from mov): it is the demuxer."""
        if (
            isinstance(facts, dict)
            and "demuxer" not in facts
            and "," in str(facts.get("container"))
        ):
            return {**facts, "container": None, "demuxer": facts["container"]}
        return facts


class JobOut(Body):
    job_id: str
    video_id: str
    file_name: str = Field(description="the name of the uploaded file, as its user gave it")
    status: Literal["queued", "running", "completed", "failed", "cancelled"]
    progress: float = Field(
        description="0 to 1: the share of the run's work done, frames counted as they come; "
        "it only grows while a run goes on"
    )
    frame_count: int | None
    frames_done: int | None = Field(
        description="frames extracted so far (all of them once completed); null before "
        "extraction starts"
    )
    frames_expected: int | None = Field(
        description="frames the extraction will make; null when it cannot be known "
        "beforehand (scene mode finds its cuts as it goes)"
    )
    options: ExtractOptions
    video: VideoFactsOut
    error: str | None
    retryable: bool = Field(
        description="whether POST …/retry may run the job again: failed or cancelled, and "
        "not failed by its video (a rejected video fails the same way; upload another file)"
    )
    download_url: str | None
    download_expires_at: Instant | None
    results_expired_at: Instant | None = Field(
        None,
        description="when retention deleted the frames and ZIP (FRAMEFORGE_RETENTION_DAYS "
        "after the video's last job): downloadUrl is null and earlier links answer 410",
    )
    created_at: Instant
    started_at: Instant | None  # when its run's process started
    finished_at: Instant | None


class JobPage(Body):
    items: list[JobOut]
    next_cursor: str | None


class FieldError(BaseModel):
    field: str
    message: str


class ProblemOut(BaseModel):
    """Every error (RFC 9457, application/problem+json)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None  # on 422: one per rejected field


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the problem documents a route can answer with."""
    return {
        status: {
            "model": ProblemOut,
            "content": {"application/problem+json": {}},
            "description": http.HTTPStatus(status).phrase,
        }
        for status in statuses
    }
