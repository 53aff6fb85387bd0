"""The Slack Web API edge: a client with retries, the notifier and the member directory."""
from __future__ import annotations

import logging
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot.domain.reply import Attachment, Reply
from bot.ports import DeliveryError, Posted, Profile
from bot.slack import render
from bot.slack.pace import MethodPauses, PausingWebClient, SharedRateLimitRetryHandler

log = logging.getLogger("wgbot.slack")

PERMANENT_ERRORS = frozenset({
    "channel_not_found", "user_not_found", "account_inactive", "not_in_channel",
    "is_archived", "cannot_dm_bot", "user_disabled", "invalid_auth", "not_authed",
    "token_revoked", "missing_scope", "msg_too_long", "msg_blocks_too_long", "invalid_blocks",
    "restricted_action", "no_permission",
})
METADATA_EVENT = "wgbot_delivery"
# Methods that post: a second call after an unknown outcome may post the same message twice.
POSTING_METHODS = frozenset({"chat.postMessage"})
HISTORY_PAGE = 200
HISTORY_PAGES = 25  # reconciliation reads at most this many pages (5,000 messages) of a window


def request_sent(error: Exception | None) -> bool:
    """False only when the request certainly never reached Slack.

    urllib wraps failures while connecting and sending in URLError; a timeout or a dropped
    connection while waiting for the answer arrives unwrapped, after Slack may have acted on it.
    """
    return not isinstance(error, URLError)


class ConnectionRetryUnlessPosted(ConnectionErrorRetryHandler):
    """Retries connection errors, but never a post that may already have reached Slack."""

    def _can_retry(self, *, state: RetryState, request: HttpRequest,
                   response: HttpResponse | None = None, error: Exception | None = None) -> bool:
        method = request.url.rstrip("/").rsplit("/", 1)[-1]
        if method in POSTING_METHODS and request_sent(error):
            return False
        return super()._can_retry(state=state, request=request, response=response, error=error)


def make_client(*, token: str | None, base_url: str, rate_limit_retries: int = 5,
                timeout: float = 15, pauses: MethodPauses | None = None) -> WebClient:
    """A WebClient that retries connection errors (never a post that may have reached Slack),
    HTTP 429 and 5xx.

    A 429 pauses its method for every thread using this client for Retry-After (bot.slack.pace).
    """
    pauses = pauses or MethodPauses()
    return PausingWebClient(
        pauses=pauses,
        token=token,
        base_url=base_url,
        timeout=timeout,  # type: ignore[arg-type]  # urllib takes seconds as a float
        retry_handlers=[
            ConnectionRetryUnlessPosted(max_retry_count=2),
            SharedRateLimitRetryHandler(pauses, max_retry_count=rate_limit_retries),
            ServerErrorRetryHandler(max_retry_count=2),
        ],
    )


def _error_of(e: SlackApiError) -> str:
    data = getattr(e.response, "data", None)
    if isinstance(data, dict):
        return str(data.get("error") or "unknown_error")
    return f"http_{getattr(e.response, 'status_code', 'error')}"


class SlackNotifier:
    """Delivers through the Web API; turns Slack errors into DeliveryError."""

    def __init__(self, client: WebClient) -> None:
        self._client = client
        self._dm_channels: dict[str, str] = {}

    def _call(self, method: str, **kwargs: Any) -> Any:
        try:
            return getattr(self._client, method.replace(".", "_"))(**kwargs)
        except SlackApiError as e:
            reason = _error_of(e)
            raise DeliveryError(reason, permanent=reason in PERMANENT_ERRORS) from e
        except Exception as e:  # network errors left after the retry handlers gave up
            unknown = method in POSTING_METHODS and request_sent(e)
            raise DeliveryError(f"{type(e).__name__}: {e}" + (" (outcome unknown)" if unknown else ""),
                                permanent=False, unknown_outcome=unknown) from e

    def dm_channel(self, user_id: str) -> str:
        """The DM channel id with a user (conversations.open, cached)."""
        if user_id not in self._dm_channels:
            resp = self._call("conversations.open", users=user_id)
            self._dm_channels[user_id] = resp["channel"]["id"]
        return self._dm_channels[user_id]

    def post(self, *, channel: str, reply: Reply, metadata: dict[str, Any] | None = None) -> Posted:
        """chat.postMessage with the reply's blocks and, when given, delivery metadata."""
        kwargs: dict[str, Any] = {"channel": channel, **render.message(reply)}
        if metadata:
            kwargs["metadata"] = {"event_type": METADATA_EVENT, "event_payload": metadata}
        resp = self._call("chat.postMessage", **kwargs)
        return Posted(channel=str(resp.get("channel", channel)), ts=str(resp.get("ts", "")))

    def upload(self, *, user_id: str, attachment: Attachment) -> None:
        """files upload v2 into the user's DM."""
        channel = self.dm_channel(user_id)
        self._call("files.upload_v2", channel=channel, content=attachment.content,
                   filename=attachment.filename, title=attachment.title,
                   initial_comment=render.slack_text(attachment.comment, 4000)
                   if attachment.comment else None)

    def find_key(self, *, channel: str, key: str, oldest_ts: float) -> Posted | None:
        """Search the channel's history since oldest_ts, page by page, for this delivery key.

        Raises a permanent DeliveryError when the window is longer than HISTORY_PAGES pages:
        the caller must not re-send what it could not rule out.
        """
        target = self.dm_channel(channel) if channel[:1] in ("U", "W") else channel
        cursor: str | None = None
        for _ in range(HISTORY_PAGES):
            kwargs: dict[str, Any] = {"channel": target, "oldest": f"{oldest_ts:.6f}",
                                      "limit": HISTORY_PAGE, "include_all_metadata": True}
            if cursor:
                kwargs["cursor"] = cursor
            resp = self._call("conversations.history", **kwargs)
            for msg in resp.get("messages", []) or []:
                meta = msg.get("metadata") or {}
                if meta.get("event_type") == METADATA_EVENT and \
                        (meta.get("event_payload") or {}).get("key") == key:
                    return Posted(channel=target, ts=str(msg.get("ts", "")))
            cursor = (resp.get("response_metadata") or {}).get("next_cursor") or None
            if not resp.get("has_more") or not cursor:
                return None
        raise DeliveryError(f"history_too_long: more than {HISTORY_PAGES * HISTORY_PAGE} messages "
                            f"to search", permanent=True)


class SlackDirectory:
    """users.info as the member directory."""

    def __init__(self, client: WebClient) -> None:
        self._client = client

    def profile(self, user_id: str) -> Profile | None:
        """Display name and timezone, or None if Slack does not know the user."""
        try:
            resp = self._client.users_info(user=user_id)
        except SlackApiError as e:
            log.warning("users.info %s failed: %s", user_id, _error_of(e))
            return None
        user = resp.get("user") or {}
        prof = user.get("profile") or {}
        name = prof.get("display_name") or prof.get("real_name") or user.get("real_name") \
            or user.get("name") or user_id
        return Profile(name=str(name)[:200], tz=user.get("tz"))
