"""Request and response bodies. JSON is camelCase, as in the seed's API."""

from __future__ import annotations

import datetime as dt
import http
from typing import Annotated, Any, Literal

from pydantic import (
    AnyUrl,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    UrlConstraints,
    field_validator,
)
from pydantic.alias_generators import to_camel

from frameforge_pipeline.engine import ExtractOptions

MIN_PASSWORD = 10
MAX_PASSWORD_BYTES = 72  # bcrypt reads no further


class Body(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class Credentials(Body):
    email: EmailStr = Field(max_length=254)
    password: str

    @field_validator("password")
    @classmethod
    def _policy(cls, password: str) -> str:
        if len(password) < MIN_PASSWORD:
            raise ValueError(f"use at least {MIN_PASSWORD} characters")
        if len(password.encode()) > MAX_PASSWORD_BYTES:
            raise ValueError(f"use at most {MAX_PASSWORD_BYTES} bytes")
        if password.isalpha() or password.isdigit():
            raise ValueError("mix letters with digits or symbols")
        return password


class UserOut(Body):
    id: str
    email: str
    created_at: dt.datetime


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
    expires_at: dt.datetime


class UploadUrlIn(Body):
    filename: str = Field(min_length=1, max_length=255)
    content_type: str = Field("application/octet-stream", max_length=100)
    size_bytes: int | None = Field(None, gt=0)


class UploadUrlOut(Body):
    video_id: str
    upload_url: str
    method: Literal["PUT"] = "PUT"
    headers: dict[str, str]
    expires_at: dt.datetime


class UploadedOut(Body):
    video_id: str
    size_bytes: int


CallbackUrl = Annotated[AnyUrl, UrlConstraints(max_length=2000, allowed_schemes=["https", "http"])]


class JobIn(Body):
    video_id: str = Field(max_length=64)
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


class JobOut(Body):
    job_id: str
    video_id: str
    status: Literal["queued", "running", "completed", "failed", "cancelled"]
    progress: float
    frame_count: int | None
    options: ExtractOptions
    video: dict[str, Any]
    error: str | None
    download_url: str | None
    download_expires_at: dt.datetime | None
    created_at: dt.datetime
    started_at: dt.datetime | None  # when its run's process started
    finished_at: dt.datetime | None


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
