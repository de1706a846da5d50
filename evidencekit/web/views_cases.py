"""Pages: the case list, a new case, the case facts form, the follow-up log (see evidencekit.web).

Each handler reads the case folder fresh and calls the library the CLI calls: ``statuses`` /
``case_status`` for `status`, ``create_case_folder`` and `init`'s questions for a new case,
``web.facts`` (``set_values`` under the case loader's check) for the facts, ``log_followup`` for
`log`. Heavy parts (the OCR pipeline) are imported inside the one handler that needs them.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, url_for

from evidencekit.case.edit import Value, set_values
from evidencekit.case.folder import create_case_folder
from evidencekit.case.followup import (
    CaseStatus,
    DeadlineStatus,
    StatusFailure,
    case_status,
    channel_label,
    last_event_text,
    log_followup,
    statuses,
)
from evidencekit.case.interview import Proposal, Question, screenshot_proposals, target_questions
from evidencekit.case.load import load_case
from evidencekit.errors import CaseFileError, EvidenceKitError, FollowupTimeError, FollowupUsageError
from evidencekit.fsutil import publish_directory, stage_directory
from evidencekit.model import format_datetime
from evidencekit.rules.catalog import load_rules, target_profile
from evidencekit.web import facts
from evidencekit.web.responses import public_message
from evidencekit.web.workspace import case_root, clean_case_name, current_workspace

bp = Blueprint("cases", __name__)

MAX_NOTE_CHARS = 2000  # a follow-up note longer than this is refused (it is one line in case.yaml)


def _now() -> datetime:
    """The clock (``EK_NOW`` in tests): handlers are the edge, like the CLI's commands."""
    clock: Callable[[], datetime] = current_app.config.get("EK_NOW") or (lambda: datetime.now(UTC))
    return clock()


# ---------------------------------------------------------------------------------------------
# The case list
# ---------------------------------------------------------------------------------------------


def _due_moment(d: DeadlineStatus, tz: tzinfo) -> datetime:
    if isinstance(d.due, datetime):
        return d.due
    assert isinstance(d.due, date)
    return datetime.combine(d.due + timedelta(days=1), time(0), tzinfo=tz)


def next_deadline(status: CaseStatus, tz: tzinfo) -> DeadlineStatus | None:
    """The running deadline that ends first (an overdue one only when none is still running)."""
    running = [d for d in status.deadlines if d.status != "overdue"]
    pool = running or list(status.deadlines)
    return min(pool, key=lambda d: _due_moment(d, tz), default=None)


@bp.get("/")
def index() -> str:
    workspace = current_workspace()
    rules = load_rules()
    now = _now()
    rows: list[dict[str, Any]] = []
    for name, status in statuses([(n, workspace.root / n) for n in workspace.case_names()], rules, now):
        if isinstance(status, StatusFailure):
            # The first line says what and where (as `status`'s table does); the facts page lists every problem.
            first = status.message.splitlines()[0] if status.message else "无法读取"
            rows.append({"name": name, "error": workspace.public_text(first).rstrip("：")})
            continue
        tz = now.tzinfo or UTC
        d = next_deadline(status, tz)
        rows.append({
            "name": name, "error": "", "urgency": status.urgency,
            "deadline": d, "overdue": [x.short for x in status.overdue],
            "last_event": last_event_text(status.last_event, status.last_channel_label),
            "next_step": status.next_step.summary(),
        })
    return render_template("cases.html", rows=rows, single=workspace.single_case, case_name=None)


# ---------------------------------------------------------------------------------------------
# A new case
# ---------------------------------------------------------------------------------------------


def new_case_questions() -> list[Question]:
    """`init`'s questions for the default target that do not depend on another answer."""
    return [q for q in target_questions(target_profile(None, load_rules())) if not q.when]


def _fields_for(questions: list[Question]) -> list[tuple[Question, facts.Field]]:
    by_key = {f.key: f for f in facts.all_fields()}
    return [(q, by_key[q.path]) for q in questions if q.path in by_key]


@bp.route("/new", methods=["GET", "POST"])
def new() -> Any:
    workspace = current_workspace()
    questions = _fields_for(new_case_questions())
    if workspace.single_case:
        return render_template("new.html", questions=questions, errors={"case_name": [
            "本次只打开了一个案件，不能在它旁边新建。要管理多个案件，请在存放案件的文件夹上运行 evidencekit serve。"]},
            values={}, single=True, case_name=None), 400
    if request.method == "GET":
        return render_template("new.html", questions=questions, errors={}, values={}, single=False, case_name=None)
    form = request.form
    values: dict[str, Any] = {q.path: (form.getlist(q.path) if f.kind == "choices" else form.get(q.path, ""))
                              for q, f in questions}
    values["case_name"] = form.get("case_name", "")
    errors: dict[str, list[str]] = {}
    name = clean_case_name(values["case_name"])
    target = workspace.root / name if name else None
    if not name:
        errors["case_name"] = ["请填写案件名称（如 张三-抖音-手提包），不能只有标点或空格"]
    elif target is not None and os.path.lexists(target):
        errors["case_name"] = [f"已有名为“{name}”的文件夹，请换一个名称"]
    answers: dict[str, Value] = {}
    for question, _field in questions:
        raw = values[question.path]
        text = "、".join(raw) if isinstance(raw, list) else raw
        if not text.strip():
            continue
        try:
            answers[question.path] = question.parse(text)
        except ValueError as exc:
            problem, expected = exc.args
            errors[question.path] = [f"{problem}；应为：{expected}"]
    if errors or target is None:
        return render_template("new.html", questions=questions, errors=errors, values=values, single=False,
                               case_name=None), 400
    _create_case(target, answers)
    return redirect(url_for("cases.facts", name=name), code=303)


def _create_case(target: Path, answers: dict[str, Value]) -> None:
    """The case is made in a hidden folder beside its place and renamed into it when complete,
    so an existing folder is never written into and a failure leaves nothing half made."""
    stage = stage_directory(target)
    try:
        os.chmod(stage, 0o755)  # a case folder like `init` makes (mkdtemp's is private)
        create_case_folder(stage, {})
        if answers:
            set_values(stage / "case.yaml", answers)
        publish_directory(stage, target, replace_existing=False)
    finally:
        if stage.exists():
            shutil.rmtree(stage, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# Case facts
# ---------------------------------------------------------------------------------------------


def _proposals_from_form() -> dict[str, Proposal]:
    """The OCR proposals the page offered (sent back with the form, to write `init`'s note)."""
    out: dict[str, Proposal] = {}
    for key in (f.key for f in facts.all_fields()):
        value = request.form.get(f"proposal:{key}")
        source = request.form.get(f"source:{key}", "")
        if value:
            out[key] = Proposal(value[:200], source[:40])
    return out


def _form_answers() -> dict[str, str | list[str]]:
    answers: dict[str, str | list[str]] = {}
    for f in facts.all_fields():
        if f.kind == "choices":
            if f"{f.key}:shown" in request.form:  # unticking every box sends no value at all
                answers[f.key] = request.form.getlist(f.key)
        elif f.key in request.form:
            answers[f.key] = request.form[f.key]
    return answers


def _ocr_proposals(root: Path) -> tuple[dict[str, Proposal], str]:
    """OCR proposals the loader would accept, by path; or a Chinese note why there are none."""
    from evidencekit.media.ocr import INSTALL_HINT, ocr_unavailable_reason
    from evidencekit.pipeline import BuildOptions, assess_case

    if ocr_unavailable_reason() is not None:
        return {}, f"没有安装文字识别组件，不能从截图里读出订单信息（安装：{INSTALL_HINT}）"
    try:
        assessment = assess_case(root, BuildOptions(ocr=True))
    except CaseFileError:
        return {}, "case.yaml 暂时读不了，截图里的信息这次不作建议；请先改正下面标出的问题"
    offered = {}
    for path, proposal in screenshot_proposals(assessment).items():
        question = facts.question_for(path)
        try:
            if question is not None:
                question.parse(proposal.value)
        except ValueError:
            continue
        offered[path] = proposal
    return offered, "" if offered else "截图里没有读出可以填写的信息"


def _ocr_available() -> str:
    """"" when the [ocr] extra is installed, else the one-line note how to get it."""
    from evidencekit.media.ocr import INSTALL_HINT, ocr_unavailable_reason

    if ocr_unavailable_reason() is None:
        return ""
    return f"从截图自动读出订单号等信息需要文字识别组件：{INSTALL_HINT}"


@bp.route("/case/<name>/facts", methods=["GET", "POST"], endpoint="facts")
def facts_page(name: str) -> Any:
    root = case_root(name)
    state = facts.read_state(root)
    values: dict[str, Any] = facts.shown_values(state.values)
    problems = state.problems
    saved: tuple[str, ...] | None = None
    proposals: dict[str, Proposal] = {}
    ocr_note = ""
    status = 200
    if request.method == "POST" and request.form.get("action") == "ocr":
        proposals, ocr_note = _ocr_proposals(root)
    elif request.method == "POST":
        answers = _form_answers()
        result = facts.save_facts(root, answers, _proposals_from_form())
        if result.problems:
            values.update(answers)
            problems, status = result.problems, 400
        else:
            saved = result.written
            state = facts.read_state(root)
            values, problems = facts.shown_values(state.values), state.problems
    labels = {f.key: f.label for f in facts.all_fields()}
    return render_template(
        "facts.html", case_name=name, sections=facts.case_sections(), values=values, problems=problems,
        unreadable=current_workspace().public_text(state.unreadable), saved=saved, labels=labels,
        proposals=proposals, ocr_note=ocr_note, ocr_missing=_ocr_available(),
    ), status


# ---------------------------------------------------------------------------------------------
# Follow-up log and deadlines
# ---------------------------------------------------------------------------------------------


@bp.route("/case/<name>/followup", methods=["GET", "POST"])
def followup(name: str) -> Any:
    root = case_root(name)
    rules = load_rules()
    errors: dict[str, list[str]] = {}
    logged = ""
    form = {"note": "", "channel": "seller", "ref": "", "time": ""}
    status_code = 200
    if request.method == "POST":
        form = {key: request.form.get(key, "")[:MAX_NOTE_CHARS + 1] for key in form}
        if len(form["note"]) > MAX_NOTE_CHARS or len(form["ref"]) > 200:
            errors["note"] = [f"跟进内容最多 {MAX_NOTE_CHARS} 字，工单号最多 200 字"]
        else:
            try:
                done = log_followup(root, form["note"], channel=form["channel"], ref=form["ref"],
                                    when=form["time"] or None, now=_now(), rules=rules)
                logged = f"已记录跟进：{format_datetime(done.time, False)} {done.channel_label}：{done.event.note}"
                form = {"note": "", "channel": form["channel"], "ref": "", "time": ""}
            except FollowupTimeError as exc:
                errors["time"] = [exc.message]
            except FollowupUsageError as exc:
                errors["channel" if "渠道" in exc.message else "note"] = [exc.message]
            except CaseFileError as exc:
                errors[""] = [p.render() for p in exc.problems]
            except EvidenceKitError as exc:
                errors[""] = [public_message(exc)]
        status_code = 400 if errors else 200
    page: dict[str, Any] = {"events": [], "status": None, "load_error": []}
    try:
        case = load_case(root)
        now = _now().astimezone(case.tz)
        page["status"] = case_status(case, rules, now)
        page["events"] = [{
            "time": format_datetime(e.time, False) if e.time else "时间不明",
            "channel": channel_label(e.channel, rules), "note": e.note, "ref": e.ref,
        } for e in case.events]
    except CaseFileError as exc:
        page["load_error"] = [p.render() for p in exc.problems]
    channels = [(key, words[0]) for key, words in rules.words("channel").items()]
    return render_template("followup.html", case_name=name, errors=errors, logged=logged, form=form,
                           channels=channels, **page), status_code
