"""Pipeline pieces not covered through the CLI: the timestamp token travelling into a rebuild."""

from __future__ import annotations

from pathlib import Path

from factories import make_exhibit, make_source_file
from reportlab.pdfgen.canvas import Canvas

from evidencekit.attach import attach_files
from evidencekit.pipeline import existing_token
from evidencekit.verify import verify_dossier

FIXTURES = Path(__file__).parent / "fixtures" / "tsa"
MANIFEST = (FIXTURES / "manifest.json").read_bytes()
TOKEN = (FIXTURES / "response.tsr").read_bytes()


def test_token_beside_the_output_is_embedded_when_it_certifies_this_manifest(tmp_path: Path) -> None:
    output = tmp_path / "dossier.pdf"
    (tmp_path / "dossier.pdf.tsr").write_bytes(TOKEN)
    token, findings = existing_token(output, MANIFEST)
    assert token == TOKEN and findings == ()


def test_stale_token_is_not_embedded_and_says_why(tmp_path: Path) -> None:
    output = tmp_path / "dossier.pdf"
    (tmp_path / "dossier.pdf.tsr").write_bytes(TOKEN)
    token, findings = existing_token(output, MANIFEST + b" ")
    assert token is None
    assert findings and findings[0].code == "stamp.stale"


def test_embedded_token_verifies_offline(tmp_path: Path) -> None:
    plain = tmp_path / "plain.pdf"
    Canvas(str(plain)).save()
    src = make_source_file(tmp_path, "evidence/order/a.png", b"original bytes")
    out = tmp_path / "dossier.pdf"
    from datetime import UTC, datetime

    # The fixture manifest does not list a.png; attach no originals so only the token matters.
    attach_files(plain, out, exhibits=[make_exhibit(1, src)], manifest=MANIFEST, attach_originals=False,
                 reproducible=True, when=datetime(2024, 11, 16, tzinfo=UTC), token=TOKEN)
    report = verify_dossier(out, ca_pem=(FIXTURES / "ca.pem").read_bytes())
    assert report.token is not None and report.token.ok
