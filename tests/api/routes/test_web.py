"""The page at ``/`` and its two files; what it does in a browser is tests/browser/."""

import re

from frameforge_api.api.routes.web import page_csp
from frameforge_api.main import SECURITY_HEADERS
from tests.api.conftest import problem


def test_the_page_is_served_with_a_csp_that_allows_no_inline_script(client):
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    policy = page.headers["content-security-policy"]
    assert "script-src 'self';" in policy
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy
    for name in ("X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy"):
        assert page.headers[name] == SECURITY_HEADERS[name]
    # every script and style sheet is a file of ours, none inline
    assert re.findall(r'<script[^>]*src="([^"]+)"', page.text) == ["/web/app.js"]
    assert "<script>" not in page.text
    assert "<style" not in page.text
    assert " style=" not in page.text


def test_the_script_and_style_sheet_are_served_and_nothing_else(client):
    script = client.get("/web/app.js")
    assert script.status_code == 200
    assert script.headers["content-type"] == "text/javascript; charset=utf-8"
    assert "XMLHttpRequest" in script.text  # the upload, with its progress
    for unsafe in ("innerHTML", "outerHTML", "eval(", "new Function", "localStorage"):
        assert unsafe not in script.text  # text goes in as text; tokens stay in this tab
    assert client.get("/web/style.css").headers["content-type"] == "text/css; charset=utf-8"
    for name in ("index.html", "../main.py", "nope.js"):
        assert problem(client.get(f"/web/{name}"))[0] == 404


def test_the_page_is_not_part_of_the_api_document(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert "/" not in paths
    assert not any(path.startswith("/web") for path in paths)


def test_with_s3_the_page_may_send_uploads_and_show_sheets_from_the_buckets(s3_store, storage):
    def sources(store, directive):
        policy = page_csp("https://frames.example.com", store)
        return re.search(rf"{directive} ([^;]+);", policy)[1]

    assert sources(storage, "connect-src") == "'self' https://frames.example.com"
    assert sources(storage, "img-src") == "'self' https://frames.example.com data:"
    uploads = re.match(r"https?://[^/]+", s3_store.presigned_url("PUT", "uploads/x/y", 60))[0]
    results = re.match(r"https?://[^/]+", s3_store.presigned_url("GET", "results/x", 60))[0]
    assert sources(s3_store, "connect-src") == f"'self' https://frames.example.com {uploads}"
    assert sources(s3_store, "img-src") == f"'self' https://frames.example.com data: {results}"
