"""`init DIR --from PATH...`: the evidence is copied into the case and what its screenshots show
is proposed as answers, written to case.yaml with a comment saying where it was read.

The OCR engine is a fake (media.ocr.run_engine replaced, as in tests/test_ocr_wiring.py) that
returns the boxes listed for each image size; without it the tests see no engine (conftest.py).
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from click.testing import CliRunner
from factories import write_file
from PIL import Image

from evidencekit.case.load import load_case
from evidencekit.cli import main
from evidencekit.errors import ExitCode
from evidencekit.media import ocr
from evidencekit.rules.ocr_fields import TextBox

ORDER_NAME = "Screenshot_2024-11-10-20-41-00-123.png"


def box(text: str, top: int, left: int = 20, height: int = 40) -> TextBox:
    right = left + 20 * len(text)
    return TextBox(text, ((left, top), (right, top), (right, top + height), (left, top + height)), 0.95)


ORDER_BOXES = (
    box("20:42", 10),
    box("订单编号：6912345678901234567", 300),
    box("实付款 ¥389.00", 400),
    box("下单时间：2024-11-10 20:31:05", 500),
)
SCREENS: dict[tuple[int, int], tuple[TextBox, ...]] = {(540, 1200): ORDER_BOXES}


def png(size: tuple[int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, "white").save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def fake_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ocr, "engine_version", lambda: "9.9.9")
    monkeypatch.setattr(ocr, "run_engine", lambda image: SCREENS.get(image.size, ()))


def _downloads(tmp_path: Path) -> Path:
    """The shopper's own folder: an order screenshot in a folder named 订单."""
    folder = tmp_path / "下载" / "订单"
    write_file(folder / ORDER_NAME, png((540, 1200)))
    return folder


def _init(case: Path, answers: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["init", str(case), "--target", "payment", *args], input=answers)
    return result.exit_code, result.stdout + result.stderr


def _line(case: Path, key: str) -> str:
    return next(x for x in (case / "case.yaml").read_text(encoding="utf-8").splitlines() if x.strip().startswith(key))


@pytest.mark.usefixtures("fake_engine")
def test_empty_answers_take_the_read_order_number_and_amount_with_a_comment(tmp_path: Path) -> None:
    source = _downloads(tmp_path)
    before = (source / ORDER_NAME).read_bytes()
    case = tmp_path / "case"
    code, out = _init(case, "\n" * 40, "--from", str(source))
    assert code == ExitCode.OK, out
    assert f"已复制：evidence/order/{ORDER_NAME}" in out
    assert (source / ORDER_NAME).read_bytes() == before and (case / "evidence" / "order" / ORDER_NAME).is_file()
    loaded = load_case(case)
    assert loaded.order.number == "6912345678901234567"
    assert str(loaded.order.amount) == "389.00"
    assert _line(case, "number:").endswith("由证据1截图识别，请核对")
    assert _line(case, "amount:").endswith("由证据1截图识别，请核对")
    assert "取自截图识别的文字" in out


@pytest.mark.usefixtures("fake_engine")
def test_a_loose_file_is_asked_its_kind_in_chinese(tmp_path: Path) -> None:
    loose = tmp_path / ORDER_NAME
    write_file(loose, png((540, 1200)))
    case = tmp_path / "case"
    code, out = _init(case, "订单\n" + "\n" * 40, "--from", str(loose))
    assert code == ExitCode.OK, out
    assert f"{ORDER_NAME} 是哪类证据：" in out
    assert (case / "evidence" / "order" / ORDER_NAME).is_file()
    assert load_case(case).order.number == "6912345678901234567"


def test_a_loose_file_goes_where_kind_says(tmp_path: Path) -> None:
    loose = tmp_path / "a.png"
    write_file(loose, png((540, 1200)))
    case = tmp_path / "case"
    code, out = _init(case, "", "--from", str(loose), "--kind", "支付", "--no-input")
    assert code == ExitCode.OK, out
    assert (case / "evidence" / "payment" / "a.png").is_file()
    code, out = _init(tmp_path / "other", "", "--from", str(loose), "--no-input")
    assert code == ExitCode.USAGE and "--kind" in out


def test_without_the_extra_init_from_copies_says_how_to_add_it_and_asks(tmp_path: Path) -> None:
    case = tmp_path / "case"
    code, out = _init(case, "\n" * 40, "--from", str(_downloads(tmp_path)))
    assert code == ExitCode.OK, out
    assert (case / "evidence" / "order" / ORDER_NAME).is_file()
    assert ocr.INSTALL_HINT in out
    assert not load_case(case).order.number and "识别，请核对" not in (case / "case.yaml").read_text("utf-8")
    assert "还缺：" in out
