"""The API reference pages, ``/docs`` (Swagger UI) and ``/redoc``, as FastAPI documents
self-hosting them: its own page builders, with the scripts and styles that the
``fastapi-offline`` package ships (Swagger UI and ReDoc, kept current there) served from
this app, so the pages work without the internet. Each page's CSP allows this origin only
and, of inline script, only the page's own (by its hash): no CDN, no ``unsafe-inline``
script, no ``eval``."""

from __future__ import annotations

import base64
import functools
import hashlib
import re
from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse

from frameforge_core.errors import NotFound

router = APIRouter(include_in_schema=False)

ASSETS_DIR = Path(fastapi_offline.__file__).parent / "static"
ASSETS_PATH = "/docs/assets"
ASSETS = {  # the files the pages ask for, by name (nothing else of that folder is served)
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "redoc.standalone.js": "text/javascript; charset=utf-8",
    "favicon.png": "image/png",
}
# Styles may be inline: both UIs set style attributes, and ReDoc writes its style sheet
# at run time. ReDoc's search runs in a worker made from a blob.
DOCS_CSP = (
    "default-src 'none'; script-src 'self'{hashes}; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
    "form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
)
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)
ASSET_MAX_AGE = 86_400  # the files change with the package only


def docs_csp(page: str) -> str:
    """The CSP of a docs page: its inline scripts allowed by their sha256, nothing else."""
    hashes = "".join(
        f" 'sha256-{base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()}'"
        for script in _INLINE_SCRIPT.findall(page)
    )
    return DOCS_CSP.format(hashes=hashes)


@functools.cache
def _swagger(root: str, openapi_url: str, title: str) -> str:
    page = get_swagger_ui_html(
        openapi_url=root + openapi_url,
        title=f"{title} - Swagger UI",
        swagger_js_url=f"{root}{ASSETS_PATH}/swagger-ui-bundle.js",
        swagger_css_url=f"{root}{ASSETS_PATH}/swagger-ui.css",
        swagger_favicon_url=f"{root}{ASSETS_PATH}/favicon.png",
    )
    return bytes(page.body).decode()


@functools.cache
def _redoc(root: str, openapi_url: str, title: str) -> str:
    page = get_redoc_html(
        openapi_url=root + openapi_url,
        title=f"{title} - ReDoc",
        redoc_js_url=f"{root}{ASSETS_PATH}/redoc.standalone.js",
        redoc_favicon_url=f"{root}{ASSETS_PATH}/favicon.png",
        with_google_fonts=False,
    )
    return bytes(page.body).decode()


def _served(page: str) -> HTMLResponse:
    return HTMLResponse(page, headers={"Content-Security-Policy": docs_csp(page)})


def _root(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/")


@router.get("/docs")
def swagger_ui(request: Request) -> HTMLResponse:
    """Swagger UI: every operation, tried out from the page."""
    return _served(_swagger(_root(request), request.app.openapi_url, request.app.title))


@router.get("/redoc")
def redoc(request: Request) -> HTMLResponse:
    """ReDoc: the same document, to read."""
    return _served(_redoc(_root(request), request.app.openapi_url, request.app.title))


@router.get(ASSETS_PATH + "/{name}")
def asset(name: str) -> FileResponse:
    """A script, style sheet or icon of the docs pages; 404 for any other name."""
    if name not in ASSETS:
        raise NotFound("no such file")
    return FileResponse(
        ASSETS_DIR / name,
        media_type=ASSETS[name],
        headers={"Cache-Control": f"public, max-age={ASSET_MAX_AGE}"},
    )
