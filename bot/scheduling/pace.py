"""The pace of outgoing messages: a shared token bucket, and a notifier that waits its turn.

Domain-neutral: the bucket counts messages per minute on a monotonic clock it is given; the
Slack-specific pause after an HTTP 429 lives in ``bot.slack.pace``.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from bot.config.types import DEFAULT_MESSAGES_PER_MINUTE
from bot.domain.reply import Attachment, Reply
from bot.ports import DeliveryError, Notifier, Posted


class TokenBucket:
    """Hands out one token per message at `per_minute`, with a burst of one second's worth.

    Thread-safe. ``reserve`` never sleeps: it takes a token (possibly one not yet earned) and says
    how long to wait before using it, so the arithmetic is testable with an injected clock.
    """

    def __init__(self, per_minute: float = DEFAULT_MESSAGES_PER_MINUTE, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._rate = 1.0
        self._capacity = 1.0
        self._stamp = clock()
        self._set(per_minute)
        self._tokens = self._capacity

    @property
    def per_minute(self) -> float:
        """The pace in force, in messages per minute."""
        with self._lock:
            return self._rate * 60

    def _set(self, per_minute: float) -> None:
        if not per_minute > 0:
            raise ValueError("the pace must be more than zero messages per minute")
        self._rate = per_minute / 60
        self._capacity = max(1.0, self._rate)

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self._capacity, self._tokens + (now - self._stamp) * self._rate)
        self._stamp = now

    def set_rate(self, per_minute: float) -> None:
        """Change the pace (a config reload); tokens already earned are kept up to the new burst."""
        with self._lock:
            self._refill()
            self._set(per_minute)
            self._tokens = min(self._tokens, self._capacity)

    def reserve(self) -> float:
        """Take the next token; the seconds to wait before it may be used (0.0 when it is ready)."""
        with self._lock:
            self._refill()
            self._tokens -= 1
            return 0.0 if self._tokens >= 0 else -self._tokens / self._rate

    def cancel(self) -> None:
        """Give back a reserved token that will not be used."""
        with self._lock:
            self._refill()
            self._tokens = min(self._capacity, self._tokens + 1)

    def take(self, wait: Callable[[float], bool]) -> bool:
        """Wait for a token with `wait(seconds)` (True means interrupted); False if interrupted."""
        delay = self.reserve()
        if delay > 0 and wait(delay):
            self.cancel()
            return False
        return True


def _sleep(seconds: float) -> bool:
    time.sleep(seconds)
    return False


class PacedNotifier:
    """A Notifier whose messages (posts and file shares) wait for a token of a shared bucket.

    A post still waiting for its token when `stop` is set is not sent: it fails as a transient
    DeliveryError, so the caller puts the delivery back. Everything else passes straight through.
    """

    def __init__(self, notifier: Notifier, bucket: TokenBucket, *, stop: threading.Event) -> None:
        self._notifier = notifier
        self._bucket = bucket
        self._stop = stop

    def post(self, *, channel: str, reply: Reply, metadata: dict[str, Any] | None = None) -> Posted:
        """Post once the pace allows (not at all when stopping first)."""
        if self._stop.is_set() or not self._bucket.take(self._stop.wait):
            raise DeliveryError("not sent: the scheduler is stopping", permanent=False)
        return self._notifier.post(channel=channel, reply=reply, metadata=metadata)

    def upload(self, *, user_id: str, attachment: Attachment) -> None:
        """Share a file once the pace allows (it belongs to a message already sent: never dropped)."""
        self._bucket.take(_sleep)
        self._notifier.upload(user_id=user_id, attachment=attachment)

    def find_key(self, **kwargs: Any) -> Posted | None:
        """History look-ups are not messages: straight through."""
        return self._notifier.find_key(**kwargs)

    def __getattr__(self, name: str) -> Any:
        """Every other call (history look-ups, …) goes straight to the notifier."""
        return getattr(self._notifier, name)
