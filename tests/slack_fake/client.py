"""Sends requests to the bot's POST /slack/events exactly as Slack does, signed with v0.

Slash commands arrive form-encoded; interactivity (buttons, modals, shortcuts) arrives form-encoded
as ``payload=<json>``; the Events API arrives as JSON. Every request carries
``X-Slack-Request-Timestamp`` and ``X-Slack-Signature: v0=<hex HMAC-SHA256 of "v0:{ts}:{body}">``.
"""
from __future__ import annotations

import copy
import hashlib
import hmac
import itertools
import json
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from datetime import time as dtime
from typing import Any
from urllib.parse import urlencode

import requests

from .server import APP_ID, BOT_ID, BOT_USER_ID, TEAM_DOMAIN, TEAM_ID, validate_blocks

DEFAULT_USER = "U0MEMBER1"
DEFAULT_CHANNEL = "C0WGMIGRATE"
DEFAULT_CHANNEL_NAME = "wg-migration"
VERIFICATION_TOKEN = "fAkEvErIfIcAtIoNtOkEn000"
USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"


def sign(signing_secret: str, timestamp: str | int, body: bytes | str) -> str:
    """Slack's v0 request signature: "v0=" + hex HMAC-SHA256 of "v0:{timestamp}:{body}"."""
    raw = body if isinstance(body, bytes) else body.encode("utf-8")
    base = f"v0:{timestamp}:".encode() + raw
    return "v0=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()


# ---------------------------------------------------------------- view state values


def plain_text(value: str | None) -> dict[str, Any]:
    """State of a plain_text_input."""
    return {"type": "plain_text_input", "value": value}


def datepicker(selected: str | date | None) -> dict[str, Any]:
    """State of a datepicker (YYYY-MM-DD)."""
    if isinstance(selected, date):
        selected = selected.isoformat()
    return {"type": "datepicker", "selected_date": selected}


def timepicker(selected: str | dtime | None) -> dict[str, Any]:
    """State of a timepicker (HH:MM)."""
    if isinstance(selected, dtime):
        selected = selected.strftime("%H:%M")
    return {"type": "timepicker", "selected_time": selected}


def users_select(user_id: str | None) -> dict[str, Any]:
    """State of a users_select."""
    return {"type": "users_select", "selected_user": user_id}


def option(value: str, text: str | None = None) -> dict[str, Any]:
    """A Block Kit option object."""
    return {"text": {"type": "plain_text", "text": text or value, "emoji": True}, "value": value}


def static_select(value: str | None, text: str | None = None) -> dict[str, Any]:
    """State of a static_select (selected_option is None when nothing is chosen)."""
    return {"type": "static_select",
            "selected_option": option(value, text) if value is not None else None}


def checkboxes(values: Sequence[str]) -> dict[str, Any]:
    """State of checkboxes."""
    return {"type": "checkboxes", "selected_options": [option(v) for v in values]}


def _element_state(element: Mapping[str, Any], value: Any) -> dict[str, Any]:
    """The state Slack reports for one input element given what the user entered (or kept)."""
    kind = str(element.get("type", "plain_text_input"))
    if kind == "datepicker":
        return datepicker(value)
    if kind == "timepicker":
        return timepicker(value)
    if kind == "users_select":
        return users_select(value)
    if kind in ("static_select", "external_select", "radio_buttons"):
        if value is None:
            return {"type": kind, "selected_option": None}
        text = next((str(o.get("text", {}).get("text")) for o in element.get("options") or []
                     if o.get("value") == value), None)
        return {**static_select(str(value), text), "type": kind}
    if kind == "checkboxes":
        return checkboxes(list(value or []))
    if kind == "multi_users_select":
        return {"type": kind, "selected_users": list(value or [])}
    if kind == "multi_static_select":
        return {"type": kind, "selected_options": [
            next((dict(o) for o in element.get("options") or [] if o.get("value") == v),
                 option(str(v))) for v in value or []]}
    if kind == "conversations_select":
        return {"type": kind, "selected_conversation": value}
    if kind == "channels_select":
        return {"type": kind, "selected_channel": value}
    if kind == "number_input":
        return {"type": kind, "value": None if value is None else str(value)}
    return {"type": kind, "value": value}


def _initial(element: Mapping[str, Any]) -> Any:
    kind = element.get("type")
    if kind == "datepicker":
        return element.get("initial_date")
    if kind == "timepicker":
        return element.get("initial_time")
    if kind == "users_select":
        return element.get("initial_user")
    if kind in ("static_select", "external_select", "radio_buttons"):
        return (element.get("initial_option") or {}).get("value")
    if kind in ("checkboxes", "multi_static_select"):
        return [o.get("value") for o in element.get("initial_options") or []]
    if kind == "multi_users_select":
        return list(element.get("initial_users") or [])
    return element.get("initial_value")


def state_values(values: Mapping[str, Mapping[str, Any]] | None = None, *,
                 blocks: Sequence[Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """view.state.values in Slack's shape {block_id: {action_id: {type, value|selected_...}}}.

    A leaf may be a full state dict (with "type"), or a bare value: with the view's ``blocks``
    the element type decides the shape (str → datepicker for a date picker, etc.) and inputs
    not given keep their initial values, as Slack reports them; without blocks, a str is a
    plain_text_input, a date a datepicker and a time a timepicker.
    """
    given = {bid: dict(actions) for bid, actions in (values or {}).items()}
    out: dict[str, Any] = {}
    for b in blocks or []:
        if b.get("type") != "input" or not isinstance(b.get("element"), Mapping):
            continue
        el = b["element"]
        bid, aid = str(b.get("block_id", "")), str(el.get("action_id", ""))
        if bid in given and aid in given[bid]:
            leaf = given[bid].pop(aid)
            state = leaf if isinstance(leaf, Mapping) and "type" in leaf else \
                _element_state(el, leaf)
        else:
            state = _element_state(el, _initial(el))
        out.setdefault(bid, {})[aid] = dict(state)
    for bid, actions in given.items():
        for aid, leaf in actions.items():
            if isinstance(leaf, Mapping) and "type" in leaf:
                state = dict(leaf)
            elif isinstance(leaf, date):
                state = datepicker(leaf)
            elif isinstance(leaf, dtime):
                state = timepicker(leaf)
            else:
                state = plain_text(None if leaf is None else str(leaf))
            out.setdefault(bid, {})[aid] = state
    return out


def find_action(blocks: Sequence[Mapping[str, Any]], action_id: str,
                value: str | None = None) -> tuple[str, dict[str, Any]] | None:
    """(block_id, element) of the interactive element with this action_id (and value)."""
    for b in blocks:
        candidates: list[Any] = []
        if b.get("type") == "actions":
            candidates = list(b.get("elements") or [])
        elif b.get("accessory") is not None:
            candidates = [b["accessory"]]
        elif b.get("type") == "input" and b.get("element") is not None:
            candidates = [b["element"]]
        for el in candidates:
            if isinstance(el, Mapping) and el.get("action_id") == action_id and \
                    (value is None or el.get("value") == value):
                return str(b.get("block_id", "")), dict(el)
    return None


def _random_block_id() -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(secrets.choice(alphabet) for _ in range(5))


def _channel_name(channel_id: str) -> str:
    if channel_id.startswith("D"):
        return "directmessage"
    if channel_id.startswith("G"):
        return "privategroup"
    return DEFAULT_CHANNEL_NAME if channel_id == DEFAULT_CHANNEL else channel_id.lower()


def _user_name(user_id: str) -> str:
    return (user_id[1:].lstrip("0") or user_id).lower()


class SlackClient:
    """Slack's side of the HTTP interface: commands, interactivity and events, signed."""

    def __init__(self, base_url: str, signing_secret: str, *,
                 response_urls: Callable[[str], str] | None = None, path: str = "/slack/events",
                 team_id: str = TEAM_ID, team_domain: str = TEAM_DOMAIN,
                 api_app_id: str = APP_ID, verification_token: str = VERIFICATION_TOKEN,
                 timeout: float = 30) -> None:
        self.base_url = base_url.rstrip("/")
        self.signing_secret = signing_secret
        self.endpoint = self.base_url + path
        self.team_id = team_id
        self.team_domain = team_domain
        self.api_app_id = api_app_id
        self.verification_token = verification_token
        self.timeout = timeout
        self._response_urls = response_urls
        self._counter = itertools.count(1)
        self._session = requests.Session()
        self.last_body: bytes = b""
        self.last_payload: dict[str, Any] = {}
        self.last_response_url: str | None = None
        self.last_trigger_id: str | None = None

    # ------------------------------------------------------------------ plumbing

    def close(self) -> None:
        """Close the pooled HTTP connections."""
        self._session.close()

    def new_trigger_id(self) -> str:
        """A fresh trigger_id in Slack's format."""
        return f"{int(time.time())}{next(self._counter):03d}.{TEAM_ID[1:]}{secrets.randbelow(10**9)}" \
               f".{secrets.token_hex(16)}"

    def new_response_url(self, kind: str) -> str:
        """A response_url (served by the fake when the client has one)."""
        name = f"{kind}-{next(self._counter)}-{secrets.token_hex(4)}"
        if self._response_urls is not None:
            return self._response_urls(name)
        return f"http://127.0.0.1:9/response/{name}"  # discard port: nobody is listening

    def signed_headers(self, body: bytes, *, content_type: str, age: int = 0,
                       bad_signature: bool = False, unsigned: bool = False) -> dict[str, str]:
        """The headers Slack sends with a body (timestamp `age` seconds old; optionally forged)."""
        ts = str(int(time.time()) - age)
        headers = {"Content-Type": content_type, "User-Agent": USER_AGENT,
                   "Accept": "application/json,*/*", "Accept-Encoding": "gzip,deflate"}
        if not unsigned:
            secret = self.signing_secret + "-wrong" if bad_signature else self.signing_secret
            headers["X-Slack-Request-Timestamp"] = ts
            headers["X-Slack-Signature"] = sign(secret, ts, body)
        return headers

    def post(self, body: bytes, *, content_type: str, headers: Mapping[str, str] | None = None,
             age: int = 0, bad_signature: bool = False, unsigned: bool = False,
             timeout: float | None = None) -> requests.Response:
        """POST a raw body to /slack/events with Slack's headers and signature."""
        all_headers = self.signed_headers(body, content_type=content_type, age=age,
                                          bad_signature=bad_signature, unsigned=unsigned)
        all_headers.update(headers or {})
        self.last_body = body
        return self._session.post(self.endpoint, data=body, headers=all_headers,
                                  timeout=timeout or self.timeout)

    def _form(self, fields: Mapping[str, str], **send: Any) -> requests.Response:
        body = urlencode(list(fields.items())).encode()
        return self.post(body, content_type="application/x-www-form-urlencoded", **send)

    def _interactive(self, payload: dict[str, Any], *, age: int = 0, bad_signature: bool = False,
                     unsigned: bool = False) -> requests.Response:
        self.last_payload = payload
        return self._form({"payload": json.dumps(payload, separators=(",", ":"))}, age=age,
                          bad_signature=bad_signature, unsigned=unsigned)

    def _user(self, user_id: str, user_name: str | None) -> dict[str, Any]:
        name = user_name or _user_name(user_id)
        return {"id": user_id, "username": name, "name": name, "team_id": self.team_id}

    def _team(self) -> dict[str, Any]:
        return {"id": self.team_id, "domain": self.team_domain}

    def _trigger(self, trigger_id: str | None) -> str:
        self.last_trigger_id = trigger_id or self.new_trigger_id()
        return self.last_trigger_id

    def _response_url(self, response_url: str | None, kind: str) -> str:
        self.last_response_url = response_url or self.new_response_url(kind)
        return self.last_response_url

    # ------------------------------------------------------------------ slash commands

    def command(self, text: str, user_id: str = DEFAULT_USER, user_name: str | None = None,
                command: str = "/wg", channel_id: str = DEFAULT_CHANNEL,
                response_url: str | None = None, team_id: str | None = None,
                trigger_id: str | None = None, *, channel_name: str | None = None,
                age: int = 0, bad_signature: bool = False, unsigned: bool = False
                ) -> requests.Response:
        """A slash command invocation, form-encoded with every field Slack sends."""
        fields = {
            "token": self.verification_token,
            "team_id": team_id or self.team_id,
            "team_domain": self.team_domain,
            "channel_id": channel_id,
            "channel_name": channel_name or _channel_name(channel_id),
            "user_id": user_id,
            "user_name": user_name or _user_name(user_id),
            "command": command,
            "text": text,
            "api_app_id": self.api_app_id,
            "is_enterprise_install": "false",
            "response_url": self._response_url(response_url, "command"),
            "trigger_id": self._trigger(trigger_id),
        }
        self.last_payload = dict(fields)
        return self._form(fields, age=age, bad_signature=bad_signature, unsigned=unsigned)

    # ------------------------------------------------------------------ interactivity

    def block_action(self, action_id: str, value: str | None = None,
                     user_id: str = DEFAULT_USER, *, user_name: str | None = None,
                     channel_id: str = DEFAULT_CHANNEL, message: Mapping[str, Any] | None = None,
                     blocks: Sequence[Mapping[str, Any]] | None = None,
                     message_ts: str | None = None, container: Mapping[str, Any] | None = None,
                     view: Mapping[str, Any] | None = None, response_url: str | None = None,
                     block_id: str | None = None, action_type: str | None = None,
                     selected_date: str | None = None, selected_time: str | None = None,
                     selected_user: str | None = None, selected_option: str | None = None,
                     text: str | None = None, trigger_id: str | None = None,
                     age: int = 0, bad_signature: bool = False, unsigned: bool = False
                     ) -> requests.Response:
        """A click (or pick) on an interactive element, in Slack's block_actions shape.

        Where the element sat decides the shape: ``view`` (a modal or App Home view) → a view
        container, no channel/response_url; ``message`` (a normal message, e.g. a
        chat.postMessage ``response["message"]``) → a message container with the message;
        otherwise an ephemeral message (e.g. a slash command's reply; pass its ``blocks`` so
        block_id, value and type are taken from the button) → no ``message`` in the payload, as
        Slack sends it. block_id/value/type default from the element found in the blocks.
        """
        source = list((view or {}).get("blocks") or (message or {}).get("blocks") or blocks or [])
        found = find_action(source, action_id, value) or find_action(source, action_id)
        element = found[1] if found else {}
        kind = action_type or str(element.get("type") or "button")
        action: dict[str, Any] = {
            "action_id": action_id,
            # Slack gives blocks sent without a block_id a random one
            "block_id": block_id or (found[0] if found and found[0] else _random_block_id()),
            "type": kind,
            "action_ts": f"{time.time():.6f}",
        }
        if kind == "button":
            label = text or (element.get("text") or {}).get("text") or action_id
            action["text"] = {"type": "plain_text", "text": label, "emoji": True}
            action["value"] = value if value is not None else element.get("value", "")
            if element.get("style"):
                action["style"] = element["style"]
        elif kind == "datepicker":
            action["selected_date"] = selected_date or value
            if element.get("initial_date"):
                action["initial_date"] = element["initial_date"]
        elif kind == "timepicker":
            action["selected_time"] = selected_time or value
        elif kind == "users_select":
            action["selected_user"] = selected_user or value
        elif kind in ("static_select", "overflow", "radio_buttons", "external_select"):
            chosen = selected_option or value
            options = element.get("options") or []
            picked = next((dict(o) for o in options if o.get("value") == chosen), None)
            action["selected_option"] = picked or option(str(chosen))
        elif value is not None:
            action["value"] = value

        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": self._user(user_id, user_name),
            "api_app_id": self.api_app_id,
            "token": self.verification_token,
        }
        if view is not None:
            payload["container"] = dict(container or {"type": "view",
                                                      "view_id": view.get("id", "")})
            payload["trigger_id"] = self._trigger(trigger_id)
            payload["team"] = self._team()
            payload["enterprise"] = None
            payload["is_enterprise_install"] = False
            view_payload = copy.deepcopy(dict(view))
            view_payload.setdefault("state", {"values": state_values(
                blocks=view_payload.get("blocks"))})
            payload["view"] = view_payload
            payload["state"] = view_payload["state"]
        else:
            ts = message_ts or (message or {}).get("ts") or f"{time.time():.6f}"
            payload["container"] = dict(container or {
                "type": "message", "message_ts": ts, "channel_id": channel_id,
                "is_ephemeral": message is None})
            payload["trigger_id"] = self._trigger(trigger_id)
            payload["team"] = self._team()
            payload["enterprise"] = None
            payload["is_enterprise_install"] = False
            payload["channel"] = {"id": channel_id, "name": _channel_name(channel_id)}
            if message is not None:
                payload["message"] = copy.deepcopy(dict(message))
            payload["state"] = {"values": {}}
            payload["response_url"] = self._response_url(response_url, "action")
        payload["actions"] = [action]
        return self._interactive(payload, age=age, bad_signature=bad_signature,
                                 unsigned=unsigned)

    def view_submission(self, callback_id: str | None = None,
                        values: Mapping[str, Mapping[str, Any]] | None = None,
                        user_id: str = DEFAULT_USER, private_metadata: str | None = None,
                        view_id: str | None = None, *, view: Mapping[str, Any] | None = None,
                        user_name: str | None = None, trigger_id: str | None = None,
                        response_urls: Sequence[Mapping[str, Any]] = (),
                        age: int = 0, bad_signature: bool = False, unsigned: bool = False
                        ) -> requests.Response:
        """A modal's Submit, in Slack's view_submission shape.

        Pass the ``view`` as it was opened (e.g. ``fake.wait_for("views.open")[-1]
        .response["view"]``) to take callback_id, private_metadata, blocks and the unchanged
        inputs' initial values from it; ``values`` overrides inputs (see state_values).
        """
        base = copy.deepcopy(dict(view or {}))
        blocks = base.get("blocks") or []
        vid = view_id or base.get("id") or f"V0{next(self._counter):08d}"
        payload_view = {
            "id": vid, "team_id": self.team_id, "type": base.get("type", "modal"),
            "blocks": blocks,
            "private_metadata": private_metadata if private_metadata is not None
            else base.get("private_metadata", ""),
            "callback_id": callback_id or base.get("callback_id", ""),
            "state": {"values": state_values(values, blocks=blocks)},
            "hash": base.get("hash") or f"{int(time.time())}.{secrets.token_hex(4)}",
            "title": base.get("title") or {"type": "plain_text", "text": "Modal", "emoji": True},
            "clear_on_close": base.get("clear_on_close", False),
            "notify_on_close": base.get("notify_on_close", False),
            "close": base.get("close"), "submit": base.get("submit"),
            "previous_view_id": base.get("previous_view_id"),
            "root_view_id": base.get("root_view_id") or vid, "app_id": self.api_app_id,
            "external_id": base.get("external_id", ""), "app_installed_team_id": self.team_id,
            "bot_id": BOT_ID,
        }
        payload = {
            "type": "view_submission",
            "team": self._team(),
            "user": self._user(user_id, user_name),
            "api_app_id": self.api_app_id,
            "token": self.verification_token,
            "trigger_id": self._trigger(trigger_id),
            "view": payload_view,
            "response_urls": [dict(r) for r in response_urls],
            "is_enterprise_install": False,
            "enterprise": None,
        }
        return self._interactive(payload, age=age, bad_signature=bad_signature,
                                 unsigned=unsigned)

    def view_closed(self, callback_id: str | None = None, user_id: str = DEFAULT_USER, *,
                    view: Mapping[str, Any] | None = None, private_metadata: str | None = None,
                    age: int = 0, bad_signature: bool = False) -> requests.Response:
        """A modal's Cancel/close (sent only when the view has notify_on_close)."""
        base = copy.deepcopy(dict(view or {}))
        vid = base.get("id") or f"V0{next(self._counter):08d}"
        payload = {
            "type": "view_closed", "team": self._team(), "user": self._user(user_id, None),
            "api_app_id": self.api_app_id, "token": self.verification_token,
            "view": {**base, "id": vid, "callback_id": callback_id or base.get("callback_id", ""),
                     "private_metadata": private_metadata if private_metadata is not None
                     else base.get("private_metadata", ""),
                     "state": {"values": state_values(blocks=base.get("blocks") or [])}},
            "is_cleared": False, "is_enterprise_install": False, "enterprise": None,
        }
        return self._interactive(payload, age=age, bad_signature=bad_signature)

    def message_shortcut(self, callback_id: str, message_text: str,
                         user_id: str = DEFAULT_USER, channel_id: str = DEFAULT_CHANNEL,
                         message_ts: str | None = None, *, message_user: str = "U0AUTHOR",
                         message: Mapping[str, Any] | None = None, user_name: str | None = None,
                         response_url: str | None = None, trigger_id: str | None = None,
                         age: int = 0, bad_signature: bool = False, unsigned: bool = False
                         ) -> requests.Response:
        """A message shortcut (message_action) on a message in a channel."""
        ts = message_ts or (message or {}).get("ts") or f"{time.time():.6f}"
        msg = copy.deepcopy(dict(message)) if message is not None else {
            "type": "message", "user": message_user, "ts": ts, "text": message_text,
            "team": self.team_id,
            "blocks": [{"type": "rich_text", "block_id": _random_block_id(), "elements": [
                {"type": "rich_text_section",
                 "elements": [{"type": "text", "text": message_text}]}]}],
        }
        payload = {
            "type": "message_action",
            "token": self.verification_token,
            "action_ts": f"{time.time():.6f}",
            "team": self._team(),
            "user": self._user(user_id, user_name),
            "channel": {"id": channel_id, "name": _channel_name(channel_id)},
            "is_enterprise_install": False,
            "enterprise": None,
            "callback_id": callback_id,
            "trigger_id": self._trigger(trigger_id),
            "response_url": self._response_url(response_url, "shortcut"),
            "message_ts": ts,
            "message": msg,
        }
        return self._interactive(payload, age=age, bad_signature=bad_signature,
                                 unsigned=unsigned)

    def shortcut(self, callback_id: str, user_id: str = DEFAULT_USER, *,
                 user_name: str | None = None, trigger_id: str | None = None,
                 age: int = 0, bad_signature: bool = False, unsigned: bool = False
                 ) -> requests.Response:
        """A global shortcut (type "shortcut")."""
        payload = {
            "type": "shortcut",
            "token": self.verification_token,
            "action_ts": f"{time.time():.6f}",
            "team": self._team(),
            "user": {"id": user_id, "username": user_name or _user_name(user_id),
                     "team_id": self.team_id},
            "is_enterprise_install": False,
            "enterprise": None,
            "callback_id": callback_id,
            "trigger_id": self._trigger(trigger_id),
        }
        return self._interactive(payload, age=age, bad_signature=bad_signature,
                                 unsigned=unsigned)

    # ------------------------------------------------------------------ Events API

    def event_envelope(self, event: Mapping[str, Any], *, event_id: str | None = None,
                       event_time: int | None = None) -> dict[str, Any]:
        """The event_callback body Slack wraps an event in."""
        now = int(time.time())
        return {
            "token": self.verification_token,
            "team_id": self.team_id,
            "context_team_id": self.team_id,
            "context_enterprise_id": None,
            "api_app_id": self.api_app_id,
            "event": dict(event),
            "type": "event_callback",
            "event_id": event_id or f"Ev{secrets.token_hex(5).upper()}",
            "event_time": event_time or now,
            "authorizations": [{"enterprise_id": None, "team_id": self.team_id,
                                "user_id": BOT_USER_ID, "is_bot": True,
                                "is_enterprise_install": False}],
            "is_ext_shared_channel": False,
            "event_context": f"4-{secrets.token_urlsafe(24)}",
        }

    def event(self, event: Mapping[str, Any], retry_num: int | None = None,
              retry_reason: str | None = None, event_id: str | None = None, *,
              age: int = 0, bad_signature: bool = False, unsigned: bool = False
              ) -> requests.Response:
        """An Events API delivery (JSON event_callback); retries carry X-Slack-Retry-* headers."""
        body = self.event_envelope(event, event_id=event_id)
        self.last_payload = body
        headers: dict[str, str] = {}
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = retry_reason or "http_timeout"
        raw = json.dumps(body, separators=(",", ":")).encode()
        return self.post(raw, content_type="application/json", headers=headers, age=age,
                         bad_signature=bad_signature, unsigned=unsigned)

    def app_home_opened(self, user_id: str = DEFAULT_USER, tab: str = "home", *,
                        view: Mapping[str, Any] | None = None, event_id: str | None = None,
                        retry_num: int | None = None, retry_reason: str | None = None
                        ) -> requests.Response:
        """The app_home_opened event for a user's App Home tab."""
        event: dict[str, Any] = {"type": "app_home_opened", "user": user_id,
                                 "channel": "D" + user_id[1:], "tab": tab,
                                 "event_ts": f"{time.time():.6f}"}
        if view is not None:
            event["view"] = dict(view)
        return self.event(event, retry_num=retry_num, retry_reason=retry_reason,
                          event_id=event_id)

    def url_verification(self, challenge: str, *, age: int = 0,
                         bad_signature: bool = False) -> requests.Response:
        """Slack's one-time Request URL check; the app must echo the challenge."""
        body = {"token": self.verification_token, "challenge": challenge,
                "type": "url_verification"}
        self.last_payload = body
        return self.post(json.dumps(body).encode(), content_type="application/json", age=age,
                         bad_signature=bad_signature)

    def ssl_check(self) -> requests.Response:
        """Slack's SSL check for slash command URLs (form-encoded ssl_check=1)."""
        return self._form({"ssl_check": "1", "token": self.verification_token})


# ---------------------------------------------------------------- reading the bot's answers


def reply_body(resp: Any) -> dict[str, Any]:
    """The JSON answer to a slash command: 200, valid blocks, under Slack's size limits."""
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    assert validate_blocks(body.get("blocks", []), max_blocks=50) == []
    assert len(json.dumps(body["blocks"])) < 12000
    return body


def reply_text(body: dict[str, Any]) -> str:
    """Every text a reply shows: sections, fields and context elements, one per line."""
    out = []
    for b in body.get("blocks", []):
        if isinstance(b.get("text"), dict):
            out.append(b["text"]["text"])
        for f in b.get("fields", []) or []:
            out.append(f["text"])
        for e in b.get("elements", []) or []:
            if isinstance(e, dict) and "text" in e:
                t = e["text"]
                out.append(t["text"] if isinstance(t, dict) else t)
    return "\n".join(out)
