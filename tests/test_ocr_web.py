"""The facts page's one-click fills with the real OCR engine (runs in .ci/run's OCR step)."""

from __future__ import annotations

import re
from pathlib import Path

import ocr_screens
import pytest
from factories import write_file
from webclient import WebClient, make_case_folder

from evidencekit.media import ocr


@pytest.mark.ocr_engine
@pytest.mark.skipif(ocr.engine_version() is None, reason='the OCR extra is not installed (pip install -e ".[ocr]")')
def test_real_engine_the_facts_page_offers_the_screenshots_order_number_and_amount(tmp_path: Path) -> None:
    facts = ocr_screens.FACTS["taobao"]
    case = make_case_folder(tmp_path / "ws" / "张三")
    write_file(case / "evidence" / "order" / "Screenshot_2024-11-16-10-41-00-123.jpg",
               ocr_screens.wechat_copy(ocr_screens.screenshot("taobao")))
    web = WebClient(tmp_path / "ws")
    page = web.get("/case/张三/facts").get_data(as_text=True)
    assert 'id="read-screenshots"' in page and 'id="ocr-missing"' not in page
    page = web.post("/case/张三/facts", data={"action": "ocr"}).get_data(as_text=True)
    fills = dict(re.findall(r'class="ocr-fill" data-key="([^"]+)" data-value="([^"]+)"', page))
    assert fills.get("order.number") == facts.order_number
    assert fills.get("order.amount", "").replace(",", "") in (facts.amount, f"{facts.amount}")
