"""A stateful fake of the GitHub releases API on top of ``responses``, shaped like GitHub's REST answers.

It keeps releases, assets and tag refs, so publish → list → download → prune can be tested as a
story, and it records every call so tests can assert order and bodies.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qs, urlsplit

import responses

API = "https://api.github.com"
UPLOADS = "https://uploads.github.com"
OBJECTS = "https://objects.githubusercontent.com"
REPO = "aikinklab/aikinklab"


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class FakeGitHub:
    rsps: responses.RequestsMock
    releases: dict[int, dict[str, Any]] = field(default_factory=dict)
    blobs: dict[int, bytes] = field(default_factory=dict)
    tags: set[str] = field(default_factory=set)
    calls: list[tuple[str, str, Any]] = field(default_factory=list)
    # Queued failures for uploads: (status, headers, body), consumed one per upload.
    upload_failures: list[tuple[int, dict[str, str], dict[str, Any]]] = field(default_factory=list)
    _next_id: int = 100

    def __post_init__(self) -> None:
        # PyGithub spells URLs with an explicit :443.
        base = rf"https://api\.github\.com(?::443)?/repos/{REPO}"
        uploads = r"https://uploads\.github\.com(?::443)?"
        r = self.rsps
        r.add_callback(responses.GET, re.compile(rf"{base}/releases(\?.*)?$"), self._list)
        r.add_callback(responses.POST, re.compile(rf"{base}/releases$"), self._create)
        r.add_callback(responses.PATCH, re.compile(rf"{base}/releases/\d+$"), self._update)
        r.add_callback(responses.GET, re.compile(rf"{base}/releases/\d+$"), self._get)
        r.add_callback(responses.DELETE, re.compile(rf"{base}/releases/\d+$"), self._delete)
        r.add_callback(responses.GET, re.compile(rf"{base}/releases/tags/.+"), self._get_by_tag)
        r.add_callback(responses.GET, re.compile(rf"{base}/releases/\d+/assets(\?.*)?$"), self._list_assets)
        r.add_callback(responses.GET, re.compile(rf"{base}/releases/assets/\d+$"), self._download)
        r.add_callback(responses.DELETE, re.compile(rf"{base}/releases/assets/\d+$"), self._delete_asset)
        r.add_callback(responses.POST, re.compile(rf"{uploads}/repos/{REPO}/releases/\d+/assets.*"), self._upload)
        r.add_callback(responses.GET, re.compile(r"https://objects\.githubusercontent\.com/.+"), self._object)
        r.add_callback(responses.GET, re.compile(rf"{base}/git/ref/tags/.+"), self._get_ref)
        r.add_callback(responses.DELETE, re.compile(rf"{base}/git/refs/tags/.+"), self._delete_ref)

    # ---------------------------------------------------------------- helpers

    def _id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _log(self, req: Any, body: Any = None) -> None:
        self.calls.append((req.method, req.url.replace(":443/", "/"), body))

    @staticmethod
    def _json(status: int, data: Any, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
        return status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(data)

    def _not_found(self) -> tuple[int, dict[str, str], str]:
        return self._json(404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"})

    def add_release(self, tag: str, created_at: str, *, draft: bool = False, assets: list[str] | None = None) -> int:
        rid = self._id()
        self.releases[rid] = self._release_body(rid, tag, draft, created_at)
        for name in assets or []:
            self._add_asset(rid, name, b"x" * 10, "application/gzip")
        if not draft:
            self.tags.add(tag)
        return rid

    def _release_body(self, rid: int, tag: str, draft: bool, created_at: str) -> dict[str, Any]:
        return {
            "url": f"{API}/repos/{REPO}/releases/{rid}",
            "html_url": f"https://github.com/{REPO}/releases/tag/{tag}",
            "assets_url": f"{API}/repos/{REPO}/releases/{rid}/assets",
            "upload_url": f"{UPLOADS}/repos/{REPO}/releases/{rid}/assets{{?name,label}}",
            "id": rid,
            "node_id": f"RE_{rid}",
            "tag_name": tag,
            "target_commitish": "main",
            "name": tag,
            "body": "",
            "draft": draft,
            "prerelease": True,
            "created_at": created_at,
            "published_at": None if draft else created_at,
            "author": {"login": "github-actions[bot]", "id": 41898282, "type": "Bot"},
            "assets": [],
        }

    def _add_asset(self, rid: int, name: str, data: bytes, content_type: str) -> dict[str, Any]:
        aid = self._id()
        asset = {
            "url": f"{API}/repos/{REPO}/releases/assets/{aid}",
            "browser_download_url": f"https://github.com/{REPO}/releases/download/{self.releases[rid]['tag_name']}/{name}",
            "id": aid,
            "node_id": f"RA_{aid}",
            "name": name,
            "label": "",
            "state": "uploaded",
            "content_type": content_type,
            "size": len(data),
            "download_count": 0,
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z",
            "uploader": {"login": "github-actions[bot]", "id": 41898282, "type": "Bot"},
        }
        self.releases[rid]["assets"].append(asset)
        self.blobs[aid] = data
        return asset

    def _rid(self, url: str) -> int:
        return int(re.search(r"/releases/(\d+)", url).group(1))  # type: ignore[union-attr]

    def asset_names(self, rid: int) -> list[str]:
        return [a["name"] for a in self.releases[rid]["assets"]]

    # ---------------------------------------------------------------- endpoints

    def _list(self, req: Any) -> tuple[int, dict[str, str], str]:
        self._log(req)
        return self._json(200, sorted(self.releases.values(), key=lambda r: r["created_at"], reverse=True))

    def _create(self, req: Any) -> tuple[int, dict[str, str], str]:
        body = json.loads(req.body)
        self._log(req, body)
        if any(r["tag_name"] == body["tag_name"] for r in self.releases.values()):
            return self._json(422, {"message": "Validation Failed", "errors": [{"code": "already_exists"}]})
        rid = self._id()
        self.releases[rid] = self._release_body(rid, body["tag_name"], body.get("draft", False), _now())
        return self._json(201, self.releases[rid])

    def _update(self, req: Any) -> tuple[int, dict[str, str], str]:
        body = json.loads(req.body)
        self._log(req, body)
        rel = self.releases[self._rid(req.url)]
        rel["draft"] = body.get("draft", rel["draft"])
        rel["prerelease"] = body.get("prerelease", rel["prerelease"])
        if not rel["draft"]:
            self.tags.add(rel["tag_name"])
            rel["published_at"] = rel["created_at"]
        return self._json(200, rel)

    def _get(self, req: Any) -> tuple[int, dict[str, str], str]:
        self._log(req)
        rel = self.releases.get(self._rid(req.url))
        return self._json(200, rel) if rel else self._not_found()

    def _get_by_tag(self, req: Any) -> tuple[int, dict[str, str], str]:
        self._log(req)
        tag = req.url.rsplit("/tags/", 1)[1]
        for rel in self.releases.values():
            if rel["tag_name"] == tag and not rel["draft"]:
                return self._json(200, rel)
        return self._not_found()

    def _delete(self, req: Any) -> tuple[int, dict[str, str], str]:
        self._log(req)
        self.releases.pop(self._rid(req.url), None)
        return 204, {}, ""

    def _list_assets(self, req: Any) -> tuple[int, dict[str, str], str]:
        self._log(req)
        return self._json(200, self.releases[self._rid(req.url)]["assets"])

    def _find_asset(self, aid: int) -> tuple[int, dict[str, Any]] | None:
        for rid, rel in self.releases.items():
            for a in rel["assets"]:
                if a["id"] == aid:
                    return rid, a
        return None

    def _download(self, req: Any) -> tuple[int, dict[str, str], str]:
        self._log(req)
        assert req.headers.get("Accept") == "application/octet-stream"
        assert req.headers.get("Authorization", "").startswith(("Bearer ", "token "))
        aid = int(req.url.rsplit("/", 1)[1])
        if self._find_asset(aid) is None:
            return self._not_found()
        # GitHub answers with a redirect to its object store; the token must not follow it there.
        return 302, {"Location": f"{OBJECTS}/github-production-release-asset/{aid}?sig=abc"}, ""

    def _object(self, req: Any) -> tuple[int, dict[str, str], bytes]:  # type: ignore[override]
        self._log(req)
        assert "Authorization" not in req.headers, "the token leaked to the object store"
        aid = int(urlsplit(req.url).path.rsplit("/", 1)[1])
        return 200, {"Content-Type": "application/octet-stream"}, self.blobs[aid]

    def _delete_asset(self, req: Any) -> tuple[int, dict[str, str], str]:
        self._log(req)
        aid = int(req.url.rsplit("/", 1)[1])
        found = self._find_asset(aid)
        if found:
            rid, asset = found
            self.releases[rid]["assets"].remove(asset)
        return 204, {}, ""

    def _upload(self, req: Any) -> tuple[int, dict[str, str], str]:
        query = parse_qs(urlsplit(req.url).query)
        name = query["name"][0]
        body = req.body if isinstance(req.body, bytes) else b"".join(iter(lambda: req.body.read(65536), b""))
        self._log(req, {"name": name, "content_type": req.headers.get("Content-Type"), "size": len(body)})
        rid = self._rid(req.url)
        if self.upload_failures:
            status, headers, err = self.upload_failures.pop(0)
            # A failed upload can leave a half-made asset behind, which blocks the name.
            self._add_asset(rid, name, body[: len(body) // 2], req.headers.get("Content-Type", ""))["state"] = "starter"
            return self._json(status, err, headers)
        if name in self.asset_names(rid):
            return self._json(422, {"message": "Validation Failed", "errors": [{"code": "already_exists"}]})
        return self._json(201, self._add_asset(rid, name, body, req.headers.get("Content-Type", "")))

    def _get_ref(self, req: Any) -> tuple[int, dict[str, str], str]:
        self._log(req)
        tag = req.url.rsplit("/git/ref/tags/", 1)[1]
        if tag not in self.tags:
            return self._not_found()
        return self._json(
            200,
            {
                "ref": f"refs/tags/{tag}",
                "node_id": "REF_1",
                "url": f"{API}/repos/{REPO}/git/refs/tags/{tag}",
                "object": {"type": "commit", "sha": "a" * 40, "url": f"{API}/repos/{REPO}/git/commits/{'a' * 40}"},
            },
        )

    def _delete_ref(self, req: Any) -> tuple[int, dict[str, str], str]:
        self._log(req)
        tag = req.url.rsplit("/git/refs/tags/", 1)[1]
        if tag not in self.tags:
            return self._json(422, {"message": "Reference does not exist"})
        self.tags.discard(tag)
        return 204, {}, ""
