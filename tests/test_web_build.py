"""The build page of `evidencekit serve` through the Flask test client: letter fields, the build
job and its progress, byte identity with the CLI, thumbnails and downloads."""

from __future__ import annotations

import html
import threading
import time
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from click.testing import CliRunner
from test_web_evidence import CASE, png_bytes, upload
from webclient import WebClient, make_case_folder

from evidencekit.case.edit import record_numbers, set_values
from evidencekit.case.load import load_case
from evidencekit.channels.letter import letter_for_folder
from evidencekit.cli import main
from evidencekit.model import Recipient, Target
from evidencekit.pipeline import BuildOptions
from evidencekit.web import views_build


@pytest.fixture
def web(tmp_path: Path) -> WebClient:
    root = make_case_folder(tmp_path / CASE)
    set_values(root / "case.yaml", {"problem.type": "not_as_shown", "order.amount": "399",
                                    "problem.summary": "收到的包是人造革，与直播间宣称的头层牛皮不符"})
    client = WebClient(tmp_path)
    upload(client, [(png_bytes(color="#264653"), "订单.png")], mtimes=["1731582012000"])
    upload(client, [(png_bytes((500, 300), "#e76f51"), "聊天.png")], kind="chat", mtimes=["1731600000000"])
    return client


@pytest.fixture
def root(web: WebClient, tmp_path: Path) -> Path:
    return tmp_path / CASE


def wait_for(web: WebClient, timeout: float = 240) -> dict[str, Any]:
    seen: list[tuple[int, int]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = web.get(f"/case/{CASE}/build/job").get_json()
        seen.append((job.get("done", 0), job.get("total", 0)))
        if job["state"] != "running":
            job["seen"] = seen
            return job
        time.sleep(0.02)  # a finished job is seen at once; polling costs a request of a few ms
    raise AssertionError("the build did not finish")


def start(web: WebClient, **body: Any) -> Any:
    return web.post(f"/case/{CASE}/build/start", json={"what": "dossier", "target": "general", **body})


def test_the_letter_fields_are_the_cli_letter_with_their_limits(web: WebClient, root: Path) -> None:
    page = web.get(f"/case/{CASE}/build?target=12315").get_data(as_text=True)
    letter = letter_for_folder(root, BuildOptions(target=Target.COMPLAINT_12315))
    assert letter.fields
    for field in letter.fields:
        assert f'<span class="field-name">{field.name}</span>' in page
        if field.limit:
            assert f'data-limit="{field.limit}"' in page
    assert any(f.limit for f in letter.fields)
    assert 'id="build-dossier"' in page and 'id="build-pack"' in page


def test_a_build_job_runs_in_a_thread_reports_progress_and_ends_done(web: WebClient, root: Path) -> None:
    assert web.get(f"/case/{CASE}/build/job").get_json() == {"state": "none"}
    r = start(web)
    assert r.status_code == 200, r.get_json()
    job = wait_for(web)
    assert job["state"] == "done", job["message"]
    assert job["done"] == job["total"] == 2
    assert [o["name"] for o in job["outputs"]] == ["dossier.pdf"]
    assert job["page_count"] > 3 and len(job["thumbnails"]) == min(job["page_count"], views_build.MAX_THUMBNAILS)
    thumb = web.get(job["thumbnails"][0])
    assert thumb.status_code == 200 and thumb.mimetype == "image/png"
    download = web.get(job["outputs"][0]["url"])
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert "attachment" in download.headers["Content-Disposition"]
    assert download.data == (root / "dossier.pdf").read_bytes()
    with pikepdf.open(root / "dossier.pdf") as pdf:
        assert len(pdf.pages) == job["page_count"]


def test_the_page_build_is_byte_identical_to_the_cli_build(web: WebClient, root: Path) -> None:
    start(web, reproducible=True)
    job = wait_for(web)
    assert job["state"] == "done", job["message"]
    from_page = (root / "dossier.pdf").read_bytes()
    result = CliRunner().invoke(main, ["build", str(root), "--reproducible", "--force", "-q"])
    assert result.exit_code == 0, result.output
    assert (root / "dossier.pdf").read_bytes() == from_page


def test_the_pack_is_built_where_the_cli_puts_it(web: WebClient, root: Path) -> None:
    r = web.post(f"/case/{CASE}/build/start", json={"what": "pack", "target": "12315"})
    assert r.status_code == 200
    job = wait_for(web)
    assert job["state"] == "done", job["message"]
    names = [o["name"] for o in job["outputs"]]
    assert "README.txt" in names and any(n.endswith(".pdf") for n in names)
    for out in job["outputs"]:
        assert web.get(out["url"]).data == (root / "pack-12315" / out["name"]).read_bytes()


def test_download_refuses_anything_but_what_the_build_wrote(web: WebClient, root: Path) -> None:
    assert web.get(f"/case/{CASE}/build/download/dossier.pdf").status_code == 404  # nothing built yet
    start(web)
    assert wait_for(web)["state"] == "done"
    for name in ("../case.yaml", "case.yaml", "..%2Fcase.yaml", "%2E%2E/%2E%2E/etc/passwd", "/etc/passwd",
                 "evidence/order/订单.png", "dossier.pdf/../case.yaml"):
        r = web.get(f"/case/{CASE}/build/download/{name}")
        assert r.status_code in (404, 308), name  # 308: werkzeug folds "//" first, then 404
        assert b"root:" not in r.data and b"schema" not in r.data
    assert web.get(f"/case/{CASE}/build/thumbnail/999").status_code == 404


def test_a_replaced_output_is_not_followed(web: WebClient, root: Path, tmp_path: Path) -> None:
    start(web)
    assert wait_for(web)["state"] == "done"
    secret = tmp_path / "secret.txt"
    secret.write_text("秘密")
    (root / "dossier.pdf").unlink()
    (root / "dossier.pdf").symlink_to(secret)
    assert web.get(f"/case/{CASE}/build/download/dossier.pdf").status_code == 404


def test_one_build_per_case_at_a_time(web: WebClient, monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()

    def slow_build(*args: Any, **kw: Any) -> Any:
        release.wait(30)
        raise views_build.EvidenceKitError("测试中断")

    monkeypatch.setattr("evidencekit.pipeline.build_dossier", slow_build)
    assert start(web).status_code == 200
    second = start(web)
    assert second.status_code == 409
    assert "正在生成" in second.get_json()["error"]
    release.set()
    assert wait_for(web)["state"] == "failed"


def test_a_failed_build_shows_the_cli_message_without_traceback_or_local_path(web: WebClient, root: Path) -> None:
    (root / "case.yaml").write_text("schema: 1\norder:\n  amount: 很多\n", encoding="utf-8")
    start(web)
    job = wait_for(web)
    assert job["state"] == "failed"
    assert "order.amount" in job["message"] and "Traceback" not in job["message"]
    assert str(root.parent) not in job["message"]


def test_an_email_letter_and_pack_are_addressed_to_the_chosen_recipient(web: WebClient, root: Path) -> None:
    page = web.get(f"/case/{CASE}/build?target=email&to=consumer_association").get_data(as_text=True)
    assert 'id="recipient"' in page and 'value="consumer_association" selected' in page
    wanted = letter_for_folder(root, BuildOptions(target=Target.EMAIL), recipient=Recipient.CONSUMER_ASSOCIATION)
    other = letter_for_folder(root, BuildOptions(target=Target.EMAIL), recipient=Recipient.MERCHANT)
    assert wanted.fields[0].text != other.fields[0].text
    assert html.escape(wanted.fields[0].text, quote=False) in page
    assert 'id="recipient"' not in web.get(f"/case/{CASE}/build?target=12315").get_data(as_text=True)
    r = web.post(f"/case/{CASE}/build/start", json={"what": "pack", "target": "email", "to": "consumer_association"})
    assert r.status_code == 200
    job = wait_for(web)
    assert job["state"] == "done", job["message"]
    body = next(o for o in job["outputs"] if o["name"].endswith(".txt") and o["name"] != "README.txt")
    assert wanted.fields[0].text.splitlines()[0] in web.get(body["url"]).get_data(as_text=True)


def test_strict_refuses_an_incomplete_case_with_the_cli_message(web: WebClient, root: Path) -> None:
    start(web, strict=True)
    job = wait_for(web)
    assert job["state"] == "failed"
    assert "证据或案件信息不完整（--strict）" in job["message"]
    assert not (root / "dossier.pdf").exists()


def test_renumber_numbers_the_exhibits_in_reading_order_again(web: WebClient, root: Path) -> None:
    record_numbers(root, {"evidence/chat/聊天.png": 1, "evidence/order/订单.png": 2})
    start(web, renumber=True)
    assert wait_for(web)["state"] == "done"
    numbers = {o.file: o.number for o in load_case(root).evidence}
    assert numbers == {"evidence/order/订单.png": 1, "evidence/chat/聊天.png": 2}
