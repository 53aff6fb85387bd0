"""`/wg help`: usage for members, coordinators and admins."""
from __future__ import annotations

from bot.domain.reply import Divider, Header, Note, Part, Reply, Section

MEMBER = """*The report*
`/wg recs` overview · `/wg recs short` · `/wg recs long` · `/wg recs areas`
`/wg recs S3` one in full · `/wg recs search border management`

*Your commitments*
`/wg commit Draft guidelines by 30 June for L6` — add `owner @someone` to assign it
`/wg list` yours · `/wg list all` · `/wg list overdue` · `/wg list @someone` · `/wg list L6`
`/wg show 12` · `/wg done 12` · `/wg reopen 12` · `/wg cancel 12` · `/wg move 12 to next Friday`
`/wg export csv` · `/wg export ics` (a calendar file of your deadlines and the session)

*The special session*
`/wg session` — time left, readiness per key area, and what you still owe
`/wg delegation Austria` — the delegation you act for (`/wg delegation` shows it)"""

DATES = ("Dates: `2026-12-04 17:00`, `today 15:30`, `15 Dec`, `Friday`, `next Friday`, `tomorrow`, "
         "`in 3 weeks`, `end of month`, `the session`. A date alone means the end of that working day, "
         "in your own timezone.")

COORDINATOR = ("*Coordinators* receive a digest every week and before the session, and may "
               "complete, move or cancel anyone's commitments. `/wg digest` shows yours now; "
               "`/wg brief` prepares the session brief: a summary, a chart and a Word document "
               "for the Chair, sent to you in a direct message.")

ADMIN = ("*Admins* edit `config/settings.yaml`: `/wg admin status` · `/wg admin reload` · "
         "`/wg admin config` · `/wg admin digest now`")


def usage(*, role: str) -> Reply:
    """Everything a member can type, plus what coordinators and admins add."""
    parts: list[Part] = [Header("wgbot — the working group on migration"), Section(MEMBER),
                         Note(DATES), Divider(), Section(COORDINATOR), Section(ADMIN)]
    if role != "member":
        parts.append(Note(f"You are listed as {'an admin' if role == 'admin' else 'a coordinator'}."))
    return Reply(parts=tuple(parts), text="How to use /wg")
