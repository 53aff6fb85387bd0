"""`wgbot config check` warns while settings.yaml still holds the shipped example ids."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot import cli
from bot.config.load import SHIPPED_EXAMPLE_IDS
from tests.conftest import REPO, edit_settings


def test_the_examples_are_the_ids_the_shipped_file_holds() -> None:
    data = yaml.safe_load((REPO / "config" / "settings.yaml").read_text())
    shipped = {*data["channels"].values(), *(p["id"] for p in data["admins"]),
               *(p["id"] for p in data["coordinators"]),
               *(m for d in data["delegations"] for m in d["members"])}
    assert shipped == SHIPPED_EXAMPLE_IDS


def check(directory: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    code = cli.main(["config", "check", str(directory)])
    return code, capsys.readouterr().out.splitlines()


def test_the_shipped_settings_warn_with_their_place(config_dir: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    code, lines = check(config_dir, capsys)
    assert code == 0
    warned = [line for line in lines if "shipped example" in line]
    assert warned == [
        "settings.yaml:29:18: warning: channels.working_group: C0WGMIGRATE is the shipped "
        "example channel id; replace it with your workspace's before going live",
        "settings.yaml:30:17: warning: channels.coordinators: C0WGCOORDS is the shipped "
        "example channel id; replace it with your workspace's before going live",
        "settings.yaml:36:9: warning: admins[0].id: U0ADMIN01 is the shipped example member "
        "id; replace it with your workspace's before going live",
        "settings.yaml:41:9: warning: coordinators[0].id: U0COORD01 is the shipped example "
        "member id; replace it with your workspace's before going live",
        "settings.yaml:99:15: warning: delegations[0].members[0]: U0ADMIN01 is the shipped "
        "example member id; replace it with your workspace's before going live",
    ]
    assert lines[-1].startswith("Session: ")  # the summary still follows


def test_real_ids_do_not_warn(config_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit_settings(config_dir, {
        "channels": {"working_group": "C04PQ7Z2K", "coordinators": None},
        "admins": [{"id": "U01A2B3C4D", "name": "Secretariat"}],
        "coordinators": [{"id": "U05E6F7G8H", "name": "Coordinator"}],
        "delegations": [{"name": "OSCE Secretariat", "members": ["U01A2B3C4D"]}]})
    code, lines = check(config_dir, capsys)
    assert code == 0 and not [line for line in lines if "warning" in line]


def test_one_example_left_is_named(config_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit_settings(config_dir, {
        "channels": {"working_group": "C04PQ7Z2K", "coordinators": None},
        "admins": [{"id": "U01A2B3C4D", "name": "Secretariat"},
                   {"id": "U0ADMIN01", "name": "Left over"}],
        "coordinators": [], "delegations": []})
    code, lines = check(config_dir, capsys)
    assert code == 0
    assert [line.split(": ", 2)[-1] for line in lines if "warning" in line] == [
        "admins[1].id: U0ADMIN01 is the shipped example member id; replace it with your "
        "workspace's before going live"]


def test_a_broken_config_still_fails_first(config_dir: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    edit_settings(config_dir, {"reminders": {"overdue_max": "x"}})
    code, lines = check(config_dir, capsys)
    assert code == 1 and not [line for line in lines if "shipped example" in line]
