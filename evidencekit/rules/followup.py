"""templates/followup.yaml: the follow-up channels' wording (one entry per EventChannel), the
escalation ladder, the no-reason-return period and the words that mark a 12315 note.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from evidencekit.model import EventChannel
from evidencekit.rules.templatefile import TemplateFile, check_placeholders, top_level

# Closed vocabularies the code acts on (case/followup.py gives each step its own window); followup.yaml
# must name each one, and holds their wording and order. The ladder climbs the channels a
# follow-up can go to, except "other", and ends at court, which is no follow-up channel.
EVENT_CHANNEL_KEYS = tuple(channel.value for channel in EventChannel)
LADDER_STEPS = frozenset({*EVENT_CHANNEL_KEYS, "court"} - {EventChannel.OTHER.value})


@dataclass(frozen=True)
class EventChannelRule:
    key: EventChannel
    label: str  # 商家: timeline and status
    action: str  # 联系商家: the letter's account of what was done
    aliases: tuple[str, ...] = ()  # other words case.yaml and `log --channel` accept (客服)


@dataclass(frozen=True)
class LadderStep:
    key: str  # one of LADDER_STEPS
    label: str  # 申请平台介入
    how: str  # what to do when this step is due
    urgent: str = ""  # platform only: what to do at once for an urgent problem


@dataclass(frozen=True)
class FollowupRules:
    """templates/followup.yaml: follow-up channels, the escalation ladder, fixed deadlines."""

    channels: Mapping[str, EventChannelRule]  # keyed by EventChannel value; an EventChannel works too
    ladder: tuple[LadderStep, ...]  # in escalation order, court last
    no_reason_return_days: int
    no_reason_return_basis: str  # article key
    no_reason_return_label: str  # already formatted with the days
    no_reason_return_short: str  # for the status table
    no_reason_return_note: str
    platform_reply_hours: int  # when platforms.yaml gives a platform none
    reply_days: int  # a letter's reply deadline when the target gives none
    # Words in a 12315 follow-up note: accepted / refused or mediation ended / handed to ODR
    accepted_words: tuple[str, ...] = ()
    ended_words: tuple[str, ...] = ()
    odr_words: tuple[str, ...] = ()

    @property
    def channel_labels(self) -> Mapping[str, str]:
        return {key: c.label for key, c in self.channels.items()}

    @property
    def channel_aliases(self) -> Mapping[str, str]:
        """商家 / 客服 → seller …: each channel's label and aliases."""
        out: dict[str, str] = {}
        for key, channel in self.channels.items():
            for word in (channel.label, *channel.aliases):
                out.setdefault(word, key)
        return out

    @property
    def steps(self) -> tuple[str, ...]:
        return tuple(step.key for step in self.ladder)

    def step(self, key: str) -> LadderStep:
        return next(step for step in self.ladder if step.key == key)


def parse_followup(doc: TemplateFile) -> FollowupRules:
    top = top_level(doc, ("channels", "ladder", "no_reason_return", "notes_12315", "platform_reply_hours",
                     "reply_days"))
    channels: dict[str, EventChannelRule] = {}
    entries = doc.mapping(top["channels"], "channels", required=EVENT_CHANNEL_KEYS, optional=())
    for key, node in entries.items():
        path = f"channels.{key}"
        m = doc.mapping(node, path, ("label", "action"), ("aliases",))
        channels[key] = EventChannelRule(EventChannel(key), doc.text(m, "label", path),
                                         doc.text(m, "action", path), doc.str_list(m, "aliases", path))
    ladder = []
    steps = doc.mapping(top["ladder"], "ladder", required=sorted(LADDER_STEPS), optional=())
    for key, node in steps.items():
        path = f"ladder.{key}"
        m = doc.mapping(node, path, ("label", "how"), ("urgent",) if key == EventChannel.PLATFORM else ())
        ladder.append(LadderStep(key, doc.text(m, "label", path), doc.text(m, "how", path),
                                 doc.text(m, "urgent", path, "")))
    if ladder[-1].key != "court":
        doc.fail("ladder", "court（向法院起诉）必须是最后一步")
    path = "no_reason_return"
    r = doc.mapping(top[path], path, ("days", "basis", "label", "short"), ("note",))
    days = doc.count(r, "days", path)
    if days is None:
        doc.fail(f"{path}.days", "应为正整数（天）")
    label = doc.text(r, "label", path)
    check_placeholders(doc, label, frozenset({"days"}), f"{path}.label")
    platform_hours = doc.count(top, "platform_reply_hours", "")
    reply_days = doc.count(top, "reply_days", "")
    if platform_hours is None or reply_days is None:
        doc.fail("", "platform_reply_hours 和 reply_days 应为正整数")
    short = doc.text(r, "short", path)
    check_placeholders(doc, short, frozenset({"days"}), f"{path}.short")
    notes = doc.mapping(top["notes_12315"], "notes_12315", ("accepted", "ended", "odr"))
    words = {key: doc.str_list(notes, key, "notes_12315") for key in ("accepted", "ended", "odr")}
    for key, found in words.items():
        if not found:
            doc.fail(f"notes_12315.{key}", "至少要写一个词")
    return FollowupRules(channels, tuple(ladder), days, doc.text(r, "basis", path), label.format(days=days),
                         short.format(days=days), doc.text(r, "note", path, ""), platform_hours, reply_days,
                         words["accepted"], words["ended"], words["odr"])
