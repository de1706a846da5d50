"""The command line: one test per exit code, exact messages, and no partial output on failure."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from factories import make_jpeg

from evidencekit.cli import main
from evidencekit.errors import ExitCode


def run(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def minimal_case(root: Path, case_yaml: str | None = None) -> Path:
    make_jpeg(root / "evidence" / "product" / "IMG_20241113_151000.jpg")
    if case_yaml is not None:
        (root / "case.yaml").write_text(case_yaml, encoding="utf-8")
    return root


def no_pdfs(folder: Path) -> bool:
    return not [p for p in folder.rglob("*") if p.suffix in {".pdf", ".tmp"}]


# --- exit code 0 ------------------------------------------------------------------------------


def test_build_zero_config_folder_with_only_evidence(tmp_path: Path) -> None:
    case = minimal_case(tmp_path / "c")
    code, out, err = run("build", case)
    assert code == ExitCode.OK, err
    assert (case / "dossier.pdf").is_file()
    assert "已生成" in out and "1 项证据" in out


# --- exit code 1 ------------------------------------------------------------------------------


def test_internal_error_has_hint_and_no_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    case = minimal_case(tmp_path / "c")

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("simulated bug")

    monkeypatch.setattr("evidencekit.pdf.render.render_dossier", boom)
    code, out, err = run("build", case)
    assert code == ExitCode.INTERNAL
    assert "内部错误" in err and "--debug" in err
    assert "Traceback" not in err + out
    assert no_pdfs(case)


def test_debug_shows_the_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    case = minimal_case(tmp_path / "c")

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("simulated bug")

    monkeypatch.setattr("evidencekit.pdf.render.render_dossier", boom)
    code, _out, err = run("build", case, "--debug")
    assert code == ExitCode.INTERNAL
    assert "Traceback" in err and "simulated bug" in err


# --- exit code 2 ------------------------------------------------------------------------------


def test_usage_error_is_clicks_own(tmp_path: Path) -> None:
    code, _out, err = run("build", tmp_path, "--target", "fax")
    assert code == ExitCode.USAGE
    assert "fax" in err


# --- exit code 3 ------------------------------------------------------------------------------


def test_path_traversal_in_case_yaml_exits_3_naming_the_key_and_writes_nothing(tmp_path: Path) -> None:
    case = minimal_case(tmp_path / "c", "evidence:\n  - file: ../../etc/hostname\n    title: x\n")
    code, out, err = run("build", case)
    assert code == ExitCode.CASE_INVALID
    assert "evidence[0].file" in err and "第 2 行" in err
    assert "Traceback" not in err + out
    assert no_pdfs(tmp_path)


def test_unknown_key_gets_did_you_mean(tmp_path: Path) -> None:
    case = minimal_case(tmp_path / "c", "complainent:\n  name: 张三\n")
    code, _out, err = run("check", case)
    assert code == ExitCode.CASE_INVALID
    assert "complainent" in err and "complainant" in err


# --- exit code 4 ------------------------------------------------------------------------------


def test_missing_case_folder_exits_4(tmp_path: Path) -> None:
    code, _out, err = run("build", tmp_path / "nope")
    assert code == ExitCode.FOLDER_UNUSABLE
    assert "nope" in err


def test_folder_without_evidence_exits_4(tmp_path: Path) -> None:
    (tmp_path / "c").mkdir()
    code, _out, err = run("check", tmp_path / "c")
    assert code == ExitCode.FOLDER_UNUSABLE
    assert "evidence" in err


# --- exit code 5 ------------------------------------------------------------------------------


def test_existing_output_without_force_exits_5_and_is_untouched(tmp_path: Path) -> None:
    case = minimal_case(tmp_path / "c")
    out = tmp_path / "out.pdf"
    out.write_bytes(b"keep me")
    code, _o, err = run("build", case, "-o", out)
    assert code == ExitCode.OUTPUT
    assert "--force" in err
    assert out.read_bytes() == b"keep me"
    code, _o, err = run("build", case, "-o", out, "--force")
    assert code == ExitCode.OK, err
    assert out.read_bytes().startswith(b"%PDF")


def test_output_inside_evidence_exits_5(tmp_path: Path) -> None:
    case = minimal_case(tmp_path / "c")
    code, _o, err = run("build", case, "-o", case / "evidence" / "x.pdf")
    assert code == ExitCode.OUTPUT
    assert "evidence" in err
    assert not (case / "evidence" / "x.pdf").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_read_only_output_folder_exits_5(tmp_path: Path) -> None:  # pragma: no cover - non-root only
    case = minimal_case(tmp_path / "c")
    ro = tmp_path / "ro"
    ro.mkdir(mode=0o500)
    code, _o, _err = run("build", case, "-o", ro / "x.pdf")
    assert code == ExitCode.OUTPUT


# --- exit code 6 ------------------------------------------------------------------------------


def test_check_incomplete_exits_6_and_names_the_missing(tmp_path: Path) -> None:
    case = minimal_case(tmp_path / "c", "platform: douyin\nproblem:\n  type: not_as_shown\n")
    code, out, _err = run("check", case, "--target", "12315")
    assert code == ExitCode.INCOMPLETE
    assert "投诉人" in out and "✗" in out


def test_check_json_is_machine_readable(tmp_path: Path) -> None:
    case = minimal_case(tmp_path / "c", "platform: douyin\nproblem:\n  type: not_as_shown\n")
    code, out, _err = run("check", case, "--json")
    doc = json.loads(out)
    assert code == ExitCode.INCOMPLETE
    assert doc["complete"] is False
    assert any(item["status"] == "missing" for item in doc["checklist"])


def test_build_strict_refuses_incomplete_case_without_output(tmp_path: Path) -> None:
    case = minimal_case(tmp_path / "c")
    code, _out, err = run("build", case, "--strict")
    assert code == ExitCode.INCOMPLETE
    assert "--strict" in err
    assert no_pdfs(case)


# --- init / add -------------------------------------------------------------------------------


def test_init_no_input_writes_template_and_folders(tmp_path: Path) -> None:
    code, _out, err = run("init", tmp_path / "new", "--no-input")
    assert code == ExitCode.OK, err
    assert (tmp_path / "new" / "case.yaml").is_file()
    for sub in ("order", "product", "livestream", "chat", "unboxing", "logistics", "payment"):
        assert (tmp_path / "new" / "evidence" / sub).is_dir()
    # The template itself must load and check cleanly (exit 6 for missing facts, never 3).
    code, _o, err = run("check", tmp_path / "new")
    assert code == ExitCode.INCOMPLETE, err
    code, _o, err = run("init", tmp_path / "new", "--no-input")
    assert code == ExitCode.OUTPUT


def test_add_copies_without_touching_the_source(tmp_path: Path) -> None:
    run("init", tmp_path / "c", "--no-input")
    src = make_jpeg(tmp_path / "Downloads" / "IMG_20241113_151000.jpg")
    os.utime(src, (1_700_000_000, 1_700_000_000))
    before = (src.read_bytes(), src.stat().st_mtime)
    code, _out, err = run("add", tmp_path / "c", src, "--kind", "product", "--title", "吊牌特写", "--proves", "材质为PU")
    assert code == ExitCode.OK, err
    copied = tmp_path / "c" / "evidence" / "product" / src.name
    assert copied.read_bytes() == before[0] and copied.stat().st_mtime == before[1]
    assert (src.read_bytes(), src.stat().st_mtime) == before
    assert "吊牌特写" in (tmp_path / "c" / "case.yaml").read_text(encoding="utf-8")
    code, _o, err = run("check", tmp_path / "c")
    assert code in (ExitCode.OK, ExitCode.INCOMPLETE), err


# --- exit code 7 ------------------------------------------------------------------------------


def test_verify_passes_then_exits_7_naming_a_changed_original(example_dossiers: dict[str, Path],
                                                              tmp_path: Path) -> None:
    built = example_dossiers["general"]  # built with the default target and options
    example_case = tmp_path / "case"
    shutil.copytree(built.parent / "case", example_case, copy_function=shutil.copy2)
    pdf = shutil.copy2(built, tmp_path / "dossier.pdf")
    code, out, err = run("verify", pdf, "--originals", example_case)
    assert code == ExitCode.OK, out + err
    photo = example_case / "evidence" / "product" / "IMG_20241113_151000.jpg"
    data = bytearray(photo.read_bytes())
    data[-10] ^= 0x01  # one bit of one byte
    photo.write_bytes(bytes(data))
    code, out, err = run("verify", pdf, "--originals", example_case)
    assert code == ExitCode.VERIFY_FAILED
    # the file's own row, not the closing hint (which names both statuses whatever happened)
    assert re.search(r"✗ 已改变\s+证据\d+ IMG_20241113_151000\.jpg", out + err), out + err


def test_init_asks_the_key_questions_in_chinese(tmp_path: Path) -> None:
    from evidencekit.case.load import load_case

    answers = "taobao\nnot_as_shown\n6912345678901234567\n真皮手提包: 棕色\n"
    result = CliRunner().invoke(main, ["init", str(tmp_path / "c"), "--target", "general"], input=answers)
    assert result.exit_code == ExitCode.OK, result.stderr
    assert "购物平台" in result.stdout and "订单号" in result.stdout and "问题类型" in result.stdout
    case = load_case(tmp_path / "c")
    assert case.platform == "taobao" and case.problem.type == "not_as_shown"
    assert case.order.number == "6912345678901234567" and case.order.product == "真皮手提包: 棕色"


# --- channel checks on the complete example case ----------------------------------------------


def _edit_case(case: Path, old: str, new: str) -> None:
    path = case / "case.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_complete_douyin_case_passes_12315_check(example_case: Path) -> None:
    code, out, err = run("check", example_case, "--target", "12315")
    assert code == ExitCode.OK, out + err
    assert "必需项齐全" in out


def test_missing_phone_fails_12315_check_naming_the_field(example_case: Path) -> None:
    _edit_case(example_case, '  phone: "13800138000"\n', "")
    code, out, _err = run("check", example_case, "--target", "12315")
    assert code == ExitCode.INCOMPLETE
    assert "投诉人电话" in out and "complainant.phone" in out


def test_invalid_credit_code_fails_12315_check_naming_the_field(example_case: Path) -> None:
    text = (example_case / "case.yaml").read_text(encoding="utf-8")
    code_line = next(line for line in text.splitlines() if "credit_code" in line)
    _edit_case(example_case, code_line, '  credit_code: "91330106MA2B0K7L1A"')
    code, out, _err = run("check", example_case, "--target", "12315")
    assert code == ExitCode.INCOMPLETE
    assert "统一社会信用代码" in out and "校验" in out


def test_no_temporary_files_left_after_a_failed_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    case = minimal_case(tmp_path / "c")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("simulated bug")

    monkeypatch.setattr("evidencekit.integrity.attach.attach_files", boom)
    code, _out, _err = run("build", case)
    assert code == ExitCode.INTERNAL
    assert list(scratch.iterdir()) == []
    assert no_pdfs(case) and not [p for p in case.iterdir() if p.name.startswith(".")]


def test_progress_is_quiet_off_a_terminal_and_shows_the_current_file(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from evidencekit.cli.common import progress_printer

    assert progress_printer(quiet=True) is None
    monkeypatch.setattr("sys.stderr", io.StringIO())
    assert progress_printer(quiet=False) is None  # StringIO is not a terminal

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty = Tty()
    monkeypatch.setattr("sys.stderr", tty)
    show = progress_printer(quiet=False)
    assert show is not None
    show(3, 10, "evidence/product/IMG_20241113_151000.jpg")
    assert "3/10" in tty.getvalue() and "IMG_20241113_151000.jpg" in tty.getvalue()


# --- Chinese wherever a shopper types (issue 12 item 7) ---------------------------------------


@pytest.mark.parametrize(("word", "folder"), [("订单", "order"), ("开箱视频", "unboxing"), ("Chat", "chat"),
                                              ("order", "order")])
def test_add_kind_accepts_the_chinese_names(tmp_path: Path, word: str, folder: str) -> None:
    run("init", tmp_path / "c", "--no-input")
    src = make_jpeg(tmp_path / "Downloads" / "IMG_20241113_151000.jpg")
    code, out, err = run("add", tmp_path / "c", src, "--kind", word)
    assert code == ExitCode.OK, err
    assert (tmp_path / "c" / "evidence" / folder / src.name).is_file()
    assert f"evidence/{folder}/" in out


def test_an_unknown_kind_is_refused_listing_the_chinese_choices(tmp_path: Path) -> None:
    run("init", tmp_path / "c", "--no-input")
    src = make_jpeg(tmp_path / "IMG_20241113_151000.jpg")
    code, _out, err = run("add", tmp_path / "c", src, "--kind", "截图")
    assert code == ExitCode.USAGE
    assert "截图 不是可用的证据类别" in err and "order 订单截图" in err and "unboxing 开箱视频" in err
    assert "Invalid value" not in err and "is not one of" not in err
    assert not list((tmp_path / "c" / "evidence").rglob("*.jpg"))


@pytest.mark.parametrize("word", ["全国12315平台", "12315", "邮件", "平台介入", "支付宝", "通用"])
def test_target_accepts_the_chinese_names(tmp_path: Path, word: str) -> None:
    case = minimal_case(tmp_path / "c")
    code, _out, err = run("check", case, "--target", word, "-q")
    assert code in (ExitCode.OK, ExitCode.INCOMPLETE), err


def test_an_unknown_target_is_refused_listing_the_chinese_choices(tmp_path: Path) -> None:
    case = minimal_case(tmp_path / "c")
    code, _out, err = run("check", case, "--target", "消费者协会")
    assert code == ExitCode.USAGE
    assert "消费者协会 不是可用的提交渠道" in err and "12315 全国12315平台" in err and "email 电子邮件投诉" in err


def test_log_channel_accepts_the_chinese_names(tmp_path: Path) -> None:
    from evidencekit.case.load import load_case

    run("init", tmp_path / "c", "--no-input")
    for word in ("平台介入", "商家", "消协"):
        code, _out, err = run("log", tmp_path / "c", "联系了一次", "--channel", word, "--time", "2024-11-14 10:00")
        assert code == ExitCode.OK, err
    assert [e.channel for e in load_case(tmp_path / "c").events] == ["platform", "seller", "other"]


def _init(tmp_path: Path, answers: str, target: str = "general") -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["init", str(tmp_path / "c"), "--target", target], input=answers)
    return result.exit_code, result.stdout, result.stderr


def test_init_accepts_the_chinese_labels_it_shows(tmp_path: Path) -> None:
    from evidencekit.case.load import load_case

    code, out, err = _init(tmp_path, "抖音\n假冒商品\n6912345678901234567\n运动鞋\n")
    assert code == ExitCode.OK, err
    assert "可选：抖音、淘宝" in out and "、假冒商品、" in out  # the labels the prompt shows
    case = load_case(tmp_path / "c")
    assert case.platform == "douyin" and case.problem.type == "counterfeit"


def test_init_asks_again_for_an_unknown_platform(tmp_path: Path) -> None:
    from evidencekit.case.load import load_case

    code, out, err = _init(tmp_path, "拼夕夕\n淘宝\n")
    assert code == ExitCode.OK, err
    assert "“拼夕夕”不是可用的取值：拼夕夕；应为：可选：抖音、淘宝" in out + err
    assert load_case(tmp_path / "c").platform == "taobao"


def test_init_refuses_an_amount_in_words_at_the_prompt(tmp_path: Path) -> None:
    from evidencekit.case.load import load_case

    code, out, err = _init(tmp_path, "\n\n三百九十九元\n399\n", target="payment")  # no type, no number
    assert code == ExitCode.OK, err
    # The case loader's own words, at the prompt instead of at the next command.
    assert "不是金额：三百九十九元" in out + err and "如 399 或 399.00" in out + err
    assert "Error" not in out + err
    assert str(load_case(tmp_path / "c").order.amount) == "399.00"


def test_click_usage_errors_are_in_chinese(tmp_path: Path) -> None:
    code, _out, err = run("add")
    assert code == ExitCode.USAGE
    assert "用法：main add [选项] DIRECTORY FILES..." in err  # CliRunner calls the program "main"
    assert "缺少参数 'DIRECTORY'" in err and "运行 'main add --help' 查看帮助" in err
    assert "错误：" in err
    code, _out, err = run("build", tmp_path, "--nosuch")
    assert code == ExitCode.USAGE and "没有这个选项 '--nosuch'" in err
    code, _out, err = run("check", tmp_path, "--targt", "12315")
    assert "没有这个选项 '--targt'" in err and "您是不是想写其中之一：'--strict', '--target'" in err
    code, _out, err = run("stamp", tmp_path / "no.pdf", "--tsa")
    assert code == ExitCode.USAGE and "选项 '--tsa' 需要一个值" in err
    code, _out, err = run("nosuch")
    assert code == ExitCode.USAGE and "没有这个命令 'nosuch'" in err
    for english in ("Usage:", "Missing argument", "No such option", "No such command", "Try ", "Error:",
                    "Did you mean", "requires an argument"):
        assert english not in err


def test_click_help_is_in_chinese() -> None:
    code, out, _err = run("--help")
    assert code == ExitCode.OK
    assert "用法：main [选项] 命令 [参数]..." in out
    assert "选项：" in out and "命令：" in out and "显示此帮助并退出。" in out and "显示版本并退出。" in out
    code, out, _err = run("check", "--help")
    assert "[默认：general]" in out
    for english in ("Usage:", "Options:", "Commands:", "Show this message and exit", "Show the version",
                    "[default:"):
        assert english not in out


# Messages a developer sees (a command declared wrongly), never a shopper; click raises them as
# TypeError/ValueError at import time or on a terminal without Bash completion.
_DEVELOPER_MESSAGES = {
    "Could not determine name for option with declarations {decls!r}",
    "No options defined but a name was passed ({name}). Did you mean to declare an argument instead? "
    "Did you mean to pass '--{name}'?",
    "Arguments take exactly one parameter declaration, got {length}: {decls}.",
    "Name '{name}' defined twice",
    "Boolean option {decl!r} cannot use the same flag for true/false.",
    "Unknown color {colour!r}",
    "Unknown standard stream '{name}'",
    "Choice({choices})",
    "Windows error: {error}",
    "Couldn't detect Bash version, shell completion is not supported.",
    "Shell completion is not supported for Bash versions older than 4.4.",
}


def _click_messages() -> set[str | tuple[str, str]]:
    """Every literal click passes to gettext / ngettext, read from click's installed source."""
    import ast

    import click

    found: set[str | tuple[str, str]] = {"required"}  # passed through a variable: _(extra["required"])
    for source in Path(click.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            literals = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            if node.func.id == "_" and len(literals) == 1:
                found.add(literals[0])
            elif node.func.id == "ngettext" and len(literals) == 2:
                found.add((literals[0], literals[1]))
    return found


def test_every_message_click_shows_a_user_has_a_chinese_translation() -> None:
    from evidencekit.cli.click_zh import MESSAGES, PLURALS

    messages = _click_messages()
    assert len(messages) > 60  # the scan found click's messages at all
    missing = sorted(str(m) for m in messages - _DEVELOPER_MESSAGES if m not in MESSAGES and m not in PLURALS)
    assert not missing, missing
    stale = sorted(str(m) for m in {*MESSAGES, *PLURALS} if m not in messages)
    assert not stale, stale  # click reworded these: the Chinese would no longer be shown


def test_each_translation_keeps_the_placeholders_of_its_message() -> None:
    import string

    from evidencekit.cli.click_zh import MESSAGES, PLURALS

    def fields(text: str) -> set[str]:
        named = {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name}
        return named | set(re.findall(r"%\((\w+)\)s", text))

    for message, chinese in MESSAGES.items():
        assert fields(chinese) == fields(message), message
    for (singular, plural), forms in PLURALS.items():
        for chinese in forms:  # click formats both forms with every placeholder of either
            assert fields(chinese) <= fields(singular) | fields(plural), singular


@pytest.mark.parametrize(("command", "option", "vocabulary"), [
    ("add", "kind", "kind"), ("check", "target", "target"), ("pack", "target", "target"),
    ("log", "channel", "channel"),
])
def test_the_chinese_names_in_an_options_help_are_accepted(command: str, option: str, vocabulary: str) -> None:
    # The help is written in code (--help reads no template); each "key 中文" pair it shows must work.
    from evidencekit.rules.catalog import load_rules, resolve_word

    param = next(p for p in main.commands[command].params if p.name == option)
    assert isinstance(param, click.Option) and param.help
    pairs = re.findall(r"([a-z0-9_]+) ([\u4e00-\u9fff]+)", param.help)
    assert len(pairs) >= 4, param.help
    for key, word in pairs:
        assert resolve_word(vocabulary, word, load_rules()) == key, (key, word)  # type: ignore[arg-type]
