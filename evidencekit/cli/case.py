"""`init` and `add`: create a case folder, copy evidence into it."""

# Library modules are imported inside each command, so `evidencekit --help` loads none of them.
from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from evidencekit.cli.common import (
    KINDS,
    TARGETS,
    WordChoice,
    as_target,
    debug_option,
    handle_errors,
)
from evidencekit.errors import CaseFileError, CaseFolderError, UsageError
from evidencekit.model import Target

if TYPE_CHECKING:
    from evidencekit.buildtypes import Assessment
    from evidencekit.case.interview import Proposal, Question


# The questions are Chinese: they end with a full-width colon.
_SUFFIX = "："


def _read_answer(prompt: str, accept: Callable[[str], object], default: str = "") -> str | None:
    """One line from stdin (a terminal or a pipe), asked again with ``accept``'s refusal — the
    case loader's words — until ``accept`` takes it; an empty line is ``default`` ("" skips),
    None is the end of input."""
    while True:
        click.echo(prompt + _SUFFIX, nl=False)
        line = sys.stdin.readline()
        if not line:
            click.echo()
            return None
        text = line.strip()
        if not sys.stdin.isatty():
            click.echo(text)  # piped answers appear in the transcript as if typed
        text = text or default
        if not text:
            return ""
        try:
            accept(text)
        except ValueError as exc:
            problem, expected = exc.args
            click.echo(f"  {problem}：{text}；应为：{expected}，请重新输入")
            continue
        return text


def _ask_target() -> str | None:
    from evidencekit.rules.catalog import load_rules, resolve_word

    rules = load_rules()
    labels = "、".join(profile.label for profile in rules.targets.values())
    click.echo(f"  可选：{labels}（直接回车：{rules.targets[rules.default_target].label}）")

    def accept(text: str) -> str:
        key = resolve_word("target", text, rules)
        if key is None:
            raise ValueError(f"“{text}”不是可用的提交渠道", f"可选：{labels}")
        return key

    answer = _read_answer("打算向哪里投诉", accept)
    return accept(answer) if answer else None


def _ask(question: Question, proposal: Proposal | None) -> str | None:
    if question.problem:
        click.echo(f"  case.yaml 里的{question.label}“{question.current}”：{question.problem}")
    notes = []
    if question.choices():
        notes.append("可选：" + "、".join(question.choices()) + ("（可写多项，用顿号隔开）" if question.many else ""))
    if question.why:
        notes.append(question.why)
    if proposal is not None and proposal.source:
        notes.append(f"方括号里的值读自{proposal.source}，请核对；直接回车采用")
    for note in notes:
        click.echo(f"  {note}")
    prompt = question.label + ("（可不填）" if not question.required else "")
    if proposal is not None:
        prompt += f" [{proposal.value}]"
    return _read_answer(prompt, question.parse, proposal.value if proposal is not None else "")


def _gather(sources: tuple[str, ...]) -> tuple[dict[str, list[Path]], list[Path]]:
    """The files of ``sources`` whose kind a folder name tells (as the case inventory reads folder
    names: the folder given or one inside it), by kind; and the loose files, in order."""
    from evidencekit.case.inventory import LINK_OUTSIDE_GIVEN_REASON, kind_for_folder, walk_tree

    by_kind: dict[str, list[Path]] = {}
    loose: list[Path] = []
    for given in sources:
        path = Path(given)
        if path.is_file():
            loose.append(path)
            continue
        if not path.is_dir():
            raise CaseFolderError(f"要添加的文件或文件夹 {path} 不存在")
        # The case inventory's walk: a folder given may be a stranger's, so a link leaving it,
        # a device or a million files are refused (and named), never followed or read.
        for entry in walk_tree(path, path.resolve(), (path.name,), outside_reason=LINK_OUTSIDE_GIVEN_REASON):
            if entry.refused:
                click.echo(f"未添加 {'/'.join(entry.rel)}：{entry.refused}")
                continue
            if entry.rel[-1].startswith("."):
                continue
            kind = next((k for k in (kind_for_folder(part) for part in entry.rel[:-1]) if k is not None), None)
            if kind is None:
                loose.append(entry.path)
            else:
                by_kind.setdefault(kind.value, []).append(entry.path)
    return by_kind, loose


def _ask_kind(file: Path) -> str:
    """The kind of a loose file, asked in Chinese; an empty answer or the end of input is 其他."""
    from evidencekit.rules.catalog import load_rules, resolve_word

    rules = load_rules()
    labels = "、".join(words[0] for words in rules.words("kind").values())

    def accept(text: str) -> str:
        key = resolve_word("kind", text, rules)
        if key is None:
            raise ValueError(f"“{text}”不是证据类别", f"可选：{labels}")
        return key

    click.echo(f"  可选：{labels}（直接回车：其他）")
    answer = _read_answer(f"{file.name} 是哪类证据", accept)
    return accept(answer) if answer else "other"


def _add_sources(root: Path, sources: tuple[str, ...], kind: str | None, no_input: bool) -> list[str]:
    """Copy the files of ``sources`` into the case as `add` does; their case-relative paths."""
    from evidencekit.case.folder import add_files

    by_kind, loose = _gather(sources)
    if loose and kind is None and no_input:
        raise UsageError(f"{loose[0]} 不在能看出证据类别的文件夹里",
                         hint="加 --kind 指定类别（如 --kind order），或去掉 --no-input 逐个回答")
    for file in loose:
        by_kind.setdefault(kind or _ask_kind(file), []).append(file)
    copied: list[str] = []
    for each_kind, files in by_kind.items():
        for rel in add_files(root, files, each_kind):
            click.echo(f"已复制：{rel}")
            copied.append(rel)
    return copied


def _assess(root: Path) -> Assessment | None:
    """check's assessment of the case with OCR on; None (said why) when case.yaml cannot be read."""
    from evidencekit.pipeline import BuildOptions, assess_case

    try:
        return assess_case(root, BuildOptions(ocr=True))
    except CaseFileError as exc:
        click.echo(f"case.yaml 暂时读不了（{exc}），截图里的信息这次不作建议")
        return None


def _proposals(assessment: Assessment | None) -> dict[str, Proposal]:
    from evidencekit.case.interview import screenshot_proposals
    from evidencekit.media.ocr import INSTALL_HINT, ocr_unavailable_reason

    if ocr_unavailable_reason() is not None:
        click.echo(f"没有安装文字识别组件，不能从截图里读出订单信息，下面的问题请照截图填写（安装：{INSTALL_HINT}）")
        return {}
    if assessment is None:
        return {}
    return screenshot_proposals(assessment)


def _offer_moments(root: Path, assessment: Assessment | None, copied: list[str]) -> None:
    """Print the suggested moments of each recording added, with a case.yaml snippet; with a yes,
    write them as that file's ``moments:``."""
    from evidencekit.case.edit import add_moments
    from evidencekit.media.ocr import ocr_unavailable_reason
    from evidencekit.media.suggest import suggest_for_files

    if assessment is None or ocr_unavailable_reason() is not None:
        return
    added = set(copied)
    items = [(ex.source.rel_path, ex.source, ex.inspection) for ex in assessment.exhibits
             if ex.source.rel_path in added]
    for found in suggest_for_files(items, assessment.case.tz).values():
        click.echo(found.to_text())
        if not found.moments:
            continue
        answer = _read_answer("把这些时刻写进 case.yaml 吗（是/否，直接回车：否）", _yes_or_no)
        if answer and _yes_or_no(answer):
            if add_moments(root, found.file, [m.line for m in found.moments]):
                click.echo(f"已写入 case.yaml：{found.file} 的 moments（{len(found.moments)} 条），请对照录屏核对")
            else:
                click.echo(f"case.yaml 里 {found.file} 已有 moments，没有改动；需要时把上面的片段粘贴进去")
        else:
            click.echo("没有写入：看过录屏确认后，可把上面的片段粘贴进 case.yaml")


def _yes_or_no(text: str) -> bool:
    if text.strip().casefold() in ("是", "好", "y", "yes", "对"):
        return True
    if text.strip().casefold() in ("否", "不", "n", "no"):
        return False
    raise ValueError(f"“{text}”不是是或否", "是 或 否")


@click.command()
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--target", "-t", type=WordChoice("target", TARGETS), default=None, callback=as_target,
              help="打算向哪里投诉，决定要问哪些信息：general 通用 / platform 平台介入 / 12315 / email 邮件 / "
                   "payment 支付渠道投诉（英文或中文都可以）；不写时先问这一项。")
@click.option("--no-input", is_flag=True, help="不提问，直接写出空白模板。")
@click.option("--force", is_flag=True, help="覆盖已有的 case.yaml（重新从空白模板开始）。")
@click.option("--from", "sources", multiple=True, type=click.Path(exists=True),
              help="先把这些证据文件或文件夹复制进案件（不移动、不修改原文件），再按截图上识别出的文字建议答案；"
                   "可写多次。文件夹按名称（order、订单 等）定类别，其余文件用 --kind 或逐个回答。")
@click.option("--kind", "-k", type=WordChoice("kind", KINDS), default=None,
              help="--from 里不在类别文件夹中的文件的证据类别（英文或中文都可以）。")
@debug_option
@handle_errors
def init(directory: str, target: Target | None, no_input: bool, force: bool, sources: tuple[str, ...],
         kind: str | None, debug: bool) -> None:
    """创建案件文件夹，逐项提问填好 case.yaml（投诉渠道需要的每一项，回答写中文即可）。

    已有 case.yaml 时只问缺少或写得不对的项目，保留您写的其他内容和注释。
    回答也可以从管道读入（每行一个）；--no-input 只写出带中文说明的空白模板。

    \b
    示例：
      evidencekit init 我的案件
      evidencekit init 我的案件 --target 12315
      evidencekit init 我的案件 --no-input
      evidencekit init 我的案件 --from ~/Downloads/订单截图.png --kind order
    """
    from evidencekit.case.folder import create_case_folder, ensure_evidence_folders
    from evidencekit.case.interview import interview, pending_questions
    from evidencekit.case.load import find_case_file

    root = Path(directory)
    if force or no_input or find_case_file(root) is None:
        create_case_folder(root, {}, force=force)
        click.echo(f"已创建案件文件夹：{root}")
    else:
        ensure_evidence_folders(root)
        click.echo(f"案件文件夹已存在：{root}，只问缺少或写得不对的项目")
    copied = _add_sources(root, sources, kind, no_input) if sources else []
    assessment = _assess(root) if copied and not no_input else None
    proposals = _proposals(assessment) if copied and not no_input else {}
    chosen = target.value if target is not None else None
    if not no_input:
        intro = "请回答下面的问题（直接回车跳过，以后再运行这条命令补填；可选项写中文名称即可）："
        if target is None:
            click.echo(intro)
            chosen = _ask_target()
        elif pending_questions(root, chosen):
            click.echo(intro)
        done = interview(root, _ask, target=chosen, proposals=proposals)
        if done.ended:
            click.echo("输入已结束，其余问题没有问。")
        if done.written:
            click.echo(f"已写入 case.yaml：{len(done.written)} 项")
        if done.proposed:
            click.echo(f"其中 {len(done.proposed)} 项取自截图识别的文字，case.yaml 里已注明出处，请对照截图核对")
        _offer_moments(root, assessment, copied)
        again = f"evidencekit init {directory}" + (f" --target {chosen}" if chosen else "")
        missing = [q.label for q in pending_questions(root, chosen) if q.required]
        if missing:
            click.echo("还缺：" + "、".join(missing) + f"（再运行 {again} 补填，或直接编辑 case.yaml）")
        elif not (done.written or done.skipped or done.ended):
            from evidencekit.rules.catalog import load_rules, target_profile

            click.echo(f"{target_profile(chosen, load_rules()).label}需要的案件信息都已填写。")
    click.echo("下一步：把证据文件放进 evidence/ 下对应的子文件夹（或用 evidencekit add），然后运行")
    click.echo(f"  evidencekit check {directory}" + (f" --target {chosen}" if chosen else ""))


@click.command()
@click.argument("directory", type=click.Path(file_okay=False))
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--kind", "-k", required=True, type=WordChoice("kind", KINDS),
              help="证据类别（决定放进哪个子文件夹），英文或中文都可以：order 订单、product 商品、livestream 直播、"
                   "chat 聊天、aftersales 售后、unboxing 开箱、logistics 物流、payment 支付、comparison 对比、report 报告、other 其他。")
@click.option("--title", default="", help="证据名称，写进 case.yaml。")
@click.option("--proves", default="", help="证明目的，写进 case.yaml。")
@debug_option
@handle_errors
def add(directory: str, files: tuple[str, ...], kind: str, title: str, proves: str, debug: bool) -> None:
    """把文件复制进案件（不移动、不修改原文件），可记录证据名称和证明目的。

    \b
    示例：
      evidencekit add 我的案件 ~/Downloads/Screenshot_20241114-190012.png --kind order --title 订单详情
    """
    from evidencekit.case.folder import add_files

    copied = add_files(Path(directory), [Path(f) for f in files], kind, title=title, proves=proves)
    for rel, number in copied.items():
        # A built case: the new file is numbered after every earlier exhibit, which keep theirs.
        click.echo(f"已复制：{rel}" + (f"（证据{number}）" if number is not None else ""))
