"""/docs and /redoc are served with their own files, from this app: no CDN (they work
offline), and a CSP without inline script other than the page's own (by its hash). The
pages themselves are drawn in Chromium by tests/browser/test_api_docs.py."""

import re

import pytest

from frameforge_api.api.routes.docs import ASSETS_PATH, docs_csp


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_the_docs_pages_load_nothing_from_elsewhere(client, path):
    page = client.get(path)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    sources = re.findall(r'(?:src|href|spec-url)="([^"]+)"', page.text) + re.findall(
        r"url: '([^']+)'", page.text
    )
    assert sources
    assert all(source.startswith("/") for source in sources), sources  # this origin only
    for source in sources:
        assert client.get(source).status_code == 200, source
    csp = page.headers["content-security-policy"]
    assert csp == docs_csp(page.text)
    script_src = next(d for d in csp.split("; ") if d.startswith("script-src"))
    assert "unsafe-inline" not in script_src
    assert "unsafe-eval" not in script_src
    assert "http" not in csp  # no other origin


def test_only_the_files_of_the_docs_pages_are_served(client):
    script = client.get(f"{ASSETS_PATH}/swagger-ui-bundle.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert "max-age" in script.headers["cache-control"]
    assert client.get(f"{ASSETS_PATH}/__init__.py").status_code == 404
    assert client.get(f"{ASSETS_PATH}/..%2Fcore.py").status_code == 404
