"""`/wg help`: usage for members, coordinators and admins."""
from __future__ import annotations

from bot.domain.reply import Divider, Header, Note, Part, Reply, Section

MEMBER = """*The report*
`/wg recs` overview · `/wg recs short` · `/wg recs long` · `/wg recs areas` · `/wg recs aspects`
`/wg recs S3` one in full · `/wg recs search border management` · `/wg help <command>` for more

*Your commitments*
`/wg commit Draft guidelines by 30 June for L6` — add `owner @someone` to assign it
`/wg list` yours · `/wg list all` · `/wg list overdue` · `/wg list @someone` · `/wg list L6`
`/wg show 12` · `/wg done 12` · `/wg reopen 12` · `/wg cancel 12` · `/wg move 12 to next Friday`
`/wg edit 12 <text>` · `/wg assign 12 @anna` · `/wg link 12 S2 L4` · `/wg note 12 <text>` · `/wg find <words>`
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


# One page per command: what it does, three examples, and what to know.
PAGES: dict[str, tuple[str, tuple[str, str, str], str]] = {
    "recs": ("Read the report's recommendations, key areas and aspects, or search the whole report.",
             ("`/wg recs S3`", "`/wg recs search border management`", "`/wg recs aspects`"),
             "`/wg recs short` and `/wg recs long` list them by term; `/wg recs areas` shows the "
             "five key areas and `/wg recs drivers` the structural drivers of migration."),
    "commit": ("Record what you (or someone) will do, by when, and for which recommendation.",
               ("`/wg commit Draft guidelines by 30 June for L6`",
                "`/wg commit Brief the Chair by the session for S1`",
                "`/wg commit Circulate the note by Friday owner @anna`"),
               "`for <ID>` links a recommendation; `owner @someone` assigns it (they get a DM). "
               "`/wg help dates` shows how to write the deadline."),
    "list": ("List commitments: yours, everyone's, what is late or done, one person's, or one "
             "recommendation's.",
             ("`/wg list`", "`/wg list overdue`", "`/wg list L6 page 2`"),
             "Also `/wg list all`, `/wg list done` and `/wg list @someone`; ten to a page."),
    "show": ("Show one commitment in full, with its history.",
             ("`/wg show 12`", "`/wg show #12`", "`/wg list` then *Show*"),
             "The number is the one listings print as #12."),
    "done": ("Mark a commitment done (owners, its creator, coordinators and admins may).",
             ("`/wg done 12`", "`/wg reopen 12` if it was not", "the *Done* button on a reminder"),
             "Done commitments count as delivered in digests and the session brief."),
    "reopen": ("Open a done or cancelled commitment again.",
               ("`/wg reopen 12`", "`/wg list done` to find it", "`/wg show 12` to check it"),
               "Reminders start again from its deadline."),
    "cancel": ("Cancel a commitment nobody will deliver (it stays in the history).",
               ("`/wg cancel 12`", "the *Cancel* button", "`/wg reopen 12` to undo"),
               "Cancelled commitments are left out of progress counts."),
    "move": ("Give a commitment a new deadline.",
             ("`/wg move 12 to next Friday`", "`/wg move 12 to 15 Jan 10:00`",
              "`/wg move 12 to the session`"),
             "Reminders follow the new date; digests show how often and how far a deadline moved."),
    "edit": ("Change what a commitment says; its *Edit* button changes every field at once.",
             ("`/wg edit 12 Draft guidelines with the Chair's comments`",
              "the *Edit* button on `/wg show 12`", "the *Edit* button on `/wg list`"),
             "The form holds the text, owners, deadline and recommendations; a wrong field is "
             "named under it and nothing is changed."),
    "assign": ("Give a commitment to other owners, one or several.",
               ("`/wg assign 12 @anna`", "`/wg assign 12 @anna @marco`", "`/wg assign 12 me`"),
               "The new and the previous owners get one DM each; any owner can update it."),
    "link": ("Link a commitment to the recommendations it serves (or unlink one).",
             ("`/wg link 12 S2 L4`", "`/wg unlink 12 L4`", "`/wg commit … for S2 and L4`"),
             "A commitment counts under each recommendation it serves."),
    "note": ("Add a dated progress note to a commitment.",
             ("`/wg note 12 Draft sent to the Chair`", "`/wg show 12` to read the notes",
              "`/wg find Chair` to find it by its notes"),
             "The latest note rides along in reminders and in the coordinators' digest."),
    "find": ("Find commitments by the words of their text and notes.",
             ("`/wg find guidelines`", "`/wg find Malta visit`", "`/wg find guidelines page 2`"),
             "Most words matched first, open before done; ten to a page."),
    "export": ("Download commitments as a spreadsheet or a calendar.",
               ("`/wg export csv`", "`/wg export ics`", "`wgbot export csv --out wg.csv` (admins)"),
               "The calendar holds your own deadlines and the session; re-importing updates them."),
    "session": ("Time left to the special session, readiness per key area, and what you still owe.",
                ("`/wg session`", "`/wg list overdue`", "`/wg recs areas`"),
                "Countdowns are also posted in the working-group channel."),
    "admin": ("Admin tools: the outbox, the config in force, reloading it, and digests.",
              ("`/wg admin status`", "`/wg admin reload`", "`/wg admin digest now`"),
              "Admins are listed in `config/settings.yaml`; a refused command says who can."),
    "dates": ("How to write a deadline.",
              ("`by Friday`", "`by 15 Jan 10:00`", "`by the session`"),
              DATES),
}

PAGES["unlink"] = PAGES["link"]


def page(topic: str) -> Reply | None:
    """`/wg help <command>`: that command's page with three examples, or None if there is none."""
    found = PAGES.get(topic.strip().lower().removeprefix("/wg ").removeprefix("/"))
    if found is None:
        return None
    what, examples, note = found
    name = topic.strip().lower().removeprefix("/wg ").removeprefix("/")
    return Reply(parts=(Header(f"/wg {name}"), Section(what),
                        Section("*Examples*\n" + "\n".join(examples)), Note(note)),
                 text=f"How to use /wg {name}")


def out_of_date(instead: str = "/wg list") -> Reply:
    """A button, menu or form whose value the bot cannot use: nothing was changed."""
    text = f"That button is out of date, so nothing was changed; try `{instead}`."
    return Reply(parts=(Section(text),), text=text)


def not_shareable() -> Reply:
    """Share was pressed on something other than the report, help or the session countdown."""
    text = ("Only recommendations, help and the session countdown can be shared; "
            "that button is out of date, so nothing was posted.")
    return Reply(parts=(Section(text),), text=text)
