"""The README is a contract: commands, exit codes and the CI command must match the code."""

from __future__ import annotations

import re
from pathlib import Path

from evidencekit.cli import main
from evidencekit.errors import ExitCode

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_command_is_in_the_readme() -> None:
    for name in main.commands:
        assert f"evidencekit {name}" in README, f"command {name} missing from README"


def test_every_exit_code_is_in_the_readme_table() -> None:
    rows = set(re.findall(r"^\| (\d) \|", README, flags=re.M))
    assert rows == {str(int(code)) for code in ExitCode}


def test_ci_runs_the_readme_test_command() -> None:
    blocks = re.findall(r"```bash\n(.*?)\n```", README, flags=re.S)
    test_cmd = next(b for b in blocks if "pytest" in b)
    assert test_cmd.strip() in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_every_command_help_has_an_example() -> None:
    for name, cmd in main.commands.items():
        assert "示例" in (cmd.help or ""), f"{name} --help has no example"


def _limits_section() -> str:
    start = README.index("## 安全限制")
    return README[start : README.index("\n## ", start + 1)]


def test_every_limit_is_in_the_readme_with_its_number() -> None:
    # Issue 9: each limit a stranger's folder can hit is documented with its number. Changing a
    # constant without the README (or the other way round) fails here.
    from evidencekit.case import inventory
    from evidencekit.case import load as caseload
    from evidencekit.channels import batch, pack
    from evidencekit.integrity import manifest, tsa, verify
    from evidencekit.media import base, budget, chats, documents, images

    mib = 1024 * 1024
    section = _limits_section()
    expected = {
        f"最多读取 {inventory.MAX_WALK_ENTRIES:,} 个文件和文件夹、{inventory.MAX_WALK_DEPTH} 层子文件夹": "walk",
        f"{caseload.MAX_CASE_FILE_BYTES // mib} MB": "case.yaml",
        f"{caseload.MIN_CASE_YEAR}–{caseload.MAX_CASE_YEAR} 年": "case.yaml dates",
        f"{base.MAX_EXHIBIT_PAGES} 页": "pages per exhibit",
        f"前 {chats.MAX_CHAT_BYTES // mib} MB": "chat bytes",
        f"{chats.MAX_CHAT_LINES:,} 行": "chat lines",
        f"{chats.MAX_MESSAGES:,} 条消息": "chat messages",
        f"{chats.MAX_LINE_CHARS:,} 字": "chat line",
        f"{chats.MAX_MESSAGE_LINES} 行": "message lines",
        f"{base.MAX_IMAGE_PIXELS / 1e8:g} 亿像素": "image pixels",
        f"超过 {images.MAX_IMAGE_BYTES // mib} MB 不生成预览": "image bytes",
        f"文件超过 {documents.MAX_PDF_BYTES // mib} MB": "pdf bytes",
        f"最多 {budget.DEFAULT_DECODE_SECONDS:g} 秒、{budget.DEFAULT_DECODE_MEMORY // mib} MB 内存": "pdf budget",
        f"最多 {budget.DEFAULT_DECODE_SECONDS:g} 秒、{budget.DEFAULT_VIDEO_DECODE_MEMORY // mib // 1024} GB 内存":
            "video budget",
        f"{batch.DEFAULT_CASE_TIMEOUT:g} 秒": "batch timeout",
        f"解压后 {verify.MAX_ATTACHMENT_BYTES // mib} MB": "verify attachment",
        f"页面图片 {verify.MAX_IMAGE_BYTES // mib} MB": "verify image",
        f"绘图指令 {verify.MAX_CONTENT_BYTES // mib} MB": "verify content",
        f"清单 {manifest.MAX_MANIFEST_BYTES // mib} MB 且嵌套不超过 {manifest.MAX_MANIFEST_DEPTH} 层": "manifest",
        f"不超过 {tsa.MAX_TOKEN_BYTES // mib} MB 的普通文件": "token",
        f"不超过 {pack.NAME_MAX_BYTES} 字节": "pack names",
    }
    missing = [what for phrase, what in expected.items() if phrase not in section]
    assert not missing, f"limits missing or with another number in README: {missing}"


def test_readme_and_architecture_name_every_room_and_module() -> None:
    # "Find the room from the tree": both listings must follow every move and every new module.
    package = ROOT / "evidencekit"
    start = README.index("代码结构")
    readme_tree = README[start : README.index("静态检查", start)]
    architecture = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    missing = []
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package)
        if rel.name in ("__init__.py", "__main__.py") or rel.parts[0] == "fonts":
            continue
        # Top-level modules are listed as name.py; the others by their room and their name.
        needles = [rel.name] if len(rel.parts) == 1 else [f"{rel.parts[0]}/", rel.stem]
        for doc_name, text in (("README", readme_tree), ("docs/architecture.md", architecture)):
            if not all(re.search(rf"(?<![\w.]){re.escape(n)}(?![\w])", text) for n in needles):
                missing.append(f"{rel} in {doc_name}")
    assert not missing, missing
