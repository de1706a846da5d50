"""The real OCR engine on generated screenshots (tests/ocr_screens.py): reads what a person reads.

Needs the optional extra (``pip install -e ".[ocr]"``); skipped with the reason where it is absent.
OCR takes seconds per image, so four images are generated and read once per session: the three
layouts as WeChat passes them on (720 px wide, JPEG quality 70) and one clean 1080×2400 PNG. The
network is blocked while the engine runs: the models are the ones inside the wheel.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import ocr_screens
import pytest
from factories import make_source_file

from evidencekit.cache import DisplayCache
from evidencekit.media import ocr
from evidencekit.media.base import MediaContext
from evidencekit.model import SourceFile
from evidencekit.rules.ocr_fields import TextBox, extract_facts, load_ocr_fields

pytestmark = [pytest.mark.ocr_engine,
              pytest.mark.skipif(ocr.engine_version() is None,
                                 reason='the OCR extra is not installed (pip install -e ".[ocr]")')]

IMAGES = [(layout, "wechat") for layout in ocr_screens.LAYOUTS] + [("pinduoduo", "clean")]


def _no_network(*args: object, **kwargs: object) -> None:
    raise OSError("network blocked by the test: OCR must not download anything")


Screens = tuple[DisplayCache, dict[tuple[str, str], tuple[SourceFile, ocr.OcrResult]]]


@pytest.fixture(scope="session")
def read_screens(real_ocr_engine_version: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Screens]:
    root = tmp_path_factory.mktemp("ocr-screens")
    cache = DisplayCache(root / "cache")
    results = {}
    with pytest.MonkeyPatch.context() as m:
        m.setattr(ocr, "engine_version", real_ocr_engine_version)  # shared fixtures see none
        for name in ("connect", "connect_ex", "sendto"):
            m.setattr(socket.socket, name, _no_network)
        m.setattr(socket, "create_connection", _no_network)
        m.setattr(socket, "getaddrinfo", _no_network)
        for layout, kind in IMAGES:
            img = ocr_screens.screenshot(layout)
            data = ocr_screens.wechat_copy(img) if kind == "wechat" else ocr_screens.png_bytes(img)
            suffix = "jpg" if kind == "wechat" else "png"
            source = make_source_file(root / "case", f"evidence/order/{layout}-{kind}.{suffix}", data)
            results[(layout, kind)] = (source, ocr.ocr_image(source, MediaContext(cache=cache)))
    yield cache, results


@pytest.mark.parametrize(("layout", "kind"), IMAGES)
def test_the_engine_reads_the_facts_of_a_screenshot(
        read_screens: Screens, layout: str, kind: str) -> None:
    _source, result = read_screens[1][(layout, kind)]
    assert result.error == ""
    assert result.engine == f"rapidocr {ocr.engine_version()}"
    expected = ocr_screens.FACTS[layout]
    found = {f.field: f for f in extract_facts(result.boxes, load_ocr_fields())}
    values = {k: f.value for k, f in found.items()}
    # What the officials compare with the complaint: order number, amount and time.
    assert values["order_number"] == expected.order_number
    assert values["amount"] == expected.amount
    assert values["order_time"] == expected.order_time
    assert values["payment_time"] == expected.payment_time
    assert values["tracking_number"] == expected.tracking_number
    assert values["sign_off_time"] == expected.sign_off_time
    assert values["shop"] == expected.shop
    assert values["product"].replace(" ", "") == expected.product.replace(" ", "")
    # The box holds the value and lies inside the picture the engine was given.
    width = 720 if kind == "wechat" else ocr_screens.WIDTH
    box = found["order_number"].box
    assert expected.order_number in box.text.replace(" ", "")
    assert 0 <= box.left < box.right <= width + 2


def test_a_rebuild_never_runs_the_engine_again(
        read_screens: Screens, monkeypatch: pytest.MonkeyPatch) -> None:
    def raising(image: object) -> tuple[TextBox, ...]:
        raise AssertionError("the engine ran again")

    monkeypatch.setattr(ocr, "run_engine", raising)
    cache, results = read_screens
    source, first = results[("taobao", "wechat")]
    assert first.boxes
    assert ocr.ocr_image(source, MediaContext(cache=cache)) == first
