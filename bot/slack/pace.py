"""Slack's 429s as a shared pause: one "slow down" for a method holds that method for every thread.

Slack rate-limits each Web API method per workspace and answers HTTP 429 with ``Retry-After``.
slack_sdk's own ``RateLimitErrorRetryHandler`` only sleeps the thread that got the 429; the other
senders would keep calling the method and collect 429s of their own. Here the handler records a
pause for the method, and the client waits out any pause on a method before calling it.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.slack_response import SlackResponse

DEFAULT_RETRY_AFTER = 1.0


class MethodPauses:
    """Until when each Web API method is paused; shared by the threads of one client. Thread-safe."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._until: dict[str, float] = {}

    def pause(self, method: str, seconds: float) -> None:
        """Hold `method` for `seconds` from now (a longer pause already in force stays)."""
        with self._lock:
            until = self._clock() + max(0.0, seconds)
            self._until[method] = max(self._until.get(method, until), until)

    def remaining(self, method: str) -> float:
        """Seconds left in the method's pause (0.0 when it may be called)."""
        with self._lock:
            until = self._until.get(method)
            if until is None:
                return 0.0
            left = until - self._clock()
            if left <= 0:
                del self._until[method]
                return 0.0
            return left

    def wait(self, method: str) -> float:
        """Sleep until the method may be called (pauses added meanwhile count); seconds waited."""
        waited = 0.0
        while (left := self.remaining(method)) > 0:
            self._sleep(left)
            waited += left
        return waited


def method_of(url: str) -> str:
    """The Web API method a request URL calls (…/api/chat.postMessage → chat.postMessage)."""
    return urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]


def retry_after(response: HttpResponse) -> float:
    """The response's Retry-After in seconds (1 when Slack left it out or it is unreadable)."""
    for name, values in response.headers.items():
        if name.lower() == "retry-after":
            value = values[0] if isinstance(values, list) and values else values
            try:
                return max(0.0, float(str(value)))
            except (TypeError, ValueError):
                break
    return DEFAULT_RETRY_AFTER


class SharedRateLimitRetryHandler(RateLimitErrorRetryHandler):
    """On HTTP 429: pause the method for every thread for Retry-After, wait it out, retry."""

    def __init__(self, pauses: MethodPauses, *, max_retry_count: int = 5) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.pauses = pauses

    def prepare_for_next_attempt(self, *, state: RetryState, request: HttpRequest,
                                 response: HttpResponse | None = None,
                                 error: Exception | None = None) -> None:
        """Record the pause, wait until the method is free again, and ask for another attempt."""
        if response is None:
            raise error or RuntimeError("a 429 retry without a response")
        method = method_of(request.url)
        self.pauses.pause(method, retry_after(response))
        state.next_attempt_requested = True
        self.pauses.wait(method)
        state.increment_current_attempt()


class PausingWebClient(WebClient):
    """A WebClient that waits out a method's pause (after a 429 on any thread) before calling it."""

    def __init__(self, *, pauses: MethodPauses, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pauses = pauses

    def api_call(self, api_method: str, **kwargs: Any) -> SlackResponse:  # type: ignore[override]
        """Wait for `api_method` to be free, then call it."""
        self.pauses.wait(api_method)
        return super().api_call(api_method, **kwargs)
