"""`stamp`: get an RFC 3161 token for a dossier's manifest and write it beside the PDF.

The protocol (request, reply checks, token verification) is in tsa.py; reading the manifest out of
the PDF is verify.py's. This module joins the two, so neither imports the other.
"""

from __future__ import annotations

from pathlib import Path

from evidencekit.errors import OutputError
from evidencekit.fsutil import refuse_special, write_atomically
from evidencekit.integrity.tsa import PostFunc, build_request, check_reply, post_request, token_path_for
from evidencekit.integrity.verify import read_manifest


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
