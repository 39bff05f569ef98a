"""The one HTTP session factory.

Every session it makes has a User-Agent naming this tool and its version, a default timeout on
every request (requests has none), and urllib3 retries with backoff that honour ``Retry-After``,
capped so a hostile or confused server cannot park a deploy for an hour. Methods that are not
idempotent are retried only on 429 (the server says it did not process the request) and on
connection errors raised before the request was sent; anything else would risk doing it twice.
"""

from __future__ import annotations

import http.client
from typing import Any

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from aikinklab_ops import __version__
from aikinklab_ops.errors import ExternalError
from aikinklab_ops.secrets import redact_url

USER_AGENT = f"aikinklab-ops/{__version__} (+https://github.com/aikinklab/aikinklab-ops)"
DEFAULT_TIMEOUT: tuple[float, float] = (5.0, 30.0)  # (connect, read) seconds
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class SafeRetry(Retry):
    """urllib3's Retry, with ``Retry-After`` capped and non-idempotent methods retried on 429 only.

    ``allowed_methods`` keeps read errors and 5xx retries to idempotent methods (urllib3 checks it
    for both); connection errors are retried for every method because nothing was sent yet.
    """

    def __init__(self, *args: Any, max_retry_after: float = 60.0, **kwargs: Any) -> None:
        self.max_retry_after = max_retry_after
        super().__init__(*args, **kwargs)

    def new(self, **kw: Any) -> SafeRetry:
        retry = super().new(**kw)
        retry.max_retry_after = self.max_retry_after  # type: ignore[attr-defined]
        return retry  # type: ignore[return-value]

    def get_retry_after(self, response: Any) -> float | None:
        value = super().get_retry_after(response)
        return None if value is None else min(value, self.max_retry_after)

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if status_code == 429 and self.total:
            return True
        return bool(super().is_retry(method, status_code, has_retry_after))


class TimeoutAdapter(HTTPAdapter):
    def __init__(self, *args: Any, timeout: float | tuple[float, float] = DEFAULT_TIMEOUT, **kw: Any) -> None:
        self.timeout = timeout
        super().__init__(*args, **kw)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().send(request, **kwargs)


class _Session(requests.Session):
    """A Session whose explicit ``verify`` is not overridden by ``REQUESTS_CA_BUNDLE``.

    requests lets that variable (and ``CURL_CA_BUNDLE``) replace a CA bundle or ``False`` set on
    the session (psf/requests#3829), so ``make_session(verify=bundle)`` would silently use another
    trust store on any machine that sets it.
    """

    def merge_environment_settings(self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any) -> Any:
        settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
        if verify is None and self.verify is not True:
            settings["verify"] = self.verify
        return settings

    def resolve_redirects(self, resp: requests.Response, req: Any, *args: Any, **kwargs: Any) -> Any:
        """A ``Location`` that is not a URL (``http://[::1``) is the server's error, not a crash.

        requests parses it with ``urlparse``, whose ``ValueError`` escapes every ``get``, even with
        ``allow_redirects=False`` (requests peeks at the next hop for ``Response.next``). Followed,
        it becomes ``InvalidURL``, a ``RequestException``; merely peeked at, there is no next hop.
        """
        try:
            yield from super().resolve_redirects(resp, req, *args, **kwargs)
        except ValueError as err:
            if isinstance(err, requests.RequestException):
                raise
            if kwargs.get("yield_requests"):
                return
            location = resp.headers.get("location", "")
            raise requests.exceptions.InvalidURL(
                f"the redirect Location {redact_url(location)[:200]!r} is not a valid URL ({err})", response=resp
            ) from None  # the message already says it all; a person reads the innermost cause


def make_retry(*, retries: int = 4, backoff_factor: float = 0.5, max_retry_after: float = 60.0) -> SafeRetry:
    return SafeRetry(
        total=retries,
        connect=retries,
        read=retries,
        status=retries,
        other=0,
        backoff_factor=backoff_factor,
        backoff_max=30.0,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=IDEMPOTENT,
        respect_retry_after_header=True,
        raise_on_status=False,
        raise_on_redirect=False,
        max_retry_after=max_retry_after,
    )


def make_session(
    *,
    timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
    retries: int = 4,
    backoff_factor: float = 0.5,
    max_retry_after: float = 60.0,
    verify: bool | str = True,
    headers: dict[str, str] | None = None,
    pool_maxsize: int = 32,
) -> requests.Session:
    """A requests session with this project's defaults. ``retries=0`` for probes that measure."""
    session = _Session()
    retry = make_retry(retries=retries, backoff_factor=backoff_factor, max_retry_after=max_retry_after)
    adapter = TimeoutAdapter(max_retries=retry, timeout=timeout, pool_maxsize=pool_maxsize)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    session.verify = verify
    if headers:
        session.headers.update(headers)
    return session


def _urllib3_reason(err: BaseException) -> BaseException | None:
    """requests hides urllib3's real reason inside MaxRetryError; a read timeout under retries
    arrives as ``ConnectionError``, so the requests class alone cannot be trusted."""
    for arg in getattr(err, "args", ()):
        if isinstance(arg, urllib3.exceptions.MaxRetryError):
            return arg.reason
        if isinstance(arg, urllib3.exceptions.HTTPError):
            return arg
    return None


def describe_transport_error(err: requests.RequestException, url: str) -> str:
    """A one-line, secret-free reason for a failed request: what a person can act on."""
    safe = redact_url(url)
    reason = _urllib3_reason(err)
    text = _root_cause(err)
    if isinstance(err, requests.exceptions.SSLError) or isinstance(reason, urllib3.exceptions.SSLError):
        return f"TLS handshake with {safe} failed: {text}"
    refused = "refused" in text.lower()
    if isinstance(reason, urllib3.exceptions.NameResolutionError) or "Name or service not known" in text:
        return f"cannot resolve the host of {safe}"
    # NewConnectionError (refusals, DNS failures) subclasses ConnectTimeoutError in urllib3 2.
    if refused:
        return f"connection to {safe} refused (nothing listening there?)"
    if isinstance(err, requests.exceptions.ConnectTimeout) or isinstance(
        reason, urllib3.exceptions.ConnectTimeoutError
    ):
        return f"connecting to {safe} timed out"
    if isinstance(err, requests.exceptions.ReadTimeout) or isinstance(reason, urllib3.exceptions.ReadTimeoutError):
        return f"{safe} did not answer in time"
    if isinstance(err, requests.exceptions.TooManyRedirects):
        return f"{safe} redirected too many times"
    if isinstance(err, requests.exceptions.ConnectionError):
        inner = (
            reason.args[1] if isinstance(reason, urllib3.exceptions.ProtocolError) and len(reason.args) > 1 else None
        )
        # A status line or headers http.client refuses is an answer, just not HTTP; a
        # RemoteDisconnected (a BadStatusLine too) is the peer hanging up.
        if isinstance(inner, http.client.HTTPException) and not isinstance(inner, ConnectionError):
            what = (str(inner).strip() or type(inner).__name__)[:200]
            return f"{safe} answered with something that is not valid HTTP: {what}"
        if isinstance(reason, urllib3.exceptions.ProtocolError) or "aborted" in text.lower() or "reset" in text.lower():
            return f"{safe} closed the connection before answering"
        return f"cannot connect to {safe}: {text}"
    return f"request to {safe} failed: {text}"


def _root_cause(err: BaseException) -> str:
    seen: BaseException = err
    reason = _urllib3_reason(err)
    if reason is not None:
        seen = reason
    while True:
        context = None if seen.__suppress_context__ else seen.__context__  # `raise ... from None` means: stop here
        nxt = getattr(seen, "reason", None) or seen.__cause__ or context
        if not isinstance(nxt, BaseException) or nxt is seen:
            break
        seen = nxt
    text = str(seen)
    return redact_url(text) if "://" in text else text


def transport_error(err: requests.RequestException, url: str, service: str) -> ExternalError:
    return ExternalError(f"{service}: {describe_transport_error(err, url)}")
