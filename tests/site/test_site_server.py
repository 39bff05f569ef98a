"""The local site host over real HTTP(S) on 127.0.0.1."""

from __future__ import annotations

import http.client
import json
import os
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import trustme

from aikinklab_ops.site.example import example_site
from aikinklab_ops.site.server import SiteServer, folder

VERCEL = {
    "cleanUrls": True,
    "headers": [
        {"source": "/(.*)", "headers": [{"key": "X-Frame-Options", "value": "DENY"}]},
        {"source": "/(.*)", "headers": [{"key": "Set-Cookie", "value": "a=1; Secure"}]},
        {"source": "/(.*)", "headers": [{"key": "Set-Cookie", "value": "b=2; Secure"}]},
    ],
    "redirects": [
        {"source": "/old", "destination": "/about"},
        {"source": "/tmp", "destination": "/about", "permanent": False},
    ],
    "rewrites": [{"source": "/api/health", "destination": "/api/health.json"}],
}


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "deploy"
    (root / "api").mkdir(parents=True)
    (root / "index.html").write_text("<h1>home</h1>", encoding="utf-8")
    (root / "about.html").write_text("<h1>about</h1>", encoding="utf-8")
    (root / "api" / "health.json").write_text('{"status": "ok"}', encoding="utf-8")
    (root / "vercel.json").write_text(json.dumps(VERCEL), encoding="utf-8")
    (tmp_path / "secret.txt").write_text("outside the deployment", encoding="utf-8")
    return root


@pytest.fixture
def server(site: Path) -> Iterator[SiteServer]:
    with SiteServer(folder(site)) as srv:
        yield srv


def raw(server: SiteServer, method: str, path: str) -> tuple[int, list[tuple[str, str]], bytes]:
    """A request whose path is sent as written (requests and urllib3 would normalise ``..``)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        conn.endheaders()
        resp = conn.getresponse()
        return resp.status, resp.getheaders(), resp.read()
    finally:
        conn.close()


def test_headers_from_vercel_json_are_sent_and_repeated_lines_survive(server: SiteServer) -> None:
    status, headers, body = raw(server, "GET", "/")
    assert status == 200
    assert body == b"<h1>home</h1>"
    assert ("X-Frame-Options", "DENY") in headers
    assert [v for k, v in headers if k == "Set-Cookie"] == ["a=1; Secure", "b=2; Secure"]
    assert dict(headers)["Content-Type"] == "text/html; charset=utf-8"
    assert dict(headers)["Content-Length"] == str(len(body))


def test_redirect_codes_and_location(server: SiteServer) -> None:
    perm = requests.get(server.url + "/old", allow_redirects=False, timeout=5)
    temp = requests.get(server.url + "/tmp?x=1", allow_redirects=False, timeout=5)
    assert (perm.status_code, perm.headers["Location"]) == (308, "/about")
    assert (temp.status_code, temp.headers["Location"]) == (307, "/about?x=1")
    assert perm.headers["X-Frame-Options"] == "DENY"


def test_clean_urls_and_rewrite_with_json_content_type(server: SiteServer) -> None:
    about = requests.get(server.url + "/about", timeout=5)
    assert (about.status_code, about.text) == (200, "<h1>about</h1>")
    html = requests.get(server.url + "/about.html", allow_redirects=False, timeout=5)
    assert (html.status_code, html.headers["Location"]) == (308, "/about")
    health = requests.get(server.url + "/api/health", timeout=5)
    assert health.headers["Content-Type"].startswith("application/json")
    assert health.json() == {"status": "ok"}


def test_head_has_the_get_headers_and_no_body(server: SiteServer) -> None:
    status, headers, body = raw(server, "HEAD", "/about")
    assert status == 200
    assert body == b""
    assert dict(headers)["Content-Length"] == str(len(b"<h1>about</h1>"))
    assert ("X-Frame-Options", "DENY") in headers


def test_missing_file_is_404_and_uses_404_html_when_present(server: SiteServer, site: Path) -> None:
    status, _, body = raw(server, "GET", "/nope")
    assert status == 404
    assert b"NOT_FOUND" in body
    (site / "404.html").write_text("<p>lost</p>", encoding="utf-8")
    status, headers, body = raw(server, "GET", "/nope")
    assert (status, body, dict(headers)["Content-Type"]) == (404, b"<p>lost</p>", "text/html; charset=utf-8")


@pytest.mark.parametrize("path", ["/../secret.txt", "/%2e%2e/secret.txt", "/api/..%2f..%2fsecret.txt", "/vercel.json"])
def test_nothing_outside_the_root_and_not_vercel_json(server: SiteServer, path: str) -> None:
    status, _, body = raw(server, "GET", path)
    assert status in (400, 404)
    assert b"outside the deployment" not in body
    assert b"cleanUrls" not in body


def test_symlink_out_of_the_root_is_not_followed(server: SiteServer, site: Path) -> None:
    os.symlink(site.parent / "secret.txt", site / "leak.txt")
    status, _, body = raw(server, "GET", "/leak.txt")
    assert status == 404
    assert b"outside the deployment" not in body


def test_root_is_asked_per_request_and_none_means_deployment_not_found(site: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "index.html").write_text("second deployment", encoding="utf-8")
    current: list[Path | None] = [site]
    with SiteServer(lambda: current[0]) as srv:
        assert requests.get(srv.url + "/", timeout=5).text == "<h1>home</h1>"
        current[0] = other
        assert requests.get(srv.url + "/", timeout=5).text == "second deployment"
        current[0] = None
        gone = requests.get(srv.url + "/", timeout=5)
        assert gone.status_code == 404
        assert "DEPLOYMENT_NOT_FOUND" in gone.text


def test_vercel_json_edits_take_effect_and_a_broken_one_is_a_500(server: SiteServer, site: Path) -> None:
    (site / "vercel.json").write_text(json.dumps({"redirects": [{"source": "/x", "destination": "/"}]}), "utf-8")
    assert requests.get(server.url + "/x", allow_redirects=False, timeout=5).status_code == 308
    (site / "vercel.json").write_text("{not json", encoding="utf-8")
    broken = requests.get(server.url + "/", timeout=5)
    assert broken.status_code == 500
    assert "INVALID_VERCEL_JSON" in broken.text


def test_https_with_a_trusted_local_ca(site: Path, tmp_path: Path) -> None:
    ca = trustme.CA()
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(ctx)
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    with SiteServer(folder(site), ssl_context=ctx) as srv:
        assert srv.url.startswith("https://127.0.0.1:")
        resp = requests.get(srv.url + "/about", verify=str(bundle), timeout=5)
        assert resp.text == "<h1>about</h1>"


def test_the_bundled_example_site_is_served_as_designed() -> None:
    with example_site() as root, SiteServer(folder(root)) as srv:
        home = requests.get(srv.url + "/", timeout=5)
        assert home.status_code == 200
        assert "AIKinkLab" in home.text
        csp = home.headers["Content-Security-Policy"]
        assert "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert home.headers["X-Content-Type-Options"] == "nosniff"
        assert "max-age=" in home.headers["Strict-Transport-Security"]
        for page in ("/about", "/pricing"):
            assert requests.get(srv.url + page, timeout=5).status_code == 200
        health = requests.get(srv.url + "/api/health", timeout=5)
        assert health.headers["Content-Type"].startswith("application/json")
        assert health.json()["status"] == "ok"
        assert requests.get(srv.url + "/home", allow_redirects=False, timeout=5).headers["Location"] == "/"
        assert requests.get(srv.url + "/vercel.json", timeout=5).status_code == 404
