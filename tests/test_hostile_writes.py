"""Hostile case folders (issue 9, item 2 and parts of 5 and 6): nothing is ever written through a
link planted in the folder, a full TMPDIR and SIGTERM end cleanly, concurrent `log` calls lose
no event, and pack's file names are safe.

Every test that plants links puts a *sentinel* folder beside the case, points the links into it
(and at /dev/zero), and compares a hash of the sentinel tree (names, contents, modes) before and
after the command.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import signal
import stat
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from factories import make_exhibit, make_jpeg, make_source_file

from evidencekit.cli import main
from evidencekit.errors import ExitCode

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="symlinks, FIFOs and signals are POSIX here")

FIXTURES = Path(__file__).parent / "fixtures" / "tsa"
TOKEN = (FIXTURES / "response.tsr").read_bytes()


def run(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def tree_hash(folder: Path) -> str:
    """Names, types, modes and contents of everything under ``folder`` (links not followed)."""
    h = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        st = path.lstat()
        h.update(f"{path.relative_to(folder)}|{stat.S_IFMT(st.st_mode)}|{stat.S_IMODE(st.st_mode)}\n".encode())
        if stat.S_ISLNK(st.st_mode):
            h.update(os.readlink(path).encode())
        elif stat.S_ISREG(st.st_mode):
            h.update(path.read_bytes())
    return h.hexdigest()


@pytest.fixture
def sentinel(tmp_path: Path) -> Iterator[Path]:
    """A folder beside the case that no command may change."""
    folder = tmp_path / "sentinel"
    (folder / "empty").mkdir(parents=True)
    (folder / "victim.txt").write_bytes(b"must stay as it is\n")
    (folder / "victim.pdf").write_bytes(b"%PDF-1.4 not a dossier\n")
    before = tree_hash(folder)
    yield folder
    assert tree_hash(folder) == before, "a command wrote outside the case folder"


def small_case(root: Path) -> Path:
    make_jpeg(root / "evidence" / "product" / "IMG_20241113_151000.jpg")
    (root / "case.yaml").write_text("schema: 1\n", encoding="utf-8")
    return root


def refused(code: int, out: str, err: str, *names: str) -> None:
    assert code == ExitCode.OUTPUT, (code, out, err)
    assert "Traceback" not in out + err
    assert err.startswith("错误：")
    for name in names:
        assert name in err


# ---------------------------------------------------------------------------------------------
# pack
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("into", ["empty", "victim.txt"])
def test_pack_refuses_a_planted_link_at_the_default_outdir(tmp_path: Path, sentinel: Path, into: str) -> None:
    case = small_case(tmp_path / "case")
    (case / "pack-general").symlink_to(sentinel / into)
    for extra in ((), ("--force",)):
        code, out, err = run("pack", case, "--target", "general", *extra)
        refused(code, out, err, "pack-general", "链接")
    assert (case / "pack-general").is_symlink()
    assert not [p for p in case.iterdir() if p.name.startswith(".pack-general")]


def test_pack_refuses_an_outdir_reached_through_a_link_in_the_case(tmp_path: Path, sentinel: Path) -> None:
    case = small_case(tmp_path / "case")
    (case / "out").symlink_to(sentinel)
    code, out, err = run("pack", case, "--target", "general", "-o", case / "out" / "p")
    refused(code, out, err, "链接")


@pytest.mark.parametrize("folder", ["证据", "Evidence", "evidence"])
def test_pack_refuses_an_outdir_inside_any_evidence_folder(tmp_path: Path, folder: str) -> None:
    case = tmp_path / "case"
    make_jpeg(case / folder / "product" / "IMG_20241113_151000.jpg")
    code, out, err = run("pack", case, "--target", "general", "-o", case / folder / "p")
    refused(code, out, err, "证据文件夹")
    assert not list((case / folder).rglob("*.pdf"))


def test_pack_into_a_real_folder_still_works(tmp_path: Path) -> None:
    case = small_case(tmp_path / "case")
    code, _out, err = run("pack", case, "--target", "general")
    assert code == 0, err
    assert (case / "pack-general" / "证据材料.pdf").is_file()


# ---------------------------------------------------------------------------------------------
# add
# ---------------------------------------------------------------------------------------------


def test_add_never_writes_through_a_planted_temporary_name(tmp_path: Path, sentinel: Path) -> None:
    case = small_case(tmp_path / "case")
    src = make_jpeg(tmp_path / "incoming" / "photo.jpg")
    folder = case / "evidence" / "order"
    folder.mkdir(parents=True)
    (folder / ".photo.jpg.tmp").symlink_to(sentinel / "victim.txt")
    code, _out, err = run("add", case, src, "--kind", "order")
    assert code == 0, err
    assert (folder / "photo.jpg").read_bytes() == src.read_bytes()
    assert not (folder / "photo.jpg").is_symlink()
    assert (folder / ".photo.jpg.tmp").is_symlink()  # left alone


def test_add_still_follows_a_link_the_user_named_as_source(tmp_path: Path) -> None:
    case = small_case(tmp_path / "case")
    src = make_jpeg(tmp_path / "incoming" / "photo.jpg")
    (tmp_path / "incoming" / "link.jpg").symlink_to(src)
    code, _out, err = run("add", case, tmp_path / "incoming" / "link.jpg", "--kind", "order")
    assert code == 0, err
    copied = case / "evidence" / "order" / "link.jpg"
    assert copied.read_bytes() == src.read_bytes() and not copied.is_symlink()
    assert copied.stat().st_mtime_ns == src.stat().st_mtime_ns
    for fifo in (tmp_path / "incoming" / "pipe.jpg",):
        os.mkfifo(fifo)
        code, _out, err = run("add", case, fifo, "--kind", "order")
        assert code == ExitCode.FOLDER_UNUSABLE and "Traceback" not in err


@pytest.mark.parametrize("target", ["/dev/zero", "sentinel/victim.txt", "sentinel/empty"])
def test_add_refuses_a_destination_that_is_a_link(tmp_path: Path, sentinel: Path, target: str) -> None:
    case = small_case(tmp_path / "case")
    src = make_jpeg(tmp_path / "incoming" / "photo.jpg")
    folder = case / "evidence" / "order"
    folder.mkdir(parents=True)
    (folder / "photo.jpg").symlink_to(target if target.startswith("/") else tmp_path / target)
    code, out, err = run("add", case, src, "--kind", "order")
    refused(code, out, err, "photo.jpg", "链接")


@pytest.mark.parametrize("planted", ["evidence/order", "evidence"])
def test_add_refuses_a_target_folder_that_is_a_link(tmp_path: Path, sentinel: Path, planted: str) -> None:
    case = tmp_path / "case"
    case.mkdir()
    (case / "case.yaml").write_text("schema: 1\n", encoding="utf-8")
    (case / planted).parent.mkdir(parents=True, exist_ok=True)
    (case / planted).symlink_to(sentinel / "empty")
    src = make_jpeg(tmp_path / "incoming" / "photo.jpg")
    code, out, err = run("add", case, src, "--kind", "order", "--title", "订单")
    refused(code, out, err, "链接")


# ---------------------------------------------------------------------------------------------
# init
# ---------------------------------------------------------------------------------------------


def test_init_force_never_writes_through_a_planted_temporary_name(tmp_path: Path, sentinel: Path) -> None:
    case = small_case(tmp_path / "case")
    (case / "case.yaml.tmp").symlink_to(sentinel / "victim.txt")
    code, _out, err = run("init", case, "--no-input", "--force")
    assert code == 0, err
    assert "schema" in (case / "case.yaml").read_text(encoding="utf-8")
    assert not (case / "case.yaml").is_symlink()


def test_init_force_refuses_a_case_file_that_is_a_link(tmp_path: Path, sentinel: Path) -> None:
    case = tmp_path / "case"
    case.mkdir()
    (case / "case.yaml").symlink_to(sentinel / "victim.txt")
    code, out, err = run("init", case, "--no-input", "--force")
    refused(code, out, err, "case.yaml", "链接")


def test_init_refuses_evidence_folders_that_are_links(tmp_path: Path, sentinel: Path) -> None:
    case = tmp_path / "case"
    case.mkdir()
    (case / "evidence").symlink_to(sentinel / "empty")
    code, out, err = run("init", case, "--no-input")
    refused(code, out, err, "evidence", "链接")
    assert not (case / "case.yaml").exists()


# ---------------------------------------------------------------------------------------------
# build
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["case.yaml", "CASE.yml"])
def test_build_refuses_output_onto_the_case_file(tmp_path: Path, name: str) -> None:
    case = small_case(tmp_path / "case")
    if name != "case.yaml":
        (case / "case.yaml").rename(case / name)
    before = (case / name).read_bytes()
    code, out, err = run("build", case, "-o", case / name, "--force")
    refused(code, out, err, name)
    assert (case / name).read_bytes() == before


@pytest.mark.parametrize("folder", ["证据", "Evidence", "EVIDENCE", "evidence"])
def test_build_refuses_output_inside_any_evidence_folder(tmp_path: Path, folder: str) -> None:
    case = tmp_path / "case"
    make_jpeg(case / folder / "product" / "IMG_20241113_151000.jpg")
    code, out, err = run("build", case, "-o", case / folder / "dossier.pdf")
    refused(code, out, err, "证据文件夹")
    code, out, err = run("build", case, "-o", case / folder / "sub" / ".." / "dossier.pdf")
    refused(code, out, err, "证据文件夹")


def test_build_refuses_output_through_a_link_to_the_evidence_folder(tmp_path: Path) -> None:
    case = small_case(tmp_path / "case")
    (case / "reports").symlink_to(case / "evidence" / "product")
    code, out, err = run("build", case, "-o", case / "reports" / "dossier.pdf")
    refused(code, out, err)
    assert not list((case / "evidence").rglob("*.pdf"))


def test_build_refuses_output_through_a_link_planted_in_the_case(tmp_path: Path, sentinel: Path) -> None:
    case = small_case(tmp_path / "case")
    (case / "reports").symlink_to(sentinel / "empty")
    code, out, err = run("build", case, "-o", case / "reports" / "dossier.pdf")
    refused(code, out, err, "链接")


@pytest.mark.parametrize("target", ["sentinel/victim.pdf", "/dev/zero"])
def test_build_refuses_an_output_file_that_is_a_link(tmp_path: Path, sentinel: Path, target: str) -> None:
    case = small_case(tmp_path / "case")
    (case / "dossier.pdf").symlink_to(target if target.startswith("/") else tmp_path / target)
    for args in ((), ("-o", case / "dossier.pdf")):
        code, out, err = run("build", case, "--force", *args)
        refused(code, out, err, "dossier.pdf", "链接")
    assert (case / "dossier.pdf").is_symlink()


def test_build_refuses_an_output_that_is_not_a_regular_file(tmp_path: Path) -> None:
    case = small_case(tmp_path / "case")
    os.mkfifo(case / "dossier.pdf")
    code, out, err = run("build", case, "--force")
    refused(code, out, err, "dossier.pdf")


def test_build_output_outside_the_case_through_the_users_own_link_works(tmp_path: Path) -> None:
    case = small_case(tmp_path / "case")
    (tmp_path / "real").mkdir()
    (tmp_path / "mine").symlink_to(tmp_path / "real")
    code, _out, err = run("build", case, "-o", tmp_path / "mine" / "d.pdf")
    assert code == 0, err
    assert (tmp_path / "real" / "d.pdf").is_file()


# ---------------------------------------------------------------------------------------------
# the .tsr token beside the dossier
# ---------------------------------------------------------------------------------------------


def test_token_beside_the_dossier_is_not_read_through_a_link(tmp_path: Path, sentinel: Path) -> None:
    from evidencekit.integrity.stamp import existing_token

    (sentinel.parent / "elsewhere.tsr").write_bytes(TOKEN)
    out = tmp_path / "dossier.pdf"
    (tmp_path / "dossier.pdf.tsr").symlink_to(sentinel.parent / "elsewhere.tsr")
    token, findings = existing_token(out, b"anything")
    assert token is None
    assert [f.code for f in findings] == ["stamp.refused"]
    assert "dossier.pdf.tsr" in findings[0].message and "链接" in findings[0].message


def test_token_beside_the_dossier_too_large_or_not_a_file_is_refused(tmp_path: Path) -> None:
    from evidencekit.integrity.stamp import existing_token
    from evidencekit.integrity.tsa import MAX_TOKEN_BYTES

    out = tmp_path / "dossier.pdf"
    tsr = tmp_path / "dossier.pdf.tsr"
    with open(tsr, "wb") as fh:  # sparse: costs no disk
        fh.truncate(MAX_TOKEN_BYTES + 1)
    token, findings = existing_token(out, b"anything")
    assert token is None and [f.code for f in findings] == ["stamp.refused"]
    tsr.unlink()
    os.mkfifo(tsr)  # reading a FIFO would block forever
    token, findings = existing_token(out, b"anything")
    assert token is None and [f.code for f in findings] == ["stamp.refused"]


def test_verify_does_not_read_a_token_through_a_link(tmp_path: Path, sentinel: Path) -> None:
    case = small_case(tmp_path / "case")
    code, _out, err = run("build", case)
    assert code == 0, err
    (sentinel.parent / "elsewhere.tsr").write_bytes(TOKEN)
    (case / "dossier.pdf.tsr").symlink_to(sentinel.parent / "elsewhere.tsr")
    code, out, err = run("verify", case / "dossier.pdf")
    assert code == ExitCode.VERIFY_FAILED, (code, out, err)
    assert "链接" in out + err and "Traceback" not in out + err


def test_stamp_refuses_a_link_before_asking_the_tsa(tmp_path: Path, sentinel: Path) -> None:
    from evidencekit.errors import OutputError
    from evidencekit.integrity.stamp import stamp_dossier

    (tmp_path / "d.pdf.tsr").symlink_to(sentinel / "victim.txt")

    def post(url: str, req: bytes) -> bytes:
        raise AssertionError("must not be reached")

    for force in (False, True):
        with pytest.raises(OutputError, match="链接"):
            stamp_dossier(tmp_path / "d.pdf", "https://tsa.invalid/", force=force, post=post)


def test_stamp_refuses_to_write_a_token_through_a_link(tmp_path: Path, sentinel: Path) -> None:
    from evidencekit.errors import OutputError
    from evidencekit.fsutil import write_atomically

    (tmp_path / "d.pdf.tsr").symlink_to(sentinel / "victim.txt")
    with pytest.raises(OutputError, match="链接"):
        write_atomically(tmp_path / "d.pdf.tsr", b"token", what="时间戳文件")


# ---------------------------------------------------------------------------------------------
# Faults: a full TMPDIR, SIGTERM, concurrent `log`
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT])
def test_full_tmpdir_while_rendering_is_exit_5(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int) -> None:
    case = small_case(tmp_path / "case")

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr("evidencekit.pdf.render.render_dossier", full)
    exit_code, out, err = run("build", case)
    refused(exit_code, out, err, "空间")
    assert not (case / "dossier.pdf").exists()


def test_full_tmpdir_creating_the_work_folder_is_exit_5(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    case = small_case(tmp_path / "case")

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("tempfile.mkdtemp", full)
    exit_code, out, err = run("build", case)
    refused(exit_code, out, err, "空间")


def test_full_disk_while_writing_the_output_is_exit_5(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from evidencekit.errors import OutputError
    from evidencekit.fsutil import write_atomically

    real_fdopen = os.fdopen

    class Full:
        def __init__(self, fd: int, *a: object, **k: object) -> None:
            self.f = real_fdopen(fd, "wb")

        def write(self, data: bytes) -> int:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        def __enter__(self) -> Full:
            return self

        def __exit__(self, *exc: object) -> None:
            self.f.close()

        def __getattr__(self, name: str) -> object:
            return getattr(self.f, name)

    monkeypatch.setattr("evidencekit.fsutil.os.fdopen", Full)
    with pytest.raises(OutputError, match="空间"):
        write_atomically(tmp_path / "x.pdf", b"data", what="输出文件")
    assert list(tmp_path.iterdir()) == []


def test_full_disk_during_pack_is_exit_5_and_leaves_no_stage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    case = small_case(tmp_path / "case")
    real_open = os.open

    def full_open(path: object, flags: int, *args: object, **kwargs: object) -> int:
        if flags & os.O_CREAT and ".pack-general-" in str(path):  # files in the stage
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return real_open(path, flags, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("evidencekit.fsutil.os.open", full_open)
    code, out, err = run("pack", case, "--target", "general")
    refused(code, out, err, "空间")
    assert sorted(p.name for p in case.iterdir()) == ["case.yaml", "evidence"]


def _children(pid: int) -> set[int]:
    kids = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                kids.add(int(entry.name))
    return kids


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait_for(predicate, limit: float = 120.0) -> bool:  # type: ignore[no-untyped-def]
    """Poll until ``predicate()`` holds; the limit only stops a broken test from hanging."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def _forty_photos(folder: Path, size: tuple[int, int]) -> Path:
    case = folder / "case"
    for i in range(40):
        make_jpeg(case / "evidence" / "product" / f"IMG_20241113_1510{i:02d}.jpg", size=size,
                  color=f"#{i * 6:02x}7a30")
    return case


@pytest.fixture(scope="module")
def forty_photos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Cases of 40 photos, enough work to be interrupted at each moment (read-only). The workers
    are caught while they decode, so theirs are large; the work folder exists only once every
    photo is decoded, and the pages and attachments of 40 photos keep it there for as long (about
    0.7 s on one core) whether they are large or 800x600, which decode four times faster."""
    large = _forty_photos(tmp_path_factory.mktemp("forty"), (1600, 1200))
    small = _forty_photos(tmp_path_factory.mktemp("forty-small"), (800, 600))
    return {"workers": large, "work-folder": small, "pack": small}


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc to find child processes")
@pytest.mark.parametrize("moment", ["workers", "work-folder", "pack"])
def test_sigterm_cleans_up_like_ctrl_c(forty_photos: dict[str, Path], tmp_path: Path, moment: str) -> None:
    case = tmp_path / "case"
    shutil.copytree(forty_photos[moment], case, copy_function=shutil.copy2)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(tmp), "EVIDENCEKIT_CACHE_DIR": str(tmp_path / "cache")}
    command = ["pack", str(case), "--target", "general"] if moment == "pack" else ["build", str(case), "-j", "2"]
    proc = subprocess.Popen([sys.executable, "-m", "evidencekit", *command, "-q"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        if moment == "pack":  # the stage folder beside OUTDIR exists: SIGTERM must remove it
            seen = _wait_for(lambda: any(p.name.startswith(".pack-general-") for p in case.iterdir())
                             or proc.poll() is not None)
        elif moment == "workers":
            seen = _wait_for(lambda: len(_children(proc.pid)) >= 2 or proc.poll() is not None)
        else:
            seen = _wait_for(lambda: any(p.name.startswith("evidencekit-") for p in tmp.iterdir())
                             or proc.poll() is not None)
        assert seen and proc.poll() is None, "the build ended before the signal could be sent"
        workers = _children(proc.pid)
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM, err.decode()
    assert "Traceback" not in err.decode()
    assert "已中断" in err.decode()
    assert _wait_for(lambda: not any(_alive(p) for p in workers), limit=30), "worker processes left running"
    assert not [p.name for p in tmp.iterdir() if p.name.startswith("evidencekit")]
    assert sorted(p.name for p in case.iterdir()) == ["evidence"]  # no dossier, no stage, no OUTDIR


# One fresh interpreter imports the CLI and loads the rules once, then forks the concurrent
# writers: separate processes, each opening (and locking) the case files on its own, released
# together by a pipe that reaches end-of-file once every one of them exists.
_CONCURRENTLY = textwrap.dedent("""
    import os, sys, traceback
    from evidencekit.rules.catalog import load_rules
    load_rules()

    def concurrently(count, work):
        ready, release = os.pipe()
        pids = []
        for who in range(count):
            pid = os.fork()
            if pid == 0:
                os.close(release)
                os.read(ready, 1)
                code = 1
                try:
                    work(who)
                    code = 0
                except BaseException:
                    traceback.print_exc()
                finally:
                    sys.stderr.flush()
                    os._exit(code)
            pids.append(pid)
        os.close(release)
        failed = [who for who, pid in enumerate(pids) if os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])]
        sys.exit(f"writers {failed} failed" if failed else 0)
""")

_LOGGER = _CONCURRENTLY + textwrap.dedent("""
    from evidencekit.cli import main
    root = sys.argv[1]

    def log_six_times(who):  # `evidencekit log` itself, six times in this process
        for n in range(6):
            main(["log", root, f"跟进 {who}-{n}", "--time", f"2024-11-15 10:{who:02d}:{n:02d}"],
                 standalone_mode=False)

    concurrently(8, log_six_times)
""")


def test_concurrent_log_calls_lose_no_event(tmp_path: Path) -> None:
    case = small_case(tmp_path / "case")
    proc = subprocess.run([sys.executable, "-c", _LOGGER, str(case)], stderr=subprocess.PIPE, timeout=300)
    assert proc.returncode == 0, proc.stderr.decode()
    from evidencekit.case.load import load_case

    notes = sorted(e.note for e in load_case(case).events)
    assert notes == sorted(f"跟进 {who}-{n}" for who in range(8) for n in range(6))


_ADDER = _CONCURRENTLY + textwrap.dedent("""
    from pathlib import Path
    from evidencekit.case.folder import add_files
    root, sources = Path(sys.argv[1]), [Path(a) for a in sys.argv[2:]]

    def add(who):
        add_files(root, [sources[who]], "order", title="订单 " + sources[who].parent.name)

    concurrently(len(sources), add)
""")


def test_concurrent_add_of_one_name_keeps_every_file(tmp_path: Path) -> None:
    case = small_case(tmp_path / "case")
    sources = [make_jpeg(tmp_path / f"phone{i}" / "photo.jpg", color=f"#{i * 30:02x}4020") for i in range(6)]
    proc = subprocess.run([sys.executable, "-c", _ADDER, str(case), *map(str, sources)],
                          stderr=subprocess.PIPE, timeout=300)
    assert proc.returncode == 0, proc.stderr.decode()
    copied = sorted((case / "evidence" / "order").iterdir())
    assert sorted(hashlib.sha256(p.read_bytes()).digest() for p in copied) == sorted(
        hashlib.sha256(p.read_bytes()).digest() for p in sources)
    from evidencekit.case.load import load_case

    assert len(load_case(case).evidence) == 6


def test_log_leaves_no_lock_or_temporary_file(tmp_path: Path) -> None:
    case = small_case(tmp_path / "case")
    code, _out, err = run("log", case, "商家说明天回复")
    assert code == 0, err
    assert sorted(p.name for p in case.iterdir()) == ["case.yaml", "evidence"]


# ---------------------------------------------------------------------------------------------
# Output names in pack
# ---------------------------------------------------------------------------------------------


def _copy(tmp_path: Path, names: list[str]) -> tuple[Path, list[str]]:
    from evidencekit.channels.pack import ORIGINALS_DIR, SUMS_NAME, _copy_originals

    case = tmp_path / "case"
    exhibits = [make_exhibit(n, make_source_file(case, f"evidence/other/{name}", data=name.encode()))
                for n, name in enumerate(names, start=1)]
    stage = tmp_path / "stage"
    stage.mkdir()
    _copy_originals(exhibits, stage)
    lines = (stage / ORIGINALS_DIR / SUMS_NAME).read_bytes().decode("utf-8").split("\n")
    return stage / ORIGINALS_DIR, lines


BAD = ["a\nb.jpg", "x\rb.jpg", "esc\x1b]0;title\x07.png", "tab\there.txt", "bs\\name.txt", "del\x7f.txt",
       "c1\x85\x9b.txt"]


def test_sha256sums_lines_never_hold_a_control_character(tmp_path: Path) -> None:
    folder, lines = _copy(tmp_path, BAD)
    assert lines[-1] == "" and len(lines) == len(BAD) + 1
    for line in lines[:-1]:
        digest, name = line.split("  ", 1)
        assert len(digest) == 64
        assert not any(ord(c) < 0x20 or 0x7f <= ord(c) < 0xa0 for c in name), repr(name)
        assert "\\" not in name
        assert (folder / name).is_file()
    if shutil.which("sha256sum"):  # the file checks as it is, with the standard tool
        check = subprocess.run(["sha256sum", "-c", "--strict", "SHA256SUMS.txt"], cwd=folder, capture_output=True)
        assert check.returncode == 0, check.stdout + check.stderr


def test_pack_names_drop_bidi_controls(tmp_path: Path) -> None:
    folder, _lines = _copy(tmp_path, ["invoice\u202egpj.exe", "a\u2066b\u2069\u200f.jpg"])
    names = sorted(p.name for p in folder.iterdir())
    for name in names:
        assert not any(c in name for c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
    assert any(n.endswith(".exe") for n in names)


def test_names_at_name_max_still_pack_keeping_the_extension(tmp_path: Path) -> None:
    long_ascii = "a" * 251 + ".jpg"
    long_cjk = "证" * 83 + ".png"  # 249 + 4 bytes
    assert len(long_ascii.encode()) == 255 and len(long_cjk.encode()) <= 255
    folder, _lines = _copy(tmp_path, [long_ascii, long_cjk])
    names = sorted(p.name for p in folder.iterdir() if p.name != "SHA256SUMS.txt")
    assert len(names) == 2
    assert all(len(n.encode()) <= 255 for n in names)
    assert {Path(n).suffix for n in names} == {".jpg", ".png"}
    assert all(n.startswith("证据0") for n in names)


def test_pack_key_evidence_names_are_safe() -> None:
    from evidencekit.channels.pack import safe_name

    assert safe_name("标题\u202eevil\x7f\x85") == "标题evil"


def test_pack_readme_and_names_hold_no_control_or_bidi_character(tmp_path: Path) -> None:
    case = small_case(tmp_path / "case")
    make_jpeg(case / "evidence" / "product" / "esc\x1b[8m\u202egpj.jpg")
    make_jpeg(case / "evidence" / "product" / "two\nlines.jpg")
    code, _out, err = run("pack", case, "--target", "general")
    assert code == 0, err
    outdir = case / "pack-general"
    texts = [(outdir / "README.txt").read_text(encoding="utf-8-sig")]
    texts += [p.name for p in outdir.rglob("*")]
    for text in texts:
        assert "\x1b" not in text and "\u202e" not in text
    readme = texts[0]
    assert "two lines.jpg" in readme


def test_batch_refuses_a_planted_link_as_its_output_folder(tmp_path: Path, sentinel: Path) -> None:
    cases = tmp_path / "cases"
    small_case(cases / "one")
    (cases / "_dossiers").symlink_to(sentinel / "empty")
    code, out, err = run("batch", cases)
    refused(code, out, err, "_dossiers", "链接")


def test_batch_does_not_follow_a_planted_link_at_a_dossier_name(tmp_path: Path, sentinel: Path) -> None:
    cases = tmp_path / "cases"
    small_case(cases / "one")
    (cases / "_dossiers").mkdir()
    (cases / "_dossiers" / "one.pdf").symlink_to(sentinel / "victim.pdf")
    _code, out, err = run("batch", cases, "--force", "--jobs", "1")
    assert "Traceback" not in out + err
    assert (cases / "_dossiers" / "one.pdf").is_symlink()
