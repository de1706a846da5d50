"""`stamp`: get an RFC 3161 token for a dossier's manifest and write it beside the PDF.

The protocol (request, reply checks, token verification) is in tsa.py; reading the manifest out of
the PDF is verify.py's. This module joins the two, so neither imports the other.
"""

from __future__ import annotations

import os
from pathlib import Path

from evidencekit.errors import OutputError, TokenFileRefused
from evidencekit.fsutil import refuse_special, write_atomically
from evidencekit.integrity.tsa import (
    PostFunc,
    build_request,
    check_reply,
    inspect_token,
    post_request,
    read_token_file,
    token_path_for,
)
from evidencekit.integrity.verify import read_manifest
from evidencekit.model import Finding, Severity


def stamp_dossier(
    pdf: Path,
    tsa_url: str,
    *,
    out: Path | None = None,
    force: bool = False,
    post: PostFunc = post_request,
) -> Path:
    """Get a token for the dossier's manifest and write it to ``<pdf>.tsr`` (or ``out``).

    The PDF is only read. The reply is checked against our own request (status, imprint,
    nonce) before anything is written, so a wrong or replayed reply never lands on disk.
    """
    target = out or token_path_for(pdf)
    if refuse_special(target, "时间戳文件") and not force:  # a link or a device there is refused
        raise OutputError(f"时间戳文件已存在：{target}", hint="加 --force 覆盖，或先移走旧文件。")
    manifest = read_manifest(pdf)
    request = build_request(manifest)
    reply = post(tsa_url, bytes(request.as_bytes()))
    check_reply(reply, manifest, nonce=request.nonce)
    write_atomically(target, reply, what="时间戳文件")  # never half a token
    return target


def existing_token(output: Path, manifest: bytes) -> tuple[bytes | None, tuple[Finding, ...]]:
    """A `stamp` token saved beside the dossier goes inside the next build — if it still
    certifies this manifest (always the case for --reproducible rebuilds of unchanged evidence).

    The file is read only when it is a regular file, not a link, and at most MAX_TOKEN_BYTES."""
    path = token_path_for(output)
    if not os.path.lexists(path):
        return None, ()
    try:
        token = read_token_file(path)
    except TokenFileRefused as exc:
        return None, (Finding(Severity.WARNING, "stamp.refused", f"{exc.message}，未嵌入证据材料", path.name),)
    if inspect_token(token, manifest).digest_matches:
        return token, ()
    return None, (Finding(Severity.INFO, "stamp.stale",
                          f"{path.name} 是为旧版证据材料申请的时间戳，与本次清单不符，未嵌入；"
                          "需要时请重新运行 evidencekit stamp", path.name),)
