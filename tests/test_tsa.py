"""Trusted time: requests, offline token checks, and `stamp` without touching the network.

The CA, TSA certificate, manifest, request and response are checked-in fixtures made once with
openssl (tests/fixtures/tsa/make_fixtures.sh); verification uses the token's genTime, so they
keep verifying after the certificates expire and the tests need no openssl.
"""

from __future__ import annotations

import hashlib
import http.server
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import pytest
from click.testing import CliRunner
from factories import make_exhibit, make_source_file, sh
from reportlab.pdfgen import canvas

from evidencekit.cli.verify import stamp_command, verify_command
from evidencekit.errors import CertificateFileError, ExitCode, OutputError, TimestampError, VerificationFailed
from evidencekit.integrity import stamp, tsa
from evidencekit.integrity.attach import attach_files
from evidencekit.integrity.stamp import stamp_dossier
from evidencekit.integrity.tsa import inspect_token, make_request, post_request, verify_token

FIXTURES = Path(__file__).parent / "fixtures" / "tsa"
MANIFEST = (FIXTURES / "manifest.json").read_bytes()
RESPONSE = (FIXTURES / "response.tsr").read_bytes()
REQUEST = (FIXTURES / "request.tsq").read_bytes()
CA = (FIXTURES / "ca.pem").read_bytes()
OTHER_CA = (FIXTURES / "other-ca.pem").read_bytes()
TSA_CERT = (FIXTURES / "tsa.pem").read_bytes()
SHA256_OID_DER = bytes.fromhex("0609608648016503040201")
# A TimeStampResp with status "rejection" and no token: SEQUENCE { SEQUENCE { INTEGER 2 } }.
REJECTION = bytes.fromhex("30053003020102")


def fixture_gen_time() -> datetime:
    text = (FIXTURES / "gen_time.txt").read_text(encoding="ascii").strip()  # "Nov 25 16:03:43 2026 GMT"
    return datetime.strptime(text, "%b %d %H:%M:%S %Y GMT").replace(tzinfo=UTC)


def dossier_with_manifest(tmp_path: Path, manifest: bytes = MANIFEST) -> Path:
    case = tmp_path / "case"
    ex = make_exhibit(1, make_source_file(case, "evidence/order/订单截图.png", (FIXTURES / "original.bin").read_bytes()))
    rendered = tmp_path / "rendered.pdf"
    c = canvas.Canvas(str(rendered))
    c.drawString(40, 800, f"SHA-256 {hashlib.sha256(manifest).hexdigest()}")
    c.showPage()
    c.save()
    pdf = tmp_path / "dossier.pdf"
    attach_files(rendered, pdf, exhibits=[ex], manifest=manifest, attach_originals=True, reproducible=True,
                 when=sh(2024, 11, 20, 10, 0, 0))
    return pdf


class FixtureRequest:
    """Stands in for a freshly built request: the one the fixture response answers (same nonce)."""

    def __init__(self) -> None:
        self.nonce = tsa._decode(RESPONSE).tst_info.nonce

    def as_bytes(self) -> bytes:
        return REQUEST


@pytest.fixture
def fixed_request(monkeypatch: pytest.MonkeyPatch) -> None:
    def build(data: bytes) -> FixtureRequest:
        assert data == MANIFEST  # stamp asks for exactly the attached manifest
        return FixtureRequest()

    monkeypatch.setattr(stamp, "build_request", build)  # stamp_dossier looks it up there


# ---------------------------------------------------------------------------------------------
# Requests
# ---------------------------------------------------------------------------------------------


def test_request_is_sha256_of_the_manifest_with_nonce_and_cert_request() -> None:
    req = make_request(MANIFEST)
    assert hashlib.sha256(MANIFEST).digest() in req  # the imprint is the cover's fingerprint
    assert SHA256_OID_DER in req
    assert bytes.fromhex("0101ff") in req  # certReq TRUE: the reply carries the TSA certificate
    assert make_request(MANIFEST) != req  # a fresh nonce each time


def _without_nonce(request: bytes) -> tuple[bytes, bytes]:
    """A DER TimeStampReq split around its nonce: (up to the imprint, after the nonce). The
    nonce is a random INTEGER whose encoded length varies (leading zeros, sign byte), so two
    requests are compared without it; the outer SEQUENCE length is the only other byte it moves."""
    digest = hashlib.sha256(MANIFEST).digest()
    at = request.index(digest) + len(digest)
    assert request[at] == 0x02  # INTEGER: the nonce
    return request[2:at], request[at + 2 + request[at + 1]:]


def test_fixture_request_is_what_make_request_builds() -> None:
    # Same structure and imprint as ours; only the nonce differs between two requests.
    ours = make_request(MANIFEST)
    assert hashlib.sha256(MANIFEST).digest() in REQUEST
    assert _without_nonce(ours) == _without_nonce(REQUEST)


# ---------------------------------------------------------------------------------------------
# Offline verification
# ---------------------------------------------------------------------------------------------


def test_token_verifies_and_reports_gen_time() -> None:
    result = verify_token(RESPONSE, MANIFEST, CA)
    assert result.ok and result.digest_matches and result.signature_checked
    assert result.gen_time == fixture_gen_time()
    assert "evidencekit Test TSA" in result.tsa_name
    assert "时间戳有效" in result.message


def test_token_verifies_with_the_tsa_certificate_pinned() -> None:
    assert verify_token(RESPONSE, MANIFEST, CA, TSA_CERT).ok
    pinned_wrong = verify_token(RESPONSE, MANIFEST, CA, OTHER_CA)
    assert not pinned_wrong.ok
    assert "TSA 证书不一致" in pinned_wrong.message


def test_changed_manifest_fails() -> None:
    changed = MANIFEST.replace(b"EK-TSAFIX01", b"EK-TSAFIX02")
    assert changed != MANIFEST
    result = verify_token(RESPONSE, changed, CA)
    assert not result.ok
    assert not result.digest_matches
    assert "另一份清单" in result.message


def test_wrong_ca_fails() -> None:
    result = verify_token(RESPONSE, MANIFEST, OTHER_CA)
    assert not result.ok
    assert result.digest_matches  # the content is right; the signer is not trusted
    assert "CA 证书验证" in result.message
    assert "unable to get local issuer certificate" in result.message
    assert "ErrorStack" not in result.message  # OpenSSL's noise is trimmed


def test_ca_bundle_with_extra_certificates_still_verifies() -> None:
    assert verify_token(RESPONSE, MANIFEST, OTHER_CA + CA).ok


def test_damaged_or_rejected_tokens_fail() -> None:
    damaged = verify_token(RESPONSE[:-40], MANIFEST, CA)
    assert not damaged.ok
    garbage = verify_token(b"not a token", MANIFEST, CA)
    assert not garbage.ok and "已损坏" in garbage.message
    rejected = verify_token(REJECTION, MANIFEST, CA)
    assert not rejected.ok and "拒绝" in rejected.message


def test_unreadable_ca_file_is_a_usage_error() -> None:
    with pytest.raises(CertificateFileError) as info:
        verify_token(RESPONSE, MANIFEST, b"this is not a certificate")
    assert info.value.exit_code == ExitCode.USAGE


def test_inspect_without_ca_reports_time_but_not_trust() -> None:
    result = inspect_token(RESPONSE, MANIFEST)
    assert result.ok and not result.signature_checked
    assert result.gen_time == fixture_gen_time()
    assert "未验证签名" in result.message
    assert not inspect_token(RESPONSE, MANIFEST + b" ").ok


# ---------------------------------------------------------------------------------------------
# stamp_dossier with an injected transport
# ---------------------------------------------------------------------------------------------


def test_stamp_writes_the_token_beside_the_pdf(tmp_path: Path, fixed_request: None) -> None:
    pdf = dossier_with_manifest(tmp_path)
    before = pdf.read_bytes()
    seen: list[tuple[str, bytes]] = []

    def post(url: str, req: bytes) -> bytes:
        seen.append((url, req))
        return RESPONSE

    out = stamp_dossier(pdf, "https://tsa.example/tsr", post=post)
    assert out == tmp_path / "dossier.pdf.tsr"
    assert out.read_bytes() == RESPONSE
    assert seen == [("https://tsa.example/tsr", REQUEST)]
    assert pdf.read_bytes() == before  # the dossier is only read
    assert verify_token(out.read_bytes(), MANIFEST, CA).ok
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".evidencekit-")] == []


def test_stamp_refuses_a_reply_to_another_request(tmp_path: Path) -> None:
    pdf = dossier_with_manifest(tmp_path)  # real random nonce: the fixture reply cannot match it
    with pytest.raises(VerificationFailed, match="nonce"):
        stamp_dossier(pdf, "https://tsa.example/tsr", post=lambda url, req: RESPONSE)
    assert not (tmp_path / "dossier.pdf.tsr").exists()


def test_stamp_refuses_a_token_for_another_manifest(tmp_path: Path) -> None:
    pdf = dossier_with_manifest(tmp_path, MANIFEST.replace(b"EK-TSAFIX01", b"EK-OTHER001"))
    with pytest.raises(VerificationFailed, match="不是针对本证据材料的清单"):
        stamp_dossier(pdf, "https://tsa.example/tsr", post=lambda url, req: RESPONSE)
    assert not (tmp_path / "dossier.pdf.tsr").exists()


def test_stamp_refuses_a_rejection(tmp_path: Path) -> None:
    pdf = dossier_with_manifest(tmp_path)
    with pytest.raises(VerificationFailed, match="没有批准"):
        stamp_dossier(pdf, "https://tsa.example/tsr", post=lambda url, req: REJECTION)
    assert not (tmp_path / "dossier.pdf.tsr").exists()


def test_stamp_does_not_overwrite_without_force(tmp_path: Path, fixed_request: None) -> None:
    pdf = dossier_with_manifest(tmp_path)
    existing = tmp_path / "dossier.pdf.tsr"
    existing.write_bytes(b"old token")
    calls: list[str] = []

    def post(url: str, req: bytes) -> bytes:
        calls.append(url)
        return RESPONSE

    with pytest.raises(OutputError):
        stamp_dossier(pdf, "https://tsa.example/tsr", post=post)
    assert existing.read_bytes() == b"old token" and calls == []  # refused before any network use
    stamp_dossier(pdf, "https://tsa.example/tsr", post=post, force=True)
    assert existing.read_bytes() == RESPONSE


# ---------------------------------------------------------------------------------------------
# The HTTP transport, against a local server
# ---------------------------------------------------------------------------------------------


class _TSAHandler(http.server.BaseHTTPRequestHandler):
    status = 200
    reply = RESPONSE
    received: ClassVar[list[tuple[str, bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.headers["Content-Type"], body))
        self.send_response(self.status)
        self.send_header("Content-Type", "application/timestamp-reply")
        self.send_header("Content-Length", str(len(self.reply)))
        self.end_headers()
        self.wfile.write(self.reply)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def local_tsa() -> Iterator[tuple[str, type[_TSAHandler]]]:
    handler = type("Handler", (_TSAHandler,), {"received": [], "status": 200})
    server = http.server.HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/tsr", handler
    finally:
        server.shutdown()
        server.server_close()


def test_post_request_sends_a_timestamp_query(local_tsa: tuple[str, type[_TSAHandler]]) -> None:
    url, handler = local_tsa
    assert post_request(url, REQUEST, timeout=5) == RESPONSE
    assert handler.received == [("application/timestamp-query", REQUEST)]


def test_post_request_http_error_is_a_clear_error(local_tsa: tuple[str, type[_TSAHandler]]) -> None:
    url, handler = local_tsa
    handler.status = 500
    with pytest.raises(TimestampError, match="HTTP 500") as info:
        post_request(url, REQUEST, timeout=5)
    assert info.value.exit_code == ExitCode.INTERNAL


def test_post_request_unreachable_and_bad_scheme() -> None:
    with pytest.raises(TimestampError, match="无法连接时间戳服务器"):
        post_request("http://127.0.0.1:9/tsr", REQUEST, timeout=2)  # discard port: nothing listens
    with pytest.raises(TimestampError, match="http:// 或 https://"):
        post_request("file:///etc/passwd", REQUEST)


def test_cli_stamp_then_verify(tmp_path: Path, fixed_request: None,
                               local_tsa: tuple[str, type[_TSAHandler]]) -> None:
    url, _ = local_tsa
    pdf = dossier_with_manifest(tmp_path)
    runner = CliRunner()
    result = runner.invoke(stamp_command, [str(pdf), "--tsa", url])
    assert result.exit_code == 0, result.output
    assert "已取得时间戳" in result.stdout
    assert f"{fixture_gen_time():%Y-%m-%d %H:%M:%S} UTC" in result.stdout
    assert (tmp_path / "dossier.pdf.tsr").read_bytes() == RESPONSE
    again = runner.invoke(stamp_command, [str(pdf), "--tsa", url])
    assert again.exit_code == ExitCode.OUTPUT and "--force" in again.stderr
    ok = runner.invoke(verify_command, [str(pdf), "--ca", str(FIXTURES / "ca.pem")])
    assert ok.exit_code == 0, ok.output
    bad = runner.invoke(verify_command, [str(pdf), "--ca", str(FIXTURES / "other-ca.pem")])
    assert bad.exit_code == ExitCode.VERIFY_FAILED
    not_a_cert = runner.invoke(verify_command, [str(pdf), "--ca", str(FIXTURES / "manifest.json")])
    assert not_a_cert.exit_code == ExitCode.USAGE and "CA 证书" in not_a_cert.stderr


def test_cli_stamp_network_failure_exit_1_with_chinese_message(tmp_path: Path) -> None:
    pdf = dossier_with_manifest(tmp_path)
    result = CliRunner().invoke(stamp_command, [str(pdf), "--tsa", "http://127.0.0.1:9/tsr"])
    assert result.exit_code == ExitCode.INTERNAL
    assert "无法连接时间戳服务器" in result.stderr
    assert "内部错误" not in result.stderr  # not presented as a bug
    assert not (tmp_path / "dossier.pdf.tsr").exists()


def test_help_has_examples() -> None:
    for cmd in (verify_command, stamp_command):
        assert "示例" in (cmd.help or "")
