"""Walking the case folder: kinds from folders, hashing first, and refusing what is not evidence."""

from __future__ import annotations

import hashlib
import os
import socket
import sys
import threading
import unicodedata
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from factories import sh, write_file

from evidencekit.case import inventory as inventory_module
from evidencekit.case.inventory import (
    BROKEN_LINK_REASON,
    DUPLICATE_DIR_LINK_REASON,
    JUNK_REASON,
    LINK_OUTSIDE_REASON,
    UNREADABLE_DIR_REASON,
    UNREADABLE_REASON,
    Inventory,
    kind_for_folder,
    scan_evidence,
)
from evidencekit.errors import CaseFolderError, ExitCode
from evidencekit.model import EvidenceKind, Severity, SourceFile

posix_only = pytest.mark.skipif(os.name != "posix", reason="needs POSIX links, FIFOs and byte file names")


@pytest.fixture
def case(tmp_path: Path) -> Path:
    root = tmp_path / "case"
    (root / "evidence").mkdir(parents=True)
    return root


def by_path(inv: Inventory) -> dict[str, SourceFile]:
    return {f.rel_path: f for f in inv.files}


def refused(inv: Inventory) -> dict[str, str]:
    return {r.rel_path: r.reason for r in inv.refused}


# ---------------------------------------------------------------------------------------------
# Kinds
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("folder", "kind"),
    [
        ("order", EvidenceKind.ORDER), ("订单", EvidenceKind.ORDER), ("Orders", EvidenceKind.ORDER),
        ("product", EvidenceKind.PRODUCT), ("商品", EvidenceKind.PRODUCT),
        ("livestream", EvidenceKind.LIVESTREAM), ("直播", EvidenceKind.LIVESTREAM),
        ("直播截图", EvidenceKind.LIVESTREAM),
        ("chat", EvidenceKind.CHAT), ("聊天", EvidenceKind.CHAT), ("聊天记录", EvidenceKind.CHAT),
        ("unboxing", EvidenceKind.UNBOXING), ("开箱", EvidenceKind.UNBOXING),
        ("logistics", EvidenceKind.LOGISTICS), ("物流", EvidenceKind.LOGISTICS),
        ("payment", EvidenceKind.PAYMENT), ("支付", EvidenceKind.PAYMENT),
        ("comparison", EvidenceKind.COMPARISON), ("对比", EvidenceKind.COMPARISON),
        ("report", EvidenceKind.REPORT), ("报告", EvidenceKind.REPORT),
        ("other", EvidenceKind.OTHER), ("其他", EvidenceKind.OTHER),
        ("aftersales", EvidenceKind.AFTERSALES), ("售后", EvidenceKind.AFTERSALES),
        ("退款", EvidenceKind.AFTERSALES),
    ],
)
def test_folder_names_and_aliases_give_kinds(case: Path, folder: str, kind: EvidenceKind) -> None:
    write_file(case / "evidence" / folder / "a.png", b"png")
    inv = scan_evidence(case)
    (src,) = inv.files
    assert src.kind is kind
    assert src.kind_from_folder
    assert src.rel_path == f"evidence/{folder}/a.png"
    assert inv.findings == ()


def test_kind_comes_from_the_first_folder_level(case: Path) -> None:
    write_file(case / "evidence" / "chat" / "2024-11" / "客服" / "a.png", b"x")
    (src,) = scan_evidence(case).files
    assert src.kind is EvidenceKind.CHAT and src.kind_from_folder


def test_unknown_folder_and_top_level_files_are_other_with_a_finding(case: Path) -> None:
    write_file(case / "evidence" / "loose.png", b"1")
    write_file(case / "evidence" / "截图" / "b.png", b"2")
    inv = scan_evidence(case)
    files = by_path(inv)
    for rel in ("evidence/loose.png", "evidence/截图/b.png"):
        assert files[rel].kind is EvidenceKind.OTHER
        assert not files[rel].kind_from_folder
    assert [(f.code, f.subject) for f in inv.findings] == [
        ("kind.unknown_folder", "evidence/loose.png"),
        ("kind.unknown_folder", "evidence/截图/b.png"),
    ]
    assert all(f.severity is Severity.WARNING and "其他" in f.message for f in inv.findings)


def test_misspelt_folder_gets_a_suggestion(case: Path) -> None:
    write_file(case / "evidence" / "oder" / "a.png", b"1")
    (finding,) = scan_evidence(case).findings
    assert "order" in finding.message


def test_kind_for_folder_normalises() -> None:
    assert kind_for_folder(" CHAT ") is EvidenceKind.CHAT
    assert kind_for_folder("截图") is None


# ---------------------------------------------------------------------------------------------
# Order, hash, size, time, and leaving originals alone
# ---------------------------------------------------------------------------------------------


def test_order_is_folder_then_name(case: Path) -> None:
    names = ["evidence/order/b.png", "evidence/chat/z.txt", "evidence/chat/sub/a.png", "evidence/chat/a.png",
             "evidence/chat-old/a.png", "evidence/top.png", "evidence/订单/c.png"]
    for i, rel in enumerate(names):
        write_file(case / rel, bytes([i]))
    got = [f.rel_path for f in scan_evidence(case).files]
    assert got == [
        "evidence/top.png",
        "evidence/chat/a.png",
        "evidence/chat/z.txt",
        "evidence/chat/sub/a.png",
        "evidence/chat-old/a.png",
        "evidence/order/b.png",
        "evidence/订单/c.png",
    ]
    assert [f.rel_path for f in scan_evidence(case).files] == got


def test_hash_size_and_mtime(case: Path) -> None:
    data = os.urandom(2 * 1024 * 1024 + 123)  # spans several 1 MiB chunks
    path = write_file(case / "evidence" / "unboxing" / "开箱.mp4", data)
    mtime_ns = 1_731_582_012_345_678_000  # 2024-11-14 11:00:12.345678 UTC
    os.utime(path, ns=(mtime_ns, mtime_ns))
    eastern = timezone(timedelta(hours=-5))
    (src,) = scan_evidence(case, eastern).files
    assert src.sha256 == hashlib.sha256(data).hexdigest()
    assert src.size == len(data)
    assert src.path == path.resolve()
    assert src.mtime == datetime(2024, 11, 14, 11, 0, 12, 345678, tzinfo=UTC)
    assert src.mtime.utcoffset() == timedelta(hours=-5)
    assert scan_evidence(case).files[0].mtime == sh(2024, 11, 14, 19, 0, 12).replace(microsecond=345678)


def test_empty_file_is_kept(case: Path) -> None:
    write_file(case / "evidence" / "order" / "empty.png", b"")
    (src,) = scan_evidence(case).files
    assert src.size == 0
    assert src.sha256 == hashlib.sha256(b"").hexdigest()


def test_originals_are_untouched(case: Path) -> None:
    path = write_file(case / "evidence" / "order" / "a.png", b"original bytes")
    os.utime(path, ns=(1_600_000_000_000_000_000, 1_700_000_000_000_000_000))
    before = os.stat(path)
    scan_evidence(case)
    after = os.stat(path)
    assert path.read_bytes() == b"original bytes"
    assert after.st_mtime_ns == before.st_mtime_ns
    assert after.st_mode == before.st_mode
    if hasattr(os, "O_NOATIME"):  # an old atime would be bumped by an ordinary read (relatime)
        assert after.st_atime_ns == before.st_atime_ns


# ---------------------------------------------------------------------------------------------
# Links, special files, permissions
# ---------------------------------------------------------------------------------------------


@posix_only
def test_link_to_etc_passwd_is_refused_and_not_read(case: Path, tmp_path: Path) -> None:
    secret = write_file(tmp_path / "outside" / "secret.txt", b"TOP-SECRET-CONTENT")
    (case / "evidence" / "chat").mkdir()
    os.symlink("/etc/passwd", case / "evidence" / "chat" / "passwd.txt")
    os.symlink(secret, case / "evidence" / "chat" / "secret.txt")
    os.symlink("../../../outside/secret.txt", case / "evidence" / "chat" / "relative.txt")
    inv = scan_evidence(case)
    assert inv.files == ()
    assert refused(inv) == {
        "evidence/chat/passwd.txt": LINK_OUTSIDE_REASON,
        "evidence/chat/relative.txt": LINK_OUTSIDE_REASON,
        "evidence/chat/secret.txt": LINK_OUTSIDE_REASON,
    }
    dump = repr(inv)
    for leaked in ("TOP-SECRET-CONTENT", "root:", "/etc", str(secret), "outside",
                   hashlib.sha256(b"TOP-SECRET-CONTENT").hexdigest()):
        assert leaked not in dump.replace(LINK_OUTSIDE_REASON, "")


@posix_only
def test_link_inside_the_case_folder_is_hashed(case: Path) -> None:
    target = write_file(case / "evidence" / "order" / "a.png", b"order screenshot")
    write_file(case / "notes" / "b.txt", b"outside evidence/ but inside the case")
    (case / "evidence" / "product").mkdir()
    os.symlink(target, case / "evidence" / "product" / "same.png")
    os.symlink("../../notes/b.txt", case / "evidence" / "product" / "b.txt")
    files = by_path(scan_evidence(case))
    assert files["evidence/product/same.png"].sha256 == hashlib.sha256(b"order screenshot").hexdigest()
    assert files["evidence/product/same.png"].kind is EvidenceKind.PRODUCT
    assert files["evidence/product/same.png"].path.is_symlink()
    assert files["evidence/product/b.txt"].size == len(b"outside evidence/ but inside the case")


@posix_only
def test_linked_folder_outside_is_refused_and_not_walked(case: Path, tmp_path: Path) -> None:
    write_file(tmp_path / "elsewhere" / "photo.png", b"not yours")
    (case / "evidence" / "product").mkdir()
    os.symlink(tmp_path / "elsewhere", case / "evidence" / "product" / "more")
    os.symlink(tmp_path / "elsewhere", case / "evidence" / "livestream")
    inv = scan_evidence(case)
    assert inv.files == ()
    assert refused(inv) == {
        "evidence/livestream": LINK_OUTSIDE_REASON,
        "evidence/product/more": LINK_OUTSIDE_REASON,
    }


@posix_only
def test_linked_folders_inside_are_walked_once_and_loops_stop(case: Path) -> None:
    write_file(case / "raw" / "p.png", b"raw photo")
    write_file(case / "evidence" / "chat" / "a.png", b"chat")
    (case / "evidence" / "product").mkdir()
    os.symlink("../../raw", case / "evidence" / "product" / "raw")
    os.symlink("..", case / "evidence" / "chat" / "loop")
    os.symlink("../chat", case / "evidence" / "product" / "chat-again")
    inv = scan_evidence(case)
    assert [f.rel_path for f in inv.files] == ["evidence/chat/a.png", "evidence/product/raw/p.png"]
    assert by_path(inv)["evidence/product/raw/p.png"].kind is EvidenceKind.PRODUCT
    assert refused(inv) == {
        "evidence/chat/loop": DUPLICATE_DIR_LINK_REASON,
        "evidence/product/chat-again": DUPLICATE_DIR_LINK_REASON,
    }


@posix_only
def test_broken_link_is_refused(case: Path) -> None:
    (case / "evidence" / "order").mkdir()
    os.symlink("gone.png", case / "evidence" / "order" / "a.png")
    inv = scan_evidence(case)
    assert refused(inv) == {"evidence/order/a.png": BROKEN_LINK_REASON}
    assert inv.files == ()


def _scan_with_timeout(case: Path, seconds: float = 10.0) -> Inventory:
    result: list[Inventory] = []
    worker = threading.Thread(target=lambda: result.append(scan_evidence(case)), daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), "scan blocked"
    return result[0]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_fifo_is_refused_without_blocking(case: Path) -> None:
    (case / "evidence" / "chat").mkdir()
    os.mkfifo(case / "evidence" / "chat" / "pipe")
    inv = _scan_with_timeout(case)
    assert inv.files == ()
    assert "FIFO" in refused(inv)["evidence/chat/pipe"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_fifo_swapped_in_after_the_check_does_not_block(case: Path) -> None:
    fifo = case / "pipe"
    os.mkfifo(fifo)
    outcome: list[BaseException] = []

    def hash_it() -> None:
        try:
            inventory_module.hash_file(fifo)
        except OSError as exc:
            outcome.append(exc)

    worker = threading.Thread(target=hash_it, daemon=True)
    worker.start()
    worker.join(10)
    assert not worker.is_alive(), "opening a FIFO blocked"
    assert outcome and not isinstance(outcome[0], PermissionError)


@pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="no Unix sockets here")
def test_socket_is_refused(case: Path) -> None:
    folder = case / "evidence" / "other"
    folder.mkdir()
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind(str(folder / "s"))
    except OSError:
        pytest.skip("socket path too long here")
    try:
        inv = _scan_with_timeout(case)
    finally:
        sock.close()
    assert "套接字" in refused(inv)["evidence/other/s"]


def test_unreadable_file_is_refused(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_file(case / "evidence" / "order" / "ok.png", b"ok")
    locked = write_file(case / "evidence" / "order" / "locked.png", b"no")
    real_open = inventory_module.open_readonly

    def fake_open(path: Path) -> int:
        if Path(path).name == locked.name:
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path)

    monkeypatch.setattr(inventory_module, "open_readonly", fake_open)
    inv = scan_evidence(case)
    assert [f.rel_path for f in inv.files] == ["evidence/order/ok.png"]
    assert refused(inv) == {"evidence/order/locked.png": UNREADABLE_REASON}


def test_unreadable_folder_is_refused(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_file(case / "evidence" / "chat" / "a.txt", b"a")
    write_file(case / "evidence" / "order" / "b.png", b"b")
    real_scandir = os.scandir

    def fake_scandir(path: str | os.PathLike[str]) -> object:
        if Path(path).name == "chat":
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", fake_scandir)
    inv = scan_evidence(case)
    assert [f.rel_path for f in inv.files] == ["evidence/order/b.png"]
    assert refused(inv) == {"evidence/chat": UNREADABLE_DIR_REASON}


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads everything")
def test_unreadable_file_by_permission_bits(case: Path) -> None:
    path = write_file(case / "evidence" / "order" / "locked.png", b"no")
    path.chmod(0)
    try:
        assert refused(scan_evidence(case)) == {"evidence/order/locked.png": UNREADABLE_REASON}
    finally:
        path.chmod(0o644)


# ---------------------------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------------------------


def test_os_junk_is_listed_as_refused(case: Path) -> None:
    for name in (".DS_Store", "Thumbs.db", "desktop.ini", "._a.png", ".gitkeep"):
        write_file(case / "evidence" / "order" / name, b"junk")
    write_file(case / "evidence" / "order" / "a.png", b"real")
    inv = scan_evidence(case)
    assert [f.rel_path for f in inv.files] == ["evidence/order/a.png"]
    junk = (".DS_Store", "._a.png", ".gitkeep", "Thumbs.db", "desktop.ini")
    assert refused(inv) == {f"evidence/order/{n}": JUNK_REASON for n in junk}


@pytest.mark.skipif(sys.platform == "darwin", reason="macOS normalises names itself")
def test_nfd_name_gives_nfc_rel_path(case: Path) -> None:
    nfd = unicodedata.normalize("NFD", "がっかり.png")
    assert nfd != unicodedata.normalize("NFC", nfd)
    path = write_file(case / "evidence" / "product" / nfd, b"x")
    (src,) = scan_evidence(case).files
    assert src.rel_path == "evidence/product/" + unicodedata.normalize("NFC", nfd)
    assert src.path.name == nfd and src.path.exists()
    assert src.path == path.resolve()


@pytest.mark.skipif(sys.platform != "linux", reason="needs a file system that stores raw name bytes")
def test_gbk_name_from_an_old_windows_zip_is_decoded(case: Path) -> None:
    folder = case / "evidence" / "order"
    folder.mkdir()
    raw = os.fsencode(folder) + b"/" + "订单截图.png".encode("gb18030")
    with open(raw, "wb") as handle:
        handle.write(b"x")
    (src,) = scan_evidence(case).files
    assert src.rel_path == "evidence/order/订单截图.png"
    assert src.path.exists()


@pytest.mark.skipif(sys.platform != "linux", reason="needs a file system that keeps NFC and NFD apart")
def test_names_equal_after_normalisation_are_flagged(case: Path) -> None:
    for form in ("NFC", "NFD"):
        write_file(case / "evidence" / "chat" / unicodedata.normalize(form, "が.png"), form.encode())
    inv = scan_evidence(case)
    assert len(inv.files) == 2
    assert [f.code for f in inv.findings] == ["inventory.duplicate_name"]


# ---------------------------------------------------------------------------------------------
# The case folder
# ---------------------------------------------------------------------------------------------


def test_chinese_evidence_folder_is_accepted(tmp_path: Path) -> None:
    root = tmp_path / "案件"
    write_file(root / "证据" / "订单" / "a.png", b"x")
    (src,) = scan_evidence(root).files
    assert src.rel_path == "证据/订单/a.png" and src.kind is EvidenceKind.ORDER


def test_empty_evidence_folder_gives_empty_inventory(case: Path) -> None:
    assert scan_evidence(case) == Inventory((), (), ())


def test_missing_evidence_folder(tmp_path: Path) -> None:
    write_file(tmp_path / "case" / "case.yaml", b"schema: 1\n")
    with pytest.raises(CaseFolderError) as info:
        scan_evidence(tmp_path / "case")
    assert "evidence/" in info.value.message and str(tmp_path / "case") in info.value.message
    assert info.value.exit_code is ExitCode.FOLDER_UNUSABLE


def test_missing_root(tmp_path: Path) -> None:
    with pytest.raises(CaseFolderError) as info:
        scan_evidence(tmp_path / "nope")
    assert "不存在" in info.value.message and str(tmp_path / "nope") in info.value.message


def test_root_that_is_a_file(tmp_path: Path) -> None:
    path = write_file(tmp_path / "case.yaml", b"")
    with pytest.raises(CaseFolderError, match="不是文件夹"):
        scan_evidence(path)


@posix_only
def test_evidence_folder_linking_outside_is_unusable(tmp_path: Path) -> None:
    write_file(tmp_path / "elsewhere" / "a.png", b"x")
    (tmp_path / "case").mkdir()
    os.symlink(tmp_path / "elsewhere", tmp_path / "case" / "evidence")
    with pytest.raises(CaseFolderError, match="之外"):
        scan_evidence(tmp_path / "case")


def test_both_evidence_folders_are_walked(tmp_path: Path) -> None:
    write_file(tmp_path / "case" / "evidence" / "order" / "a.png", b"a")
    write_file(tmp_path / "case" / "证据" / "聊天" / "b.png", b"b")
    assert [f.rel_path for f in scan_evidence(tmp_path / "case").files] == [
        "evidence/order/a.png", "证据/聊天/b.png"]


@posix_only
def test_chinese_alias_linking_to_evidence_is_not_listed_twice(case: Path) -> None:
    write_file(case / "evidence" / "order" / "a.png", b"a")
    os.symlink("evidence", case / "证据")
    assert [f.rel_path for f in scan_evidence(case).files] == ["evidence/order/a.png"]


@posix_only
def test_a_file_swapped_for_a_link_after_the_walk_is_not_followed(
        case: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_file(case / "evidence" / "order" / "a.png", b"original")
    secret = tmp_path / "secret.bin"
    secret.write_bytes(b"outside the case folder")
    hash_pending = inventory_module._Walker.hash_pending

    def swap_then_hash(self: object) -> None:
        path.unlink()
        path.symlink_to(secret)
        hash_pending(self)  # type: ignore[arg-type]

    monkeypatch.setattr(inventory_module._Walker, "hash_pending", swap_then_hash)
    inv = scan_evidence(case)
    assert inv.files == ()
    assert [r.rel_path for r in inv.refused] == ["evidence/order/a.png"]


def test_a_folder_with_more_entries_than_the_walk_allows_is_refused_whole(
        case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A stranger's folder of a million files must not become a million hashes and exhibits.
    monkeypatch.setattr(inventory_module, "MAX_WALK_ENTRIES", 20)
    for i in range(5):
        write_file(case / "evidence" / "order" / f"o{i}.jpg", b"x")
    for i in range(30):
        write_file(case / "evidence" / "product" / f"p{i:02}.jpg", b"y")
    inv = scan_evidence(case)
    assert sorted(by_path(inv)) == [f"evidence/order/o{i}.jpg" for i in range(5)]
    reason = refused(inv)["evidence/product"]
    assert "20" in reason and "上限" in reason
    # The walk stops there: a later folder is refused too, not read.
    write_file(case / "evidence" / "unboxing" / "v.mp4", b"z")
    inv = scan_evidence(case)
    assert "evidence/unboxing/v.mp4" not in by_path(inv)


def test_folders_nested_deeper_than_the_walk_allows_are_refused(case: Path) -> None:
    deep = case / "evidence" / "order"
    for level in range(inventory_module.MAX_WALK_DEPTH + 3):
        deep = deep / f"d{level}"
    write_file(deep / "far.jpg", b"x")
    write_file(case / "evidence" / "order" / "near.jpg", b"y")
    inv = scan_evidence(case)
    assert "evidence/order/near.jpg" in by_path(inv)
    assert not any(p.endswith("far.jpg") for p in by_path(inv))
    [(path, reason)] = [(p, r) for p, r in refused(inv).items() if "层" in r]
    assert path.count("/") == inventory_module.MAX_WALK_DEPTH + 1  # evidence/ + 32 levels read, the 33rd refused
    assert str(inventory_module.MAX_WALK_DEPTH) in reason
