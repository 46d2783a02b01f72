"""HTTP to an upstream list API: timeouts, retries with backoff and jitter, ``Retry-After``, counters.

One ``UpstreamClient`` per run. ``get_json`` sends a GET built and authenticated by the run's
``backups.sync.auth`` method and retries, with tenacity, what may pass by itself: connection errors,
timeouts, a connection cut mid-answer, 429 (after the ``Retry-After`` it gives, capped), and 500,
502, 503, 504 (exponential backoff with jitter). Anything else fails at once — 400, 403, 404 will
not change by asking again — and a 401 first renews the credentials once (a fresh IAM login).
A failure carries the upstream's status and error body, which the run records.
"""

import email.utils
import time
from dataclasses import dataclass
from datetime import datetime, timezone

import httpx
from django.conf import settings
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})
BODY_LIMIT = 4000


class UpstreamError(Exception):
    """The upstream did not give a usable answer; ``body`` is what it said (truncated)."""

    def __init__(self, message, *, url="", status=None, body="", transient=False, retry_after=None):
        super().__init__(message)
        self.url = url
        self.status = status
        self.body = body
        self.transient = transient
        self.retry_after = retry_after

    def describe(self):
        """The message a run records: what was asked, what came back, and the body."""
        text = str(self)
        if self.body:
            text += f"\nupstream answered: {self.body}"
        return text


@dataclass
class Counters:
    requests: int = 0
    retries: int = 0
    throttled: int = 0


def retry_after_seconds(value, now=None):
    """``Retry-After`` as seconds (a number, or an HTTP date); ``None`` when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return max(0.0, (moment - (now or datetime.now(timezone.utc))).total_seconds())


def _error_for(response):
    status = response.status_code
    url = str(response.request.url)
    body = response.text[:BODY_LIMIT]
    retry_after = retry_after_seconds(response.headers.get("Retry-After")) if status == 429 else None
    return UpstreamError(
        f"HTTP {status} from GET {_redacted(url)}",
        url=url,
        status=status,
        body=body,
        transient=status in TRANSIENT_STATUSES,
        retry_after=retry_after,
    )


def _redacted(url):
    """The URL as logged: query strings carry no secrets here, but keep the line short."""
    return url if len(url) <= 300 else url[:297] + "..."


def _is_transient(error):
    return isinstance(error, UpstreamError) and error.transient


class UpstreamClient:
    """GET JSON from ``base_url`` with ``auth``; ``counters`` count requests, retries and 429s."""

    def __init__(self, base_url, auth, *, counters=None, sleep=time.sleep):
        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self.counters = counters or Counters()
        self.sleep = sleep
        timeout = httpx.Timeout(settings.SYNC_TIMEOUT, connect=settings.SYNC_CONNECT_TIMEOUT)
        self.http = httpx.Client(timeout=timeout, follow_redirects=False)
        self.backoff = wait_exponential_jitter(
            multiplier=settings.SYNC_BACKOFF_INITIAL,  # the first wait; doubled each retry
            max=settings.SYNC_BACKOFF_MAX,
            jitter=settings.SYNC_BACKOFF_INITIAL,
        )

    def close(self):
        self.http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def get_json(self, path, params):
        """The JSON object at ``base_url + path`` with ``params`` (pairs); raises ``UpstreamError``."""
        retrying = Retrying(
            stop=stop_after_attempt(settings.SYNC_ATTEMPTS),
            wait=self._wait,
            retry=retry_if_exception(_is_transient),
            before_sleep=self._before_sleep,
            sleep=self.sleep,
            reraise=True,
        )
        return retrying(self._get_once, path, params)

    def _wait(self, retry_state):
        error = retry_state.outcome.exception()
        if isinstance(error, UpstreamError) and error.retry_after is not None:
            return min(error.retry_after, settings.SYNC_RETRY_AFTER_MAX)
        return self.backoff(retry_state)

    def _before_sleep(self, retry_state):
        self.counters.retries += 1

    def _get_once(self, path, params):
        url = self.base_url + path
        response = self._send(url, params)
        if response.status_code == 401 and self.auth.renew():
            response = self._send(url, params)
        if response.status_code == 429:
            self.counters.throttled += 1
        if response.status_code != 200:
            raise _error_for(response)
        try:
            data = response.json()
        except ValueError:
            raise UpstreamError(
                f"GET {_redacted(url)} answered 200 with a body that is not JSON",
                url=url,
                status=200,
                body=response.text[:BODY_LIMIT],
            ) from None
        if not isinstance(data, dict):
            raise UpstreamError(
                f"GET {_redacted(url)} answered JSON that is not an object", url=url, status=200
            )
        return data

    def _send(self, url, params):
        request = self.auth.request("GET", url, params)
        self.counters.requests += 1
        try:
            return self.http.send(request)
        except httpx.TransportError as error:  # refused, reset, cut mid-answer, timed out
            kind = type(error).__name__
            raise UpstreamError(f"GET {_redacted(url)}: {kind}: {error}", url=url, transient=True) from None
