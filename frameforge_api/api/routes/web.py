"""The page for users at ``/``: plain HTML, CSS and JavaScript shipped in the package
(``frameforge_api/web/``), no build step, no CDN. It calls the same API as every client."""

from __future__ import annotations

import functools
from importlib import resources
from urllib.parse import urlsplit

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from frameforge_api.api.deps import SettingsDep, StorageDep
from frameforge_core import layout
from frameforge_core.errors import NotFound
from frameforge_pipeline.resources import FrameStore

router = APIRouter(include_in_schema=False)

# the page's own files, by the name it asks for them (nothing else under web/ is served)
ASSETS = {"app.js": "text/javascript; charset=utf-8", "style.css": "text/css; charset=utf-8"}
# scripts and styles from this origin only, as files: no inline script, no eval
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src {images}; "
    "connect-src {connect}; form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
)


@functools.cache
def _read(name: str) -> bytes:
    return (resources.files("frameforge_api") / "web" / name).read_bytes()


def page_csp(public_url: str, storage: FrameStore) -> str:
    """The page's CSP. It talks to this origin and to the API's public address, where signed
    upload, download and storyboard-sheet URLs point; with S3 also to the bucket that
    presigned uploads go to, and shows sheets from the bucket that sheet URLs redirect to."""
    api = ["'self'", _origin(public_url)]
    # presigning is local arithmetic: no request leaves
    upload = storage.presigned_url("PUT", layout.upload_prefix("csp") + "probe", 60)
    result = storage.presigned_url("GET", "csp/probe", 60)
    connect = [*api, *([_origin(upload)] if upload else [])]
    images = [*api, "data:", *([_origin(result)] if result else [])]
    return PAGE_CSP.format(images=_sources(images), connect=_sources(connect))


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _sources(origins: list[str]) -> str:
    return " ".join(dict.fromkeys(origins))  # once each, in order


@router.get("/", response_class=HTMLResponse)
def index(settings: SettingsDep, storage: StorageDep) -> HTMLResponse:
    """The page: sign in, upload, watch the job, preview its storyboard, download the ZIP."""
    return HTMLResponse(
        _read("index.html"),
        headers={"Content-Security-Policy": page_csp(settings.public_url, storage)},
    )


@router.get("/web/{name}")
def asset(name: str) -> Response:
    """The page's script and style sheet; 404 for any other name."""
    if name not in ASSETS:
        raise NotFound("no such file")
    return Response(_read(name), media_type=ASSETS[name])
