"""The real OCR engine on a generated live-room recording with captions burned in with the
bundled font: the claim is read where it appears on screen.

Needs the optional extra (``pip install -e ".[ocr]"``); skipped with the reason where it is absent.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from factories import make_source_file
from mediagen import make_captioned_video

from evidencekit.cache import DisplayCache
from evidencekit.media import ocr, suggest
from evidencekit.media.base import MediaContext

pytestmark = [pytest.mark.ocr_engine,
              pytest.mark.skipif(ocr.engine_version() is None,
                                 reason='the OCR extra is not installed (pip install -e ".[ocr]")')]


def test_the_engine_reads_the_hosts_claim_where_it_appears(tmp_path: Path) -> None:
    video = make_captioned_video(tmp_path / "rec.mp4", 12, [
        (0, 12, "关注主播 点亮灯牌"),
        (4, 8, "官方正品 假一赔十"),
        (8, 12, "支持七天无理由退货"),
    ])
    source = make_source_file(tmp_path / "case", "evidence/livestream/rec.mp4", video.read_bytes())
    moments = suggest.suggest_moments(source, MediaContext(cache=DisplayCache(tmp_path / "cache")))
    by_claim = {m.claim: (moment.offset, moment.text) for moment in moments for m in moment.matches}
    offset, text = by_claim["fake_compensation"]
    assert 4 <= offset < 4 + suggest.SAMPLE_INTERVAL_S
    assert "假一赔十" in text
    assert 8 <= by_claim["no_reason_return"][0] < 8 + suggest.SAMPLE_INTERVAL_S
    assert "genuine" in by_claim
