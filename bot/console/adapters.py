"""Console stand-ins for Slack: messages and files are printed or written locally."""
from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any, TextIO

from bot.console.render import render
from bot.domain.reply import Attachment, Reply
from bot.ports import Posted, Profile


class ConsoleNotifier:
    """Prints what would be posted to Slack; writes files into a local folder."""

    def __init__(self, out: TextIO, *, files_dir: Path) -> None:
        self._out = out
        self._files_dir = files_dir
        self._ts = itertools.count(1)
        self.keys: dict[str, Posted] = {}

    def post(self, *, channel: str, reply: Reply, metadata: dict[str, Any] | None = None) -> Posted:
        """Print the message with its destination."""
        where = f"DM to @{channel}" if channel[:1] in ("U", "W") else f"#{channel}"
        self._out.write(f"\n── {where} ──\n{render(reply)}\n")
        self._out.flush()
        posted = Posted(channel=channel, ts=f"{next(self._ts)}.000000")
        if metadata and "key" in metadata:
            self.keys[str(metadata["key"])] = posted
        return posted

    def upload(self, *, user_id: str, attachment: Attachment) -> None:
        """Write the file locally and say where."""
        self._files_dir.mkdir(parents=True, exist_ok=True)
        path = self._files_dir / attachment.filename
        path.write_bytes(attachment.content)
        self._out.write(f"\n── file for @{user_id} ── saved {path} ({len(attachment.content)} bytes)\n")
        self._out.flush()

    def find_key(self, *, channel: str, key: str, oldest_ts: float) -> Posted | None:
        """Messages printed in this run that carried the key."""
        return self.keys.get(key)


class ConsoleDirectory:
    """Every console user is in the config's timezone unless told otherwise."""

    def __init__(self, *, tz: str | None = None) -> None:
        self._tz = tz

    def profile(self, user_id: str) -> Profile | None:
        """A profile named after the id."""
        return Profile(name=user_id, tz=self._tz)
