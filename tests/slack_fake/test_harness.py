"""Tests of the Slack test harness itself: the fake Web API, the signing client, BotProcess."""
from __future__ import annotations

import json
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
import requests
from slack_bolt import Ack, App, Respond
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient

from tests.slack_fake import (
    BotProcess,
    FakeSlack,
    SlackClient,
    datepicker,
    free_port,
    sign,
    state_values,
)

SECRET = "harness-secret"


@pytest.fixture()
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as f:
        yield f


@pytest.fixture()
def web(fake: FakeSlack) -> WebClient:
    return WebClient(base_url=fake.url, token="xoxb-x", retry_handlers=[])


# ---------------------------------------------------------------------------- FakeSlack


def test_url_joins_like_slack_sdk(fake: FakeSlack, web: WebClient) -> None:
    assert fake.url.endswith("/api/") and fake.url.startswith("http://127.0.0.1:")
    web.auth_test()
    call = fake.calls()[0]
    assert call.method == "auth.test" and call.token == "xoxb-x"
    assert call.headers["authorization"] == "Bearer xoxb-x"


def test_auth_test(web: WebClient) -> None:
    resp = web.auth_test()
    assert resp["user_id"] == "UBOT" and resp["bot_id"] == "BBOT" and resp["team_id"] == "T0WG"
    assert resp["team"] and resp["url"]


def test_post_message_to_channel_and_user(fake: FakeSlack, web: WebClient) -> None:
    first = web.chat_postMessage(channel="C0WGMIGRATE", text="hello",
                                 blocks=[{"type": "section",
                                          "text": {"type": "mrkdwn", "text": "*hi*"}}])
    second = web.chat_postMessage(channel="U0ANNA", text="dm")
    assert first["channel"] == "C0WGMIGRATE"
    assert second["channel"] == "D0ANNA"
    assert float(second["ts"]) > float(first["ts"])
    assert first["message"]["text"] == "hello"
    assert first["message"]["blocks"][0]["text"]["text"] == "*hi*"
    assert [c.params["text"] for c in fake.messages()] == ["hello", "dm"]
    assert [c.params["text"] for c in fake.messages("U0ANNA")] == ["dm"]
    assert [c.params["text"] for c in fake.messages("D0ANNA")] == ["dm"]
    assert fake.messages("C0WGMIGRATE")[0].params["blocks"][0]["type"] == "section"


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
def test_post_message_errors_like_slack(fake: FakeSlack, web: WebClient) -> None:
    with pytest.raises(SlackApiError) as e:
        web.chat_postMessage(channel="C1", text="")
    assert e.value.response["error"] == "no_text"
    with pytest.raises(SlackApiError) as e:
        web.chat_postMessage(channel="C1", text="x", blocks=[
            {"type": "section", "text": {"type": "mrkdwn", "text": "y" * 3001}}])
    assert e.value.response["error"] == "invalid_blocks"
    assert "3001" in e.value.response["errors"][0]
    assert fake.messages() == []
    assert [c.error for c in fake.calls("chat.postMessage")] == ["no_text", "invalid_blocks"]


def test_missing_token_is_not_authed(fake: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as e:
        WebClient(base_url=fake.url, retry_handlers=[]).auth_test()
    assert e.value.response["error"] == "not_authed"


def test_history_with_metadata(fake: FakeSlack, web: WebClient) -> None:
    before = time.time() - 1
    web.chat_postMessage(channel="C9", text="one",
                         metadata={"event_type": "wgbot_delivery", "event_payload": {"key": "a"}})
    web.chat_postMessage(channel="C9", text="two")
    web.chat_postMessage(channel="C8", text="elsewhere")
    hist = web.conversations_history(channel="C9", oldest=f"{before:.6f}", limit=200,
                                     include_all_metadata=True)
    assert [m["text"] for m in hist["messages"]] == ["two", "one"]
    assert hist["messages"][1]["metadata"] == {"event_type": "wgbot_delivery",
                                               "event_payload": {"key": "a"}}
    plain = web.conversations_history(channel="C9")
    assert all("metadata" not in m for m in plain["messages"])
    newest = hist["messages"][0]["ts"]
    assert web.conversations_history(channel="C9", oldest=newest)["messages"] == []
    page = web.conversations_history(channel="C9", limit=1)
    assert page["has_more"] and [m["text"] for m in page["messages"]] == ["two"]
    rest = web.conversations_history(channel="C9", limit=1,
                                     cursor=page["response_metadata"]["next_cursor"])
    assert [m["text"] for m in rest["messages"]] == ["one"]


def test_update_delete_ephemeral(fake: FakeSlack, web: WebClient) -> None:
    posted = web.chat_postMessage(channel="C1", text="v1")
    updated = web.chat_update(channel="C1", ts=posted["ts"], text="v2")
    assert updated["ts"] == posted["ts"] and updated["channel"] == "C1"
    assert fake.history("C1")[0]["text"] == "v2"
    eph = web.chat_postEphemeral(channel="C1", user="U0ANNA", text="psst")
    assert eph["message_ts"]
    assert web.chat_delete(channel="C1", ts=posted["ts"])["ts"] == posted["ts"]
    assert fake.history("C1") == []
    with pytest.raises(SlackApiError) as e:
        web.chat_update(channel="C1", ts=posted["ts"], text="v3")
    assert e.value.response["error"] == "message_not_found"


def test_conversations_open_and_users_info(fake: FakeSlack, web: WebClient) -> None:
    assert web.conversations_open(users="U0ANNA")["channel"]["id"] == "D0ANNA"
    assert web.conversations_open(users="U0ANNA")["already_open"] is True
    user = web.users_info(user="U0MEMBER1")["user"]
    assert user["id"] == "U0MEMBER1" and user["name"] == "member1"
    assert user["tz"] == "Europe/Vienna" and user["tz_offset"] in (3600, 7200)
    assert user["profile"]["display_name"] and user["profile"]["real_name"]
    fake.set_user("U0BOB", name="bob", real_name="Bob Builder", tz="America/New_York")
    bob = web.users_info(user="U0BOB")["user"]
    assert bob["real_name"] == "Bob Builder" and bob["tz"] == "America/New_York"
    assert bob["tz_offset"] in (-18000, -14400)
    fake.remove_user("U0GONE")
    with pytest.raises(SlackApiError) as e:
        web.users_info(user="U0GONE")
    assert e.value.response["error"] == "user_not_found"


def test_views(fake: FakeSlack, web: WebClient) -> None:
    modal = {"type": "modal", "callback_id": "cb", "private_metadata": "{}",
             "title": {"type": "plain_text", "text": "Move"},
             "submit": {"type": "plain_text", "text": "Go"},
             "blocks": [{"type": "input", "block_id": "due_date",
                         "label": {"type": "plain_text", "text": "Due"},
                         "element": {"type": "datepicker", "action_id": "date",
                                     "initial_date": "2024-06-30"}}]}
    opened = web.views_open(trigger_id="123.456.abc", view=modal)["view"]
    assert opened["id"].startswith("V") and opened["callback_id"] == "cb"
    assert (fake.view(opened["id"]) or {})["private_metadata"] == "{}"
    updated = web.views_update(view_id=opened["id"], view={**modal, "callback_id": "cb2"})
    assert updated["view"]["id"] == opened["id"]
    pushed = web.views_push(trigger_id="1.2.3", view=modal)["view"]
    assert pushed["id"] != opened["id"]
    home = web.views_publish(user_id="U0ANNA", view={"type": "home", "blocks": []})["view"]
    assert (fake.home_view("U0ANNA") or {})["id"] == home["id"]
    with pytest.raises(SlackApiError) as e:
        web.views_open(trigger_id="1.2.3", view={**modal, "title": {"type": "plain_text",
                                                                     "text": "x" * 25}})
    assert e.value.response["error"] == "invalid_arguments"


def test_files_upload_v2(fake: FakeSlack, web: WebClient) -> None:
    dm = web.conversations_open(users="U0ANNA")["channel"]["id"]
    resp = web.files_upload_v2(content="a,b\n1,2\n", filename="commitments.csv", channel=dm,
                               title="Your commitments", initial_comment="Here you go")
    assert resp["file"]["title"] == "Your commitments"
    assert [c.method for c in fake.calls()][-3:] == [
        "files.getUploadURLExternal", "upload", "files.completeUploadExternal"]
    (f,) = fake.uploaded_files()
    assert (f.filename, f.title, f.content, f.channel_id, f.initial_comment) == (
        "commitments.csv", "Your commitments", b"a,b\n1,2\n", "D0ANNA", "Here you go")
    assert fake.calls("upload")[0].response == "OK - 8"
    assert fake.history("U0ANNA")[-1]["files"][0]["id"] == f.file_id


def test_upload_failure_surfaces(fake: FakeSlack, web: WebClient) -> None:
    fake.server_error("upload", times=1, status=500)
    with pytest.raises(HTTPError):
        web.files_upload_v2(content=b"x", filename="x.txt", channel="C1")
    assert fake.uploaded_files() == []


def test_response_url(fake: FakeSlack) -> None:
    url = fake.response_url("cmd-1")
    assert url.endswith("/response/cmd-1")
    WebhookClient(url).send_dict({"text": "done", "replace_original": True})
    (call,) = fake.responses("cmd-1")
    assert call.method == "response_url" and call.token == "cmd-1"
    assert call.params == {"text": "done", "replace_original": True}


def test_fail_injection(fake: FakeSlack, web: WebClient) -> None:
    fake.fail("chat.postMessage", error="channel_not_found", times=1)
    with pytest.raises(SlackApiError) as e:
        web.chat_postMessage(channel="C1", text="x")
    assert e.value.response.status_code == 200
    assert e.value.response["error"] == "channel_not_found"
    assert web.chat_postMessage(channel="C1", text="x")["ok"]
    fake.fail("chat.postMessage", error="is_archived")
    for _ in range(3):
        with pytest.raises(SlackApiError):
            web.chat_postMessage(channel="C1", text="x")
    fake.clear_faults()
    assert web.chat_postMessage(channel="C1", text="x")["ok"]
    assert len(fake.messages()) == 2


def test_rate_limit_retried_by_web_client(fake: FakeSlack) -> None:
    client = WebClient(base_url=fake.url, token="xoxb-x", retry_handlers=[])
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=2))
    fake.rate_limit("chat.postMessage", every=1, retry_after=0, times=1)
    assert client.chat_postMessage(channel="C1", text="x")["ok"]
    statuses = [c.status for c in fake.calls("chat.postMessage")]
    assert statuses == [429, 200]
    assert fake.calls("chat.postMessage")[0].response["error"] == "ratelimited"
    assert len(fake.messages()) == 1


def test_rate_limit_every_nth_and_headers(fake: FakeSlack) -> None:
    fake.rate_limit(None, every=3, retry_after=7)
    statuses = []
    for _ in range(6):
        r = requests.post(fake.url + "auth.test", data={"token": "xoxb-x"}, timeout=5)
        statuses.append(r.status_code)
        if r.status_code == 429:
            assert r.headers["Retry-After"] == "7"
            assert r.json() == {"ok": False, "error": "ratelimited"}
    assert statuses == [200, 200, 429, 200, 200, 429]


def test_server_error_retried(fake: FakeSlack) -> None:
    client = WebClient(base_url=fake.url, token="xoxb-x",
                       retry_handlers=[ServerErrorRetryHandler(max_retry_count=2)])
    fake.server_error("users.info", times=1, status=503)
    assert client.users_info(user="U0ANNA")["ok"]
    assert [c.status for c in fake.calls("users.info")] == [503, 200]


def test_delay(fake: FakeSlack, web: WebClient) -> None:
    fake.delay("auth.test", 0.3)
    start = time.monotonic()
    web.auth_test()
    assert time.monotonic() - start >= 0.3


def test_get_form_and_json_bodies(fake: FakeSlack) -> None:
    requests.get(fake.url + "users.info", params={"user": "U0ANNA", "token": "xoxb-x"}, timeout=5)
    requests.post(fake.url + "chat.postMessage", timeout=5,
                  data={"channel": "C1", "text": "t", "blocks": json.dumps([{"type": "divider"}])},
                  headers={"Authorization": "Bearer xoxb-x"})
    requests.post(fake.url + "chat.postMessage", json={"channel": "C1", "text": "j"}, timeout=5,
                  headers={"Authorization": "Bearer xoxb-x"})
    info, form, js = fake.calls()
    assert info.params["user"] == "U0ANNA" and info.ok
    assert form.params["blocks"] == [{"type": "divider"}] and form.ok
    assert js.params["text"] == "j" and js.ok


def test_wait_for_and_reset(fake: FakeSlack, web: WebClient) -> None:
    threading.Timer(0.2, lambda: web.chat_postMessage(channel="C1", text="later")).start()
    (call,) = fake.wait_for("chat.postMessage", timeout=5)
    assert call.params["text"] == "later"
    with pytest.raises(AssertionError, match=r"chat\.postMessage"):
        fake.wait_for("chat.postMessage", count=2, timeout=0.2)
    fake.assert_no_call("views.open", within=0.1)
    fake.reset()
    assert fake.calls() == [] and fake.history("C1") == []


def test_concurrent_calls_are_all_recorded(fake: FakeSlack) -> None:
    def post(i: int) -> None:
        WebClient(base_url=fake.url, token="xoxb-x").chat_postMessage(channel="C1", text=str(i))

    threads = [threading.Thread(target=post, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    msgs = fake.messages("C1")
    assert len(msgs) == 40
    assert len({c.response["ts"] for c in msgs}) == 40


# ---------------------------------------------------------------------------- SlackClient


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class _ThreadedWSGIServer(WSGIServer):
    daemon_threads = True


def _bolt_app(fake: FakeSlack) -> App:
    """A tiny Bolt app (not the bot) to prove Bolt accepts the client's requests."""
    app = App(signing_secret=SECRET, client=WebClient(base_url=fake.url, token="xoxb-x"),
              token_verification_enabled=False)

    @app.command("/wg")
    def on_command(ack: Ack, command: dict[str, Any]) -> None:
        ack(response_type="ephemeral", text=f"{command['user_id']}:{command['text']}")

    @app.action("wg_done")
    def on_done(ack: Ack, action: dict[str, Any], body: dict[str, Any], respond: Respond) -> None:
        ack()
        respond(text=f"done {action['value']} in {body['channel']['id']}",
                replace_original=True)

    @app.action("date")
    def on_date(ack: Ack, action: dict[str, Any]) -> None:
        ack()

    @app.view("cb")
    def on_view(ack: Ack, view: dict[str, Any]) -> None:
        values = view["state"]["values"]
        ack(response_action="errors",
            errors={"due_date": f"{values['due_date']['date']['selected_date']}|"
                                f"{values['due_time']['time']['selected_time']}|"
                                f"{view['private_metadata']}"})

    @app.shortcut("record")
    def on_shortcut(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        client.views_open(trigger_id=body["trigger_id"], view={
            "type": "modal", "title": {"type": "plain_text", "text": body["message"]["text"]},
            "blocks": []})

    @app.shortcut({"type": "shortcut", "callback_id": "new"})
    def on_global(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        client.views_open(trigger_id=body["trigger_id"], view={
            "type": "modal", "title": {"type": "plain_text", "text": body["user"]["id"]},
            "blocks": []})

    @app.event("app_home_opened")
    def on_home(event: dict[str, Any], client: WebClient) -> None:
        client.views_publish(user_id=event["user"], view={"type": "home", "blocks": []})

    return app


@pytest.fixture()
def bolt(fake: FakeSlack) -> Iterator[SlackClient]:
    handler = SlackRequestHandler(_bolt_app(fake))
    server = make_server("127.0.0.1", 0, handler, server_class=_ThreadedWSGIServer,
                         handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    client = SlackClient(f"http://127.0.0.1:{server.server_port}", SECRET,
                         response_urls=fake.response_url)
    try:
        yield client
    finally:
        client.close()
        server.shutdown()
        server.server_close()


def test_signature_verifies_with_slack_sdk() -> None:
    client = SlackClient("http://127.0.0.1:1", SECRET)
    body = b"token=x&text=hello+world"
    headers = client.signed_headers(body, content_type="application/x-www-form-urlencoded")
    verifier = SignatureVerifier(SECRET)
    assert verifier.is_valid_request(body, headers)
    assert verifier.is_valid(body, headers["X-Slack-Request-Timestamp"],
                             headers["X-Slack-Signature"])
    assert headers["X-Slack-Signature"] == sign(SECRET, headers["X-Slack-Request-Timestamp"], body)
    bad = client.signed_headers(body, content_type="x", bad_signature=True)
    assert not verifier.is_valid_request(body, bad)
    old = client.signed_headers(body, content_type="x", age=600)
    assert not verifier.is_valid_request(body, old)


def test_command_fields_like_slack(bolt: SlackClient) -> None:
    r = bolt.command("list", user_id="U0ANNA")
    assert r.status_code == 200 and r.json()["text"] == "U0ANNA:list"
    fields = parse_qs(bolt.last_body.decode())
    assert set(fields) >= {"token", "team_id", "team_domain", "channel_id", "channel_name",
                           "user_id", "user_name", "command", "text", "api_app_id",
                           "is_enterprise_install", "response_url", "trigger_id"}
    assert fields["response_url"] == [bolt.last_response_url]


def test_bad_signature_and_stale_timestamp_are_rejected(bolt: SlackClient) -> None:
    assert bolt.command("list", bad_signature=True).status_code == 401
    assert bolt.command("list", age=6 * 60).status_code == 401
    assert bolt.command("list", unsigned=True).status_code == 401
    assert bolt.command("list", age=60).status_code == 200


def test_block_action_respond_goes_to_fake(bolt: SlackClient, fake: FakeSlack) -> None:
    blocks = [{"type": "actions", "block_id": "b1", "elements": [
        {"type": "button", "action_id": "wg_done", "value": "12",
         "text": {"type": "plain_text", "text": "Done"}}]}]
    r = bolt.block_action("wg_done", blocks=blocks)
    assert r.status_code == 200
    action = bolt.last_payload["actions"][0]
    assert action["block_id"] == "b1" and action["value"] == "12"
    assert bolt.last_payload["container"]["is_ephemeral"] is True
    assert "message" not in bolt.last_payload
    (resp,) = fake.wait_for("response_url", timeout=5)
    assert resp.params["text"] == "done 12 in C0WGMIGRATE"
    assert resp.params["replace_original"] is True


def test_block_action_on_posted_message(bolt: SlackClient, fake: FakeSlack,
                                        web: WebClient) -> None:
    posted = web.chat_postMessage(channel="C0WGMIGRATE", text="x", blocks=[
        {"type": "section", "block_id": "s", "text": {"type": "mrkdwn", "text": "x"},
         "accessory": {"type": "button", "action_id": "wg_done", "value": "7",
                       "text": {"type": "plain_text", "text": "Done"}}}])
    assert bolt.block_action("wg_done", message=posted["message"]).status_code == 200
    assert bolt.last_payload["message"]["ts"] == posted["ts"]
    assert bolt.last_payload["container"]["message_ts"] == posted["ts"]
    fake.wait_for("response_url", predicate=lambda c: c.params["text"].startswith("done 7"))


def test_block_action_in_a_view(bolt: SlackClient) -> None:
    view = {"id": "V1", "type": "modal", "blocks": [
        {"type": "input", "block_id": "due_date", "label": {"type": "plain_text", "text": "D"},
         "element": {"type": "datepicker", "action_id": "date", "initial_date": "2024-06-30"}}]}
    assert bolt.block_action("date", "2024-07-01", view=view).status_code == 200
    payload = bolt.last_payload
    assert payload["container"] == {"type": "view", "view_id": "V1"}
    assert payload["actions"][0]["selected_date"] == "2024-07-01"
    assert "response_url" not in payload and "channel" not in payload


def test_view_submission_keeps_initial_values(bolt: SlackClient) -> None:
    view = {"id": "V9", "type": "modal", "callback_id": "cb", "private_metadata": '{"id": 3}',
            "blocks": [
                {"type": "input", "block_id": "due_date",
                 "label": {"type": "plain_text", "text": "D"},
                 "element": {"type": "datepicker", "action_id": "date",
                             "initial_date": "2024-06-30"}},
                {"type": "input", "block_id": "due_time",
                 "label": {"type": "plain_text", "text": "T"},
                 "element": {"type": "timepicker", "action_id": "time",
                             "initial_time": "17:00"}}]}
    r = bolt.view_submission(view=view, values={"due_date": {"date": "2024-07-15"}})
    assert r.status_code == 200
    assert r.json() == {"response_action": "errors",
                        "errors": {"due_date": '2024-07-15|17:00|{"id": 3}'}}


def test_state_values_shapes() -> None:
    assert state_values({"b": {"a": "text"}}) == {
        "b": {"a": {"type": "plain_text_input", "value": "text"}}}
    assert state_values({"b": {"a": datepicker("2024-01-02")}}) == {
        "b": {"a": {"type": "datepicker", "selected_date": "2024-01-02"}}}
    blocks = [{"type": "input", "block_id": "rec", "label": {"type": "plain_text", "text": "R"},
               "element": {"type": "static_select", "action_id": "rec", "options": [
                   {"text": {"type": "plain_text", "text": "S1 · x"}, "value": "S1"}]}},
              {"type": "input", "block_id": "owner", "label": {"type": "plain_text", "text": "O"},
               "element": {"type": "users_select", "action_id": "user",
                           "initial_user": "U0ANNA"}}]
    values = state_values({"rec": {"rec": "S1"}}, blocks=blocks)
    assert values["rec"]["rec"]["selected_option"]["value"] == "S1"
    assert values["rec"]["rec"]["selected_option"]["text"]["text"] == "S1 · x"
    assert values["owner"]["user"] == {"type": "users_select", "selected_user": "U0ANNA"}


def test_message_shortcut_and_views_open(bolt: SlackClient, fake: FakeSlack) -> None:
    r = bolt.message_shortcut("record", "Draft guidelines", channel_id="C0WGMIGRATE",
                              message_ts="1700000000.000100")
    assert r.status_code == 200
    assert bolt.last_payload["type"] == "message_action"
    (call,) = fake.wait_for("views.open", timeout=5)
    assert call.params["trigger_id"] == bolt.last_trigger_id
    assert call.response["view"]["title"]["text"] == "Draft guidelines"


def test_global_shortcut(bolt: SlackClient, fake: FakeSlack) -> None:
    assert bolt.shortcut("new", user_id="U0ANNA").status_code == 200
    assert bolt.last_payload["type"] == "shortcut" and "message" not in bolt.last_payload
    (call,) = fake.wait_for("views.open", timeout=5)
    assert call.response["view"]["title"]["text"] == "U0ANNA"


def test_events_and_retries(bolt: SlackClient, fake: FakeSlack) -> None:
    assert bolt.url_verification("abc").json() == {"challenge": "abc"}
    r = bolt.app_home_opened("U0ANNA", event_id="Ev1")
    assert r.status_code == 200
    fake.wait_for("views.publish", timeout=5)
    assert fake.home_view("U0ANNA") is not None
    r = bolt.event({"type": "app_home_opened", "user": "U0ANNA", "tab": "home"},
                   retry_num=1, retry_reason="http_timeout", event_id="Ev1")
    assert r.status_code == 200
    assert bolt.last_payload["event_id"] == "Ev1"


# ---------------------------------------------------------------------------- BotProcess

_DUMMY = '''
import http.server, signal, sys, os
args = sys.argv[1:]
port = int(args[args.index("--port") + 1])
mode = os.environ.get("DUMMY_MODE", "ok")
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = os.environ["SLACK_API_URL"].encode()
        self.send_response(200 if self.path == "/healthz" else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
if mode == "stubborn":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
else:
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
if mode == "forker":
    import subprocess
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    print("child", child.pid, flush=True)
if mode == "crash":
    print("boom: configuration is broken", flush=True)
    sys.exit(3)
print("serving", args, flush=True)
http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
'''


def _dummy(tmp_path: Path) -> Path:
    script = tmp_path / "wgbot"
    script.write_text(f"#!{sys.executable}\n{_DUMMY}")
    script.chmod(0o755)
    return script


def test_free_port() -> None:
    assert 1024 <= free_port() <= 65535


def test_bot_process_lifecycle(tmp_path: Path, fake: FakeSlack) -> None:
    with BotProcess(fake=fake, executable=_dummy(tmp_path), tmp_dir=tmp_path / "run") as bot:
        assert bot.running and bot.url.startswith("http://127.0.0.1:")
        assert requests.get(bot.url + "/healthz", timeout=5).text == fake.url
        assert "--host" in bot.wait_for_log("serving")
        assert bot.client.endpoint == bot.url + "/slack/events"
        assert bot.env["SLACK_BOT_TOKEN"] == "xoxb-test"
        assert bot.env["DATABASE_URL"].startswith("sqlite:///")
        assert bot.restart() == 0 and bot.running
        assert bot.stop() == 0
        assert not bot.running


def test_bot_process_crash_reports_log(tmp_path: Path, fake: FakeSlack) -> None:
    bot = BotProcess(fake=fake, executable=_dummy(tmp_path), tmp_dir=tmp_path / "run",
                     env={"DUMMY_MODE": "crash"})
    with pytest.raises(RuntimeError, match="configuration is broken"):
        bot.start(timeout=10)
    assert bot.returncode == 3
    bot.close()


def test_bot_process_stop_timeout_kills_group(tmp_path: Path, fake: FakeSlack) -> None:
    bot = BotProcess(fake=fake, executable=_dummy(tmp_path), tmp_dir=tmp_path / "run",
                     env={"DUMMY_MODE": "stubborn"})
    bot.start(timeout=10)
    with pytest.raises(AssertionError, match="did not exit"):
        bot.stop(timeout=0.5)
    assert not bot.running and bot.returncode == -signal.SIGKILL
    bot.close()


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2:].split()[0] != "Z"


def test_bot_process_sigkill_leaves_no_workers(tmp_path: Path, fake: FakeSlack) -> None:
    with BotProcess(fake=fake, executable=_dummy(tmp_path), tmp_dir=tmp_path / "run",
                    env={"DUMMY_MODE": "forker"}) as bot:
        child = int(bot.wait_for_log("child ").split("child ")[1].split()[0])
        assert _alive(child)
        assert bot.stop(sig=signal.SIGKILL) == -signal.SIGKILL
        deadline = time.monotonic() + 5
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(child)
        bot.start(timeout=10)
        assert bot.running
        bot.stop(sig=signal.SIGKILL)


def test_bot_process_needs_a_fake() -> None:
    with pytest.raises(ValueError):
        BotProcess()
