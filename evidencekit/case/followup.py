"""Follow-up: record who was contacted, and tell from the log what is due and what to do next.

The escalation ladder (templates/followup.yaml) is seller → platform → 12315 → payment channel → court.
Where a case stands is read from the channels in its ``events:`` log; each step has a window in
which the other side should answer (the platform's ``seller_reply_hours`` / ``platform_reply_hours``
from platforms.yaml, the 12315 and payment deadlines from targets.yaml). When the window of the
highest step reached has passed, the next step is due now; otherwise it is due when the window ends.

Events carry free-text notes, not structured outcomes, so a reply cannot be told from a complaint:
the windows run from the latest contact on that channel. A 12315 note saying it was accepted
(已受理) starts the mediation deadlines; one saying it was refused or mediation ended
(不予受理 / 终止调解) moves the case on.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any, cast

from evidencekit.case.edit import append_event
from evidencekit.case.inventory import has_evidence_folder
from evidencekit.case.load import EVENT_CHANNELS, find_case_file, load_case, parse_case_time
from evidencekit.errors import CaseFolderError, EvidenceKitError, FollowupTimeError, FollowupUsageError
from evidencekit.model import Case, Event, EventChannel, Target, format_datetime
from evidencekit.rules.catalog import (
    Deadline,
    Rules,
    advice_for,
    limitation_period,
    load_rules,
    no_reason_return_deadline,
    platform_display_name,
    platform_rules,
    problem_type,
    target_profile,
    urgency_for,
)
from evidencekit.terminal import display_width, pad_to_width

STATUS_LABELS = {"ok": "正常", "soon": "临近", "overdue": "已逾期"}
WORKING_DAYS_NOTE = "工作日按周一至周五计算，未扣除法定节假日和调休，以受理通知为准"
_MAX_SOON = timedelta(days=30)


def _mentions(note: str, words: Sequence[str]) -> bool:
    """Does a follow-up note contain one of followup.yaml's words (case ignored)?"""
    text = note.casefold()
    return any(word.casefold() in text for word in words)


# ---------------------------------------------------------------------------------------------
# Recording an event
# ---------------------------------------------------------------------------------------------


def channel_label(channel: str, rules: Rules) -> str:
    """商家 / 平台 / … from followup.yaml; an unknown channel shows as written."""
    found = rules.followup.channels.get(channel)
    return found.label if found is not None else channel


def normalize_channel(channel: str) -> EventChannel:
    """``seller``/``商家`` → ``seller`` …; raises FollowupUsageError for anything else."""
    rules = load_rules()
    value = unicodedata.normalize("NFC", channel).strip()
    value = rules.followup.channel_aliases.get(value, value.lower())
    if value not in EVENT_CHANNELS:
        usable = "、".join(f"{c}（{channel_label(c, rules)}）" for c in EVENT_CHANNELS)
        raise FollowupUsageError(f"未知的跟进渠道：{channel}", hint=f"可用：{usable}")
    return EventChannel(value)


def record_event(root: Path, text: str, *, channel: str = EventChannel.SELLER, ref: str = "", time: datetime) -> Event:
    """Append a follow-up to ``root``'s case.yaml, keeping the rest of the file as the user wrote it.

    ``time`` is when the contact happened (naive = the case's time zone). The case file must exist
    and be valid: the event is only added to a case that loads.
    """
    note = " ".join(text.split())
    if not note:
        raise FollowupUsageError("跟进内容不能为空", hint='例如：evidencekit log 我的案件 "商家客服答应 48 小时内回复"')
    known = normalize_channel(channel)
    case = load_case(root)  # raises for a missing folder or a broken case file before we write
    case_file = find_case_file(root)
    if case_file is None or not case.has_case_file:
        raise CaseFolderError(f"案件文件夹里没有 case.yaml：{root}",
                              hint=f"先运行 evidencekit init {root} 生成案件文件，再记录跟进。")
    moment = time if time.tzinfo is not None else time.replace(tzinfo=case.tz)
    event = Event(time=moment, channel=known, note=note, ref=" ".join(ref.split()))
    append_event(case_file, event)
    return event


# ---------------------------------------------------------------------------------------------
# Status
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeadlineStatus:
    key: str  # stable id, e.g. "seller_reply", "12315.accept", "no_reason_return"
    label: str  # Chinese, e.g. 商家答复期限（最近一次联系后 48 小时）
    short: str  # for the table, e.g. 商家答复
    due: datetime | date  # a date means "by the end of that day"
    status: str  # ok | soon | overdue
    note: str = ""
    span: str = ""  # the window, e.g. 48 小时 / 7 个工作日 / 7 日

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    def due_text(self) -> str:
        return self.due.isoformat() if not isinstance(self.due, datetime) else format_datetime(self.due, False)


@dataclass(frozen=True)
class NextStep:
    step: str  # one of LADDER, or "" when nothing is left to do
    label: str  # Chinese action
    reason: str  # one line, Chinese
    not_before: datetime | date | None = None  # wait until this window ends; None = now

    def summary(self) -> str:
        if not self.step:
            return self.label
        if self.not_before is None:
            return f"现在{self.label}"
        when = self.not_before.isoformat() if not isinstance(self.not_before, datetime) \
            else format_datetime(self.not_before, False)
        return f"{when} 后{self.label}"


@dataclass(frozen=True)
class CaseStatus:
    urgency: str
    last_event: Event | None
    deadlines: tuple[DeadlineStatus, ...]
    next_step: NextStep
    stage: str = ""  # highest ladder step reached ("" = none yet)
    advice: tuple[str, ...] = ()  # rules.advice_for: the templates' advice for this case
    # The last event's channel in followup.yaml's words: 商家, and what was done: 联系商家
    last_channel_label: str = ""
    last_channel_action: str = ""

    @property
    def overdue(self) -> tuple[DeadlineStatus, ...]:
        return tuple(d for d in self.deadlines if d.status == "overdue")


@dataclass(frozen=True)
class StatusFailure:
    """A case folder that could not be read: shown as a row, not raised."""

    message: str
    exit_code: int


@dataclass(frozen=True)
class LoggedFollowup:
    """What `log` reports: the event as written, its channel's Chinese name, and what to do next."""

    event: Event
    time: datetime
    channel_label: str
    status: CaseStatus


def log_followup(root: Path, text: str, *, channel: str, ref: str, when: str | None, now: datetime,
                 rules: Rules) -> LoggedFollowup:
    """`log`: record a follow-up at ``when`` (as people write times; default ``now``, whole
    seconds, in the case's time zone), then the case's status with it."""
    case = load_case(root)
    if when:
        try:
            moment = parse_case_time(when.strip(), case.tz)
        except ValueError:
            raise FollowupTimeError(f"无法识别的时间：{when}（如 2024-11-15 10:00）") from None
    else:
        moment = now.astimezone(case.tz).replace(microsecond=0)
    event = record_event(root, text, channel=channel, ref=ref, time=moment)
    case = load_case(root)
    return LoggedFollowup(event, moment, channel_label(event.channel, rules),
                          case_status(case, rules, now.astimezone(case.tz)))


def statuses(roots: Sequence[tuple[str, Path]], rules: Rules, now: datetime
             ) -> list[tuple[str, CaseStatus | StatusFailure]]:
    """`status` for each named case folder; one that cannot be read is a failure row, not the end.

    A folder with neither a case file nor an evidence folder is not a case (exit 4): it gets no
    advice. A zero-config folder (evidence/ without case.yaml) is a case, as for `build`.
    """
    rows: list[tuple[str, CaseStatus | StatusFailure]] = []
    for name, root in roots:
        try:
            case = load_case(root)
            if not case.has_case_file and not has_evidence_folder(root):
                raise CaseFolderError(f"不是案件文件夹：{root}（既没有 case.yaml，也没有 evidence/ 文件夹）",
                                      hint=f"请确认路径；新建案件用 evidencekit init {root}")
            rows.append((name, case_status(case, rules, now.astimezone(case.tz))))
        except EvidenceKitError as exc:
            rows.append((name, StatusFailure(exc.render(), int(exc.exit_code))))
    return rows


def case_status(case: Case, rules: Rules, now: datetime) -> CaseStatus:
    """Urgency, the running deadlines with their state at ``now``, and the next escalation step."""
    tz = case.tz
    now = now if now.tzinfo is not None else now.replace(tzinfo=tz)
    events = [e for e in case.events if e.channel in EVENT_CHANNELS]
    timed = sorted((e for e in events if e.time is not None), key=lambda e: cast(datetime, e.time))
    last_event = timed[-1] if timed else (events[-1] if events else None)
    ladder = rules.followup.steps
    stage = max((e.channel for e in events if e.channel in ladder), key=ladder.index, default="")
    deadlines: list[DeadlineStatus] = []

    ptype = problem_type(case, rules)
    urgency = rules.urgency[ptype.urgency]
    if not events and urgency.hours and case.problem.discovered_at is not None:
        start = case.problem.discovered_at
        deadlines.append(_timed("urgency", f"按紧急程度，发现问题后 {urgency.hours} 小时内处理", "及时处理",
                                start, timedelta(hours=urgency.hours), now, tz))
    if case.order.signed_at is not None:
        signed = _local(case.order.signed_at, tz).date()
        rule = rules.followup
        deadlines.append(_by_day("no_reason_return", rule.no_reason_return_label, rule.no_reason_return_short,
                                 signed, no_reason_return_deadline(case.order.signed_at, rules, tz), now, tz,
                                 note=rule.no_reason_return_note))
    window, step_deadlines = _stage_window(case, rules, stage, timed, now)
    deadlines += step_deadlines
    limitation = _limitation(case, rules, now)
    if limitation is not None:
        deadlines.append(limitation)
    next_step = _next_step(case, rules, stage, window, limitation, bool(events))
    channel = rules.followup.channels.get(last_event.channel) if last_event is not None else None
    return CaseStatus(urgency_for(case, rules), last_event, tuple(deadlines), next_step, stage,
                      advice_for(case, rules),
                      channel.label if channel else (last_event.channel if last_event else ""),
                      channel.action if channel else (last_event.channel if last_event else ""))


def _stage_window(case: Case, rules: Rules, stage: str, timed: Sequence[Event],
                  now: datetime) -> tuple[_Window, list[DeadlineStatus]]:
    """The deadlines of the highest step reached; the first one is the window the next step waits on."""
    tz = case.tz
    on = [e for e in timed if e.channel == stage]
    if not stage:
        return _Window(None), []
    if not on:  # the step was logged without a time: no window can be computed
        return _Window(None, untimed=True), []
    last = cast(datetime, on[-1].time)
    platform = platform_rules(case, rules)
    name = platform_display_name(case, rules)
    if stage == EventChannel.SELLER:
        hours = platform.seller_reply_hours
        typical = platform.timing.typical_seller
        d = _timed("seller_reply", f"商家答复期限（最近一次联系商家后 {hours_text(hours)}）", "商家答复",
                   last, timedelta(hours=hours), now, tz,
                   note=f"参考：{name}商家客服一般{typical}内回复" if typical else "")
        return _Window(d), [d]
    if stage == EventChannel.PLATFORM:
        hours = platform.timing.platform_reply_hours or rules.followup.platform_reply_hours
        typical = platform.timing.typical_platform
        note = f"参考：{name}平台介入一般{typical}" if typical else "参考值"
        if not platform.timing.confirmed:
            note += "，未经平台规则核实"
        d = _timed("platform_reply", f"平台介入处理期限（最近一次联系平台后 {hours_text(hours)}）", "平台处理",
                   last, timedelta(hours=hours), now, tz, note=note)
        return _Window(d), [d]
    if stage == EventChannel.COMPLAINT_12315:
        return _window_12315(case, rules, on, now)
    # payment: the payment target's deadlines, counted from the latest complaint
    out = [_from_deadline(f"payment.{d.key}", d, last, now, tz)
           for d in target_profile(Target.PAYMENT, rules).deadlines if d.start == "submitted"]
    return _Window(out[0] if out else None), out


def _window_12315(case: Case, rules: Rules, on: Sequence[Event],
                  now: datetime) -> tuple[_Window, list[DeadlineStatus]]:
    """Acceptance (from the first 12315 event) until a note says it was accepted; then mediation."""
    submitted = cast(datetime, on[0].time)
    words = rules.followup
    accepted = next((cast(datetime, e.time) for e in on
                     if _mentions(e.note, words.accepted_words) and not _mentions(e.note, words.ended_words)),
                    None)
    ended = any(_mentions(e.note, words.ended_words) for e in on)
    odr = any(_mentions(e.note, words.odr_words) for e in on)
    out: list[DeadlineStatus] = []
    for d in target_profile(Target.COMPLAINT_12315, rules).deadlines:
        if d.key == "odr":
            start = submitted if odr else None  # only for complaints handed to an ODR company
        elif d.start == "submitted":
            start = submitted if accepted is None else None  # the decision is behind us once accepted
        elif d.start == "accepted":
            start = accepted
        else:
            start = None
        if start is not None:
            out.append(_from_deadline(f"12315.{d.key}", d, start, now, case.tz))
    return _Window(out[0] if out else None, ended=ended), out


@dataclass(frozen=True)
class _Window:
    deadline: DeadlineStatus | None
    untimed: bool = False
    ended: bool = False  # 12315 refused the complaint or ended mediation


def _next_step(case: Case, rules: Rules, stage: str, window: _Window, limitation: DeadlineStatus | None,
               any_events: bool) -> NextStep:
    steps = rules.followup
    if limitation is not None and limitation.status == "overdue":
        court = steps.step("court")
        return NextStep("court", court.label, f"已超过{limitation.label}，市场监管部门可以不予受理；{court.how}")
    if not stage:
        ptype = problem_type(case, rules)
        platform = steps.step(EventChannel.PLATFORM)
        if ptype.urgency == "urgent" and platform.urgent:
            return NextStep(platform.key, platform.label, f"紧急问题（{ptype.label}）：{platform.urgent}")
        first = steps.ladder[0]
        other = channel_label(EventChannel.OTHER, rules)
        what = "尚未记录任何跟进" if not any_events else f"只有“{other}”渠道的跟进记录"
        return NextStep(first.key, first.label, f"{what}：{first.how}")
    following = steps.ladder[steps.steps.index(stage) + 1]
    label = following.label
    where = channel_label(stage, rules)
    if window.ended:
        return NextStep(following.key, label, f"12315 投诉已不予受理或终止调解：{following.how}")
    if window.untimed:
        return NextStep(following.key, label, f"{where}的跟进记录没有时间，无法计算答复期限；确认逾期未解决后{label}")
    d = window.deadline
    if d is None:
        return NextStep(following.key, label, f"{where}没有可计算的处理期限；对方未解决时{label}")
    if d.status == "overdue":
        return NextStep(following.key, label,
                        f"{d.short}已逾期（{d.span}，截至 {d.due_text()}）仍未解决：{following.how}")
    return NextStep(following.key, label, f"正在等待{where}处理，{d.short}截至 {d.due_text()}；到期仍未解决再{label}",
                    not_before=d.due)


def _limitation(case: Case, rules: Rules, now: datetime) -> DeadlineStatus | None:
    years = target_profile(Target.COMPLAINT_12315, rules).limitation_years
    if years is None:  # targets.yaml gives the channel no limitation period
        return None
    period = limitation_period(case, years)
    if period is None:
        return None
    return _by_day("limitation", f"12315 投诉时效（自知道权益受损起 {years} 年）", "投诉时效",
                   period.start_day, period.last_day, now, case.tz,
                   note="超过后市场监管部门可以不予受理；向法院起诉另按诉讼时效计算", span_text=f"{years} 年")


# ---------------------------------------------------------------------------------------------
# Deadline arithmetic
# ---------------------------------------------------------------------------------------------


def add_working_days(start: date, days: int) -> date:
    """The ``days``-th working day (Mon–Fri) after ``start``; the start day itself is not counted.

    Public holidays and make-up working days are not known here: the result is an estimate.
    """
    current = start
    counted = 0
    while counted < days:
        current += timedelta(days=1)
        if current.weekday() < 5:
            counted += 1
    return current


def hours_text(hours: int) -> str:
    return f"{hours // 24} 天" if hours % 24 == 0 and hours >= 72 else f"{hours} 小时"


def _span_text(d: Deadline) -> str:
    if d.hours is not None:
        return hours_text(d.hours)
    return f"{d.days} 个工作日" if d.working_days else f"{d.days} 日"


def _from_deadline(key: str, d: Deadline, start: datetime, now: datetime, tz: tzinfo) -> DeadlineStatus:
    label = f"{d.label}（{_span_text(d)}）"
    notes = [d.note] if d.note else []
    if d.working_days:
        notes.append(WORKING_DAYS_NOTE)
    if not d.confirmed and d.source:
        notes.append(f"参考值：{d.source}")
    note = "；".join(notes)
    short = d.label
    if d.hours is not None:
        return _timed(key, label, short, start, timedelta(hours=d.hours), now, tz, note=note)
    start_day = _local(start, tz).date()
    days = d.days or 0
    due = add_working_days(start_day, days) if d.working_days else start_day + timedelta(days=days)
    return _by_day(key, label, short, start_day, due, now, tz, note=note, span_text=_span_text(d))


def _timed(key: str, label: str, short: str, start: datetime, span: timedelta, now: datetime, tz: tzinfo,
           note: str = "") -> DeadlineStatus:
    due = _local(start, tz) + span
    hours = int(span.total_seconds() // 3600)
    return DeadlineStatus(key, label, short, due, _state(now, due, span), note, hours_text(hours))


def _by_day(key: str, label: str, short: str, start: date, due: date, now: datetime, tz: tzinfo,
            note: str = "", span_text: str = "") -> DeadlineStatus:
    """A deadline that lasts to the end of ``due`` in the case's zone (the start day is not counted)."""
    end = datetime.combine(due + timedelta(days=1), time(0), tzinfo=tz)
    span = end - datetime.combine(start + timedelta(days=1), time(0), tzinfo=tz)
    return DeadlineStatus(key, label, short, due, _state(now, end, span), note,
                          span_text or f"{(due - start).days} 日")


def _state(now: datetime, end: datetime, span: timedelta) -> str:
    """overdue once ``end`` has passed; soon in the last quarter of the window (at most 30 days)."""
    if now >= end:
        return "overdue"
    if end - now <= min(span / 4, _MAX_SOON):
        return "soon"
    return "ok"


def _local(moment: datetime, tz: tzinfo) -> datetime:
    return moment.astimezone(tz) if moment.tzinfo is not None else moment.replace(tzinfo=tz)


# ---------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------


def status_json(name: str, status: CaseStatus | StatusFailure) -> dict[str, Any]:
    if isinstance(status, StatusFailure):
        return {"case": name, "error": status.message, "exit_code": status.exit_code}
    last = status.last_event
    step = status.next_step
    return {
        "case": name,
        "urgency": status.urgency,
        "stage": status.stage or None,
        "last_event": None if last is None else {
            "time": last.time.isoformat() if last.time else None,
            "channel": last.channel, "note": last.note, "ref": last.ref,
        },
        "deadlines": [
            {"key": d.key, "label": d.label, "due": d.due.isoformat(), "status": d.status, "note": d.note}
            for d in status.deadlines
        ],
        "overdue": [d.key for d in status.overdue],
        "next_step": {
            "step": step.step or None, "label": step.label, "reason": step.reason,
            "not_before": step.not_before.isoformat() if step.not_before else None,
        },
        "advice": list(status.advice),
    }


def last_event_text(event: Event | None, channel_label: str) -> str:
    if event is None:
        return "无"
    when = format_datetime(event.time, False) if event.time else "时间不明"
    return f"{when} {channel_label}"


def format_status_table(rows: Sequence[tuple[str, CaseStatus | StatusFailure]]) -> str:
    """案件 | 紧急程度 | 最近跟进 | 逾期 | 下一步, one row per case (failed cases as error rows)."""
    header = ("案件", "紧急程度", "最近跟进", "逾期", "下一步")
    table = [header]
    for name, status in rows:
        if isinstance(status, StatusFailure):
            first_line = status.message.splitlines()[0] if status.message else "无法读取"
            table.append((name, "—", "—", "—", f"无法读取：{first_line}"))
            continue
        overdue = "、".join(d.short for d in status.overdue) or "无"
        table.append((name, status.urgency, last_event_text(status.last_event, status.last_channel_label), overdue,
                      status.next_step.summary()))
    widths = [max(display_width(row[i]) for row in table) for i in range(len(header) - 1)]
    lines = []
    for n, row in enumerate(table):
        cells = [pad_to_width(cell, widths[i]) for i, cell in enumerate(row[:-1])]
        lines.append(" | ".join([*cells, row[-1]]).rstrip())
        if n == 0:
            lines.append("-+-".join(["-" * w for w in widths] + ["-" * max(display_width(header[-1]), 8)]))
    return "\n".join(lines) + "\n"


def format_status_details(name: str, status: CaseStatus) -> str:
    """The deadlines of one case and the reason for its next step."""
    lines = [f"【{name}】紧急程度：{status.urgency}；最近跟进：{_event_detail(status)}"]
    for d in status.deadlines:
        note = f"（{d.note}）" if d.note else ""
        lines.append(f"  [{d.status_label}] {d.label}：{d.due_text()}{note}")
    if not status.deadlines:
        lines.append("  暂无可计算的期限（填写签收时间、发现问题时间，或用 evidencekit log 记录跟进）")
    lines.append(f"  下一步：{status.next_step.summary()}——{status.next_step.reason}")
    if status.advice:
        lines.append("  处理建议：")
        lines += [f"    - {text}" for text in status.advice]
    return "\n".join(lines) + "\n"


def _event_detail(status: CaseStatus) -> str:
    event = status.last_event
    if event is None:
        return "无"
    text = last_event_text(event, status.last_channel_label)
    action = status.last_channel_action
    ref = f"（{event.ref}）" if event.ref else ""
    return f"{text}（{action}{ref}）：{event.note}" if event.note else f"{text}（{action}{ref}）"


