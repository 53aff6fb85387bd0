"""A Slack-faithful test harness: a fake Web API, a signing Slack client and the bot as a process."""
from .client import (
    SlackClient,
    checkboxes,
    datepicker,
    find_action,
    option,
    plain_text,
    sign,
    state_values,
    static_select,
    timepicker,
    users_select,
)
from .process import BotProcess, free_port, wgbot_executable
from .server import Call, FakeSlack, UploadedFile, UserProfile, dm_channel_for

__all__ = [
    "BotProcess", "Call", "FakeSlack", "SlackClient", "UploadedFile", "UserProfile",
    "checkboxes", "datepicker", "dm_channel_for", "find_action", "free_port", "option",
    "plain_text", "sign", "state_values", "static_select", "timepicker", "users_select",
    "wgbot_executable",
]
