"""vercel.json semantics, path by path, with no server: what Vercel's edge would answer."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from aikinklab_ops.errors import InputError
from aikinklab_ops.site.patterns import compile_source, substitute
from aikinklab_ops.site.rules import SiteRules


def files(*names: str) -> Callable[[str], bool]:
    present = set(names)
    return present.__contains__


SITE = files("index.html", "about.html", "docs/index.html", "api/health.json", "styles.css", "vercel.json")


@pytest.mark.parametrize(
    ("source", "path", "params"),
    [
        ("/blog/:slug", "/blog/hello", {"slug": "hello"}),
        ("/blog/:slug", "/blog/hello/more", None),
        ("/blog/:slug", "/Blog/hello", None),  # case-sensitive, as on Vercel
        ("/docs/:path*", "/docs", {"path": ""}),
        ("/docs/:path*", "/docs/a/b/c", {"path": "a/b/c"}),
        ("/docs/:path+", "/docs", None),
        ("/docs/:path+", "/docs/a/b", {"path": "a/b"}),
        ("/shop/:id?", "/shop", {"id": ""}),
        ("/shop/:id?", "/shop/7", {"id": "7"}),
        ("/post/:id(\\d+)", "/post/42", {"id": "42"}),
        ("/post/:id(\\d+)", "/post/abc", None),
        ("/(.*)", "/anything/at/all", {"0": "anything/at/all"}),
        ("/assets/(.*)\\.png", "/assets/logo.png", {"0": "logo"}),
        ("/a.b", "/aXb", None),  # a literal dot is not a wildcard
    ],
)
def test_source_patterns_match_like_path_to_regexp(source: str, path: str, params: dict[str, str] | None) -> None:
    assert compile_source(source).match(path) == params


def test_destination_substitutes_named_and_numbered_groups_but_not_url_colons() -> None:
    pattern = compile_source("/old/:slug/(.*)")
    params = pattern.match("/old/post/rest/of")
    assert params is not None
    assert substitute("https://example.com:8443/new/:slug/$2?x=$1", params, pattern.names) == (
        "https://example.com:8443/new/post/rest/of?x=post"
    )


def test_redirect_permanent_temporary_and_explicit_status_codes() -> None:
    rules = SiteRules.from_vercel_json(
        {
            "redirects": [
                {"source": "/home", "destination": "/"},
                {"source": "/perm", "destination": "/", "permanent": True},
                {"source": "/temp", "destination": "/", "permanent": False},
                {"source": "/moved", "destination": "/", "statusCode": 301},
                {"source": "/blog/:slug", "destination": "/posts/:slug"},
            ]
        }
    )
    assert rules.resolve("/home", SITE).status == 308  # Vercel's default is permanent
    assert rules.resolve("/perm", SITE).status == 308
    assert rules.resolve("/temp", SITE).status == 307
    assert rules.resolve("/moved", SITE).status == 301
    res = rules.resolve("/blog/hi", SITE, query="ref=x")
    assert (res.status, res.location) == (308, "/posts/hi?ref=x")


def test_first_matching_redirect_wins_and_redirects_come_before_files() -> None:
    rules = SiteRules.from_vercel_json(
        {
            "redirects": [
                {"source": "/about", "destination": "/first", "permanent": False},
                {"source": "/about", "destination": "/second"},
            ]
        }
    )
    res = rules.resolve("/about", files("about"))
    assert (res.status, res.location) == (307, "/first")


def test_every_matching_header_rule_applies_in_order_and_repeats_are_kept() -> None:
    rules = SiteRules.from_vercel_json(
        {
            "headers": [
                {"source": "/(.*)", "headers": [{"key": "X-Frame-Options", "value": "DENY"}]},
                {"source": "/about", "headers": [{"key": "Cache-Control", "value": "no-store"}]},
                {"source": "/(.*)", "headers": [{"key": "X-Frame-Options", "value": "SAMEORIGIN"}]},
                {"source": "/blog/:slug", "headers": [{"key": "X-Slug", "value": ":slug"}]},
            ]
        }
    )
    res = rules.resolve("/about.html", SITE)
    assert res.headers == (("X-Frame-Options", "DENY"), ("X-Frame-Options", "SAMEORIGIN"))
    res = rules.resolve("/about", SITE)
    assert res.headers == (
        ("X-Frame-Options", "DENY"),
        ("Cache-Control", "no-store"),
        ("X-Frame-Options", "SAMEORIGIN"),
    )
    assert ("X-Slug", "hi") in rules.resolve("/blog/hi", SITE).headers


def test_headers_also_apply_to_redirects_and_404s() -> None:
    rules = SiteRules.from_vercel_json(
        {
            "headers": [{"source": "/(.*)", "headers": [{"key": "X-Content-Type-Options", "value": "nosniff"}]}],
            "redirects": [{"source": "/home", "destination": "/"}],
        }
    )
    assert rules.resolve("/home", SITE).headers == (("X-Content-Type-Options", "nosniff"),)
    assert rules.resolve("/missing", SITE).headers == (("X-Content-Type-Options", "nosniff"),)


def test_rewrite_serves_another_file_under_the_same_path() -> None:
    rules = SiteRules.from_vercel_json({"rewrites": [{"source": "/api/health", "destination": "/api/health.json"}]})
    res = rules.resolve("/api/health", SITE)
    assert (res.status, res.file, res.location) == (200, "api/health.json", None)


def test_rewrites_come_after_the_filesystem_and_chain() -> None:
    rules = SiteRules.from_vercel_json(
        {
            "rewrites": [
                {"source": "/about", "destination": "/nope.html"},
                {"source": "/app/:path*", "destination": "/spa/:path*"},
                {"source": "/spa/(.*)", "destination": "/index.html"},
            ]
        }
    )
    assert rules.resolve("/about.html", SITE).file == "about.html"  # the file exists: no rewrite
    assert rules.resolve("/app/settings/profile", SITE).file == "index.html"


def test_rewrite_to_an_outside_url_is_reported_not_proxied() -> None:
    rules = SiteRules.from_vercel_json({"rewrites": [{"source": "/ext", "destination": "https://example.com/"}]})
    res = rules.resolve("/ext", SITE)
    assert (res.status, res.error_code) == (502, "EXTERNAL_REWRITE_NOT_SUPPORTED")


def test_clean_urls_serve_without_extension_and_redirect_the_html_path() -> None:
    rules = SiteRules.from_vercel_json({"cleanUrls": True})
    assert rules.resolve("/about", SITE).file == "about.html"
    assert (rules.resolve("/about.html", SITE).status, rules.resolve("/about.html", SITE).location) == (308, "/about")
    assert rules.resolve("/index.html", SITE).location == "/"
    assert rules.resolve("/docs/index", SITE).location == "/docs"
    assert rules.resolve("/docs", SITE).file == "docs/index.html"


def test_without_clean_urls_the_extension_is_needed() -> None:
    rules = SiteRules.from_vercel_json({})
    assert rules.resolve("/about", SITE).status == 404
    assert rules.resolve("/about.html", SITE).file == "about.html"


def test_trailing_slash_true_adds_it_and_false_removes_it() -> None:
    add = SiteRules.from_vercel_json({"trailingSlash": True, "cleanUrls": True})
    assert add.resolve("/about", SITE).location == "/about/"
    assert add.resolve("/about/", SITE).file == "about.html"
    assert add.resolve("/styles.css", SITE).file == "styles.css"  # files keep no slash
    assert add.resolve("/styles.css/", SITE).location == "/styles.css"
    assert add.resolve("/about.html", SITE).location == "/about/"
    drop = SiteRules.from_vercel_json({"trailingSlash": False})
    assert drop.resolve("/docs/", SITE).location == "/docs"
    assert drop.resolve("/", SITE).file == "index.html"
    neither = SiteRules.from_vercel_json({})
    assert neither.resolve("/docs/", SITE).file == "docs/index.html"
    assert neither.resolve("/docs", SITE).file == "docs/index.html"


def test_missing_files_are_404_with_the_projects_404_page_when_there_is_one() -> None:
    rules = SiteRules.from_vercel_json({})
    bare = rules.resolve("/missing", SITE)
    assert (bare.status, bare.file, bare.error_code) == (404, None, "NOT_FOUND")
    custom = rules.resolve("/missing", files("index.html", "404.html"))
    assert (custom.status, custom.file) == (404, "404.html")


def test_vercel_json_and_dot_segments_are_never_files() -> None:
    rules = SiteRules.from_vercel_json({"cleanUrls": True})
    assert rules.resolve("/vercel.json", SITE).status == 404
    assert rules.resolve("/vercel", files("vercel.json")).status == 404
    assert rules.resolve("/../etc/passwd", SITE).status == 400
    assert rules.resolve("/%2e%2e/etc/passwd", SITE).status == 400
    assert rules.resolve("/a/..%2f..%2fsecret", SITE).status == 400


def test_has_and_missing_conditions() -> None:
    rules = SiteRules.from_vercel_json(
        {
            "redirects": [
                {"source": "/beta", "destination": "/new", "has": [{"type": "cookie", "key": "beta", "value": "on"}]},
                {"source": "/beta", "destination": "/old", "missing": [{"type": "header", "key": "x-keep"}]},
                {"source": "/q", "destination": "/yes", "has": [{"type": "query", "key": "go"}]},
                {"source": "/h", "destination": "/host", "has": [{"type": "host", "value": "www\\.example\\.com"}]},
            ]
        }
    )
    assert rules.resolve("/beta", SITE, headers={"Cookie": "beta=on"}).location == "/new"
    assert rules.resolve("/beta", SITE, headers={"Cookie": "beta=off"}).location == "/old"
    assert rules.resolve("/beta", SITE, headers={"X-Keep": "1"}).status == 404
    assert rules.resolve("/q?go=1", SITE).location == "/yes?go=1"
    assert rules.resolve("/q", SITE).status == 404
    assert rules.resolve("/h", SITE, host="www.example.com").location == "/host"
    assert rules.resolve("/h", SITE, host="example.com").status == 404


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"redirects": [{"source": "no-slash", "destination": "/"}]}, "redirects[0].source"),
        ({"redirects": [{"source": "/a", "destination": "/", "statusCode": 200}]}, "redirects[0].statusCode"),
        ({"redirects": [{"source": "/a"}]}, "redirects[0].destination"),
        ({"headers": [{"source": "/(.*)", "headers": [{"key": "Bad Name", "value": "x"}]}]}, "headers[0].headers[0]"),
        ({"headers": [{"source": "/(.*"}]}, "headers[0]"),
        ({"rewrites": {"source": "/a"}}, "rewrites: expected a list"),
        ({"cleanUrls": "yes"}, "cleanUrls"),
        ({"routes": []}, "routes"),
    ],
)
def test_malformed_vercel_json_names_the_field(data: dict[str, object], words: str) -> None:
    with pytest.raises(InputError) as info:
        SiteRules.from_vercel_json(data)
    assert words in str(info.value)
    assert str(info.value).startswith("vercel.json: ")
