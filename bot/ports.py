"""The small interfaces the core needs from the outside world (Slack, or the console)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from bot.config.types import Config
from bot.domain.reply import Attachment, Reply


@dataclass(frozen=True)
class Posted:
    """Where a message landed."""

    channel: str
    ts: str


class DeliveryError(Exception):
    """A message could not be delivered; permanent errors must not be retried.

    unknown_outcome: the request may have reached Slack (a timeout, or the connection dropped
    after it was sent), so the message may be posted; look in the history before any re-send.
    """

    def __init__(self, reason: str, *, permanent: bool, unknown_outcome: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.unknown_outcome = unknown_outcome


@dataclass(frozen=True)
class Profile:
    """What Slack says about a user."""

    name: str
    tz: str | None


class Directory(Protocol):
    """Looks users up (Slack's users.info, or the console's stand-in)."""

    def profile(self, user_id: str) -> Profile | None: ...


class Operations(Protocol):
    """Admin operations provided by the running process (config reload, outbox status, digests)."""

    def reload(self, *, actor_id: str) -> Reply: ...

    def status(self) -> Reply: ...

    def effective_config(self) -> Reply: ...

    def digest_now(self, *, actor_id: str) -> Reply: ...


class ConfigSource(Protocol):
    """Gives the config in force (it may be reloaded while the bot runs)."""

    def current(self) -> Config: ...


class Notifier(Protocol):
    """Delivers replies outside the request/response cycle: channel posts, DMs, files."""

    def post(self, *, channel: str, reply: Reply, metadata: dict[str, Any] | None = None) -> Posted:
        """Post to a channel (or a user id, which means their DM)."""
        ...

    def upload(self, *, user_id: str, attachment: Attachment) -> None:
        """Send a file to a user."""
        ...

    def find_key(self, *, channel: str, key: str, oldest_ts: float) -> Posted | None:
        """A message posted in the channel since oldest_ts that carries this delivery key, if any.

        Reads the whole window (every page); raises DeliveryError when it cannot tell.
        """
        ...


class DeliveryCounts(Protocol):
    """What became of a batch of deliveries."""

    @property
    def failed(self) -> int: ...


class Deliverer(Protocol):
    """Delivers pending outbox rows now, instead of waiting for the next sweep."""

    def deliver_ids(self, ids: list[int]) -> DeliveryCounts:
        """Deliver these pending deliveries now, if nobody else has taken them."""
        ...
