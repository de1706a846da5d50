"""Trusted time (RFC 3161): ask a time-stamping authority to sign the manifest, check its token.

What is stamped is the manifest JSON itself, hashed with SHA-256. So the token's message
imprint *is* the dossier fingerprint printed on the cover, and anyone can check the token with
stock tools: ``openssl ts -verify -data evidencekit-manifest.json -in dossier.pdf.tsr -CAfile ca.pem``.

The token is the whole DER ``TimeStampResp`` (what the TSA sent), stored beside the PDF as
``<pdf>.tsr``; a later build may embed it as the attachment ``evidencekit-timestamp.tsr``.
Verification is offline and validates the TSA's certificate at the token's genTime, not today,
so a token keeps verifying after the TSA certificate expires.

Errors: a network failure is a plain ``TimestampError`` (exit 1: nothing is wrong with the
dossier, try again or another TSA); a reply that is not a valid grant for *our* request is
``VerificationFailed`` (exit 7); an unreadable ``--ca`` file is ``CertificateFileError`` (exit 2,
a usage problem).
"""

from __future__ import annotations

import hashlib
import re
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from evidencekit.errors import (
    CertificateFileError,
    TimestampError,
    TokenFileRefused,
    VerificationFailed,
)
from evidencekit.fsutil import read_regular
from evidencekit.model import SHANGHAI

TOKEN_SUFFIX = ".tsr"
TOKEN_ATTACHMENT_NAME = "evidencekit-timestamp.tsr"
_MAX_RESPONSE = 1024 * 1024  # real replies are 1–10 KB; refuse to buffer anything absurd
MAX_TOKEN_BYTES = _MAX_RESPONSE  # a .tsr file larger than this is not read
_SHA256_OID = "2.16.840.1.101.3.4.2.1"

PostFunc = Callable[[str, bytes], bytes]


@dataclass(frozen=True)
class TokenResult:
    """What a timestamp token says and whether it holds for this manifest."""

    ok: bool  # digest matches and (when a CA was given) the signature chain verifies
    digest_matches: bool  # the token's message imprint is SHA-256 of this manifest
    signature_checked: bool  # False when no CA was given: genTime is the TSA's claim, unproven
    gen_time: datetime | None  # aware (UTC as the TSA wrote it)
    serial: int | None
    tsa_name: str  # signer certificate subject, e.g. "CN=evidencekit Test TSA,O=..."
    message: str  # Chinese, one line

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "digest_matches": self.digest_matches,
            "signature_checked": self.signature_checked,
            "gen_time": self.gen_time.isoformat() if self.gen_time else None,
            "serial": self.serial,
            "tsa": self.tsa_name,
            "message": self.message,
        }


# ---------------------------------------------------------------------------------------------
# Requesting a token
# ---------------------------------------------------------------------------------------------


def build_request(data: bytes) -> Any:
    """An ``rfc3161_client.TimeStampRequest`` over SHA-256(data), with a nonce and certReq.

    SHA-256, not the library's default SHA-512: the imprint then equals the fingerprint on the
    cover. certReq makes the TSA include its certificate, so a verifier needs only the root.
    """
    from rfc3161_client import HashAlgorithm, TimestampRequestBuilder

    return (
        TimestampRequestBuilder()
        .data(data)
        .hash_algorithm(HashAlgorithm.SHA256)
        .nonce(nonce=True)
        .cert_request(cert_request=True)
        .build()
    )


def make_request(data: bytes) -> bytes:
    """DER ``TimeStampReq`` for the manifest bytes (the builder hashes them; pass the data, not a digest)."""
    return bytes(build_request(data).as_bytes())


def post_request(url: str, req: bytes, timeout: float = 20) -> bytes:
    """POST a request to a TSA over HTTP(S) and return the raw reply."""
    if not url.lower().startswith(("http://", "https://")):
        raise TimestampError(f"时间戳服务地址必须以 http:// 或 https:// 开头：{url}",
                             hint="例如 --tsa https://freetsa.org/tsr（以所选机构公布的地址为准）。")
    request = urllib.request.Request(
        url,
        data=req,
        method="POST",
        headers={"Content-Type": "application/timestamp-query", "Accept": "application/timestamp-reply"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            body: bytes = resp.read(_MAX_RESPONSE + 1)
    except urllib.error.HTTPError as exc:
        raise TimestampError(f"时间戳服务器拒绝了请求（HTTP {exc.code} {exc.reason}）：{url}",
                             hint="检查地址是否正确（有的机构要求账号）；也可以换一家时间戳机构。") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise TimestampError(f"无法连接时间戳服务器 {url}（{reason}）",
                             hint="检查网络连接后重试；证据材料本身没有问题，也没有被改动。") from exc
    if len(body) > _MAX_RESPONSE:
        raise VerificationFailed(f"时间戳服务器返回的内容过大（超过 {_MAX_RESPONSE // 1024} KB），不是时间戳应答：{url}")
    return body


def check_reply(reply: bytes, manifest: bytes, *, nonce: int | None) -> Any:
    """Decode a TSA reply and make sure it grants a token for this manifest and this request."""
    resp = _decode(reply)
    from rfc3161_client import PKIStatus

    if resp.status != PKIStatus.GRANTED:
        detail = "；".join(resp.status_string) if resp.status_string else ""
        raise VerificationFailed(
            f"时间戳服务器没有批准请求（状态 {resp.status}{'：' + detail if detail else ''}）",
            hint="换一家时间戳机构重试。",
        )
    imprint = resp.tst_info.message_imprint
    if imprint.hash_algorithm.dotted_string != _SHA256_OID or imprint.message != hashlib.sha256(manifest).digest():
        raise VerificationFailed("时间戳服务器返回的时间戳不是针对本证据材料的清单", hint="换一家时间戳机构重试。")
    if nonce is not None and resp.tst_info.nonce != nonce:
        # A reply to someone else's (or an old) request: accepting it would let a replay pass.
        raise VerificationFailed("时间戳应答与本次请求不对应（随机数 nonce 不一致）", hint="重新运行；如果一再出现，换一家时间戳机构。")
    return resp


def token_path_for(pdf: Path) -> Path:
    """``dossier.pdf`` → ``dossier.pdf.tsr`` (beside it, so the pair travels together)."""
    return pdf.with_name(pdf.name + TOKEN_SUFFIX)


def read_token_file(path: Path) -> bytes:
    """The bytes of a token file, refusing links, FIFOs, devices and anything over
    MAX_TOKEN_BYTES (real tokens are 1–10 KB). Messages name the file, not its folder."""
    return read_regular(path, what="时间戳文件", max_bytes=MAX_TOKEN_BYTES, error=TokenFileRefused, label=path.name)


# ---------------------------------------------------------------------------------------------
# Checking a token
# ---------------------------------------------------------------------------------------------


def inspect_token(tsr: bytes, manifest: bytes) -> TokenResult:
    """Decode a token and compare its imprint with the manifest, without checking the signature."""
    try:
        resp = _decode(tsr)
    except VerificationFailed as exc:
        return TokenResult(False, False, False, None, None, "", exc.message)
    rejected = _rejected(resp)
    if rejected is not None:
        return rejected
    digest_ok = _digest_matches(resp, manifest)
    gen_time = _gen_time(resp)
    if not digest_ok:
        msg = "时间戳证明的是另一份清单：本 PDF 的清单在盖时间戳之后被改动过，或时间戳不属于本材料"
    else:
        msg = (f"时间戳所记时间 {format_gen_time(gen_time)}；未验证签名（请用 --ca 指定时间戳机构的根证书），"
               "此时间仅是时间戳文件自称的时间")
    return TokenResult(digest_ok, digest_ok, False, gen_time, _serial(resp), _signer_name(resp), msg)


def verify_token(tsr: bytes, manifest: bytes, ca_pem: bytes, tsa_cert_pem: bytes | None = None) -> TokenResult:
    """Offline check: the token is a grant over SHA-256(manifest), signed by a TSA chaining to ``ca_pem``."""
    from rfc3161_client import VerificationError, VerifierBuilder

    roots = load_certificates(ca_pem, "CA 证书")
    tsa_cert = load_certificates(tsa_cert_pem, "TSA 证书")[0] if tsa_cert_pem else None
    try:
        resp = _decode(tsr)
    except VerificationFailed as exc:
        return TokenResult(False, False, True, None, None, "", exc.message)
    rejected = _rejected(resp)
    if rejected is not None:
        return rejected
    digest_ok = _digest_matches(resp, manifest)
    gen_time, serial, name = _gen_time(resp), _serial(resp), _signer_name(resp)
    builder = VerifierBuilder()
    # rfc3161-client pools roots and intermediates into one trusted set anyway, so a bundle's
    # order and self-signedness do not matter: every certificate in it is trusted.
    seen: set[bytes] = set()
    for cert in roots:
        fp = cert.fingerprint(_sha256())
        if fp not in seen:
            seen.add(fp)
            builder = builder.add_root_certificate(cert)
    if tsa_cert is not None:
        builder = builder.tsa_certificate(tsa_cert)
    try:
        builder.build().verify_message(resp, manifest)
    except VerificationError as exc:
        return TokenResult(False, digest_ok, True, gen_time, serial, name, _explain(str(exc)))
    except ValueError as exc:  # malformed signed data inside an otherwise parseable reply
        return TokenResult(False, digest_ok, True, gen_time, serial, name, f"时间戳签名数据无法解析（{exc}）")
    return TokenResult(True, True, True, gen_time, serial, name,
                       f"时间戳有效：清单在 {format_gen_time(gen_time)} 之前已经存在，签名机构 {name or '（未写明）'}")


def load_certificates(pem: bytes, what: str) -> list[Any]:
    from cryptography import x509

    try:
        certs = x509.load_pem_x509_certificates(pem)
    except ValueError:
        try:  # a single DER certificate is what some TSAs publish
            certs = [x509.load_der_x509_certificate(pem)]
        except ValueError as exc:
            raise CertificateFileError(f"无法读取{what}文件：其中没有 PEM 或 DER 格式的证书",
                                       hint="使用时间戳机构公布的根证书文件（通常是 .pem 或 .crt）。") from exc
    if not certs:
        raise CertificateFileError(f"{what}文件中没有证书")
    return certs


def format_gen_time(moment: datetime | None) -> str:
    """``2026-11-25 16:10:02 UTC（北京时间 2026-11-26 00:10:02）``."""
    if moment is None:
        return "（未知）"
    utc = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    local = utc.astimezone(SHANGHAI)
    return f"{utc:%Y-%m-%d %H:%M:%S} UTC（北京时间 {local:%Y-%m-%d %H:%M:%S}）"


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------

# rfc3161-client's English reasons, most specific first, with what they mean for the user.
_REASONS: tuple[tuple[str, str], ...] = (
    ("mismatch between messages", "时间戳证明的是另一份清单：本 PDF 的清单在盖时间戳之后被改动过，或时间戳不属于本材料"),
    ("expired", "签发时间戳时，时间戳机构的证书已过期或尚未生效"),
    ("not yet valid", "签发时间戳时，时间戳机构的证书已过期或尚未生效"),
    ("eku", "签名证书不是时间戳专用证书（缺少关键的 timeStamping 用途）"),
    ("does not match the one", "时间戳的签名证书与指定的 TSA 证书不一致"),
    ("certificate details", "时间戳的签名证书与指定的 TSA 证书不一致"),
    ("pkistatus", "时间戳服务器没有批准该请求，这不是有效的时间戳"),
    ("nonce", "时间戳与请求不对应（nonce 不一致）"),
    ("certificates neither found", "时间戳中没有签名证书，也没有单独提供 TSA 证书"),
    ("verifying certificates", "时间戳的签名无法用所给的 CA 证书验证（不是该机构签发的，或证书链不完整）"),
)


def _explain(reason: str) -> str:
    # OpenSSL's error stack is long; its "data" field is the one line an expert wants.
    detail = re.search(r'data: "([^"]+)"', reason)
    short = detail.group(1) if detail else reason[:200]
    low = reason.lower()
    for needle, text in _REASONS:
        if needle in low:
            return f"{text}（{short}）"
    return f"时间戳验证失败（{short}）"


def _rejected(resp: Any) -> TokenResult | None:
    """A reply that carries no grant is not a token, whatever else it holds."""
    from rfc3161_client import PKIStatus

    if resp.status == PKIStatus.GRANTED:
        return None
    return TokenResult(False, False, False, None, None, "",
                       f"这个时间戳文件是时间戳服务器的拒绝应答（状态 {resp.status}），其中没有时间戳")


def _decode(data: bytes) -> Any:
    from rfc3161_client import decode_timestamp_response

    try:
        return decode_timestamp_response(data)
    except Exception as exc:  # the Rust parser raises ValueError and friends on any bad DER
        raise VerificationFailed("时间戳文件已损坏，或不是 RFC 3161 时间戳应答") from exc


def _digest_matches(resp: Any, manifest: bytes) -> bool:
    try:
        imprint = resp.tst_info.message_imprint
    except Exception:  # a rejection reply carries no token at all
        return False
    algorithms = {
        "2.16.840.1.101.3.4.2.1": hashlib.sha256,
        "2.16.840.1.101.3.4.2.2": hashlib.sha384,
        "2.16.840.1.101.3.4.2.3": hashlib.sha512,
    }
    algo = algorithms.get(imprint.hash_algorithm.dotted_string)
    return algo is not None and bytes(imprint.message) == algo(manifest).digest()


def _gen_time(resp: Any) -> datetime | None:
    try:
        moment: datetime = resp.tst_info.gen_time
    except Exception:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _serial(resp: Any) -> int | None:
    try:
        return int(resp.tst_info.serial_number)
    except Exception:
        return None


def _signer_name(resp: Any) -> str:
    """Subject of the certificate that signed the token, found by the SignerInfo's issuer+serial."""
    from cryptography import x509

    try:
        signers = list(resp.signed_data.signer_infos)
        certs = [x509.load_der_x509_certificate(c) for c in resp.signed_data.certificates]
    except Exception:
        return ""
    for si in signers:
        for cert in certs:
            if cert.issuer == si.issuer and cert.serial_number == si.serial_number:
                return str(cert.subject.rfc4514_string())
    return ""


def _sha256() -> Any:
    from cryptography.hazmat.primitives import hashes

    return hashes.SHA256()
