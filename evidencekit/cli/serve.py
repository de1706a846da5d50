"""``evidencekit serve``: the local web app, on 127.0.0.1 only, behind a random access token.

Registered on the group in cli/__init__.py. The web modules (Flask, waitress, the pages) are
imported inside the command, so ``evidencekit --help`` loads none of them.
"""

from __future__ import annotations

import errno
import os
import secrets
import socket
import threading
import webbrowser
from pathlib import Path

import click

from evidencekit.cli.common import debug_option, handle_errors
from evidencekit.errors import CaseFolderError

HOST = "127.0.0.1"  # never another address: the page holds the shopper's personal data
DEFAULT_PORT = 8765
THREADS = 4  # a page and its previews at once; builds run in their own worker processes


def open_socket(port: int) -> socket.socket:
    """A listening socket on 127.0.0.1:``port``; any free port when ``port`` is 0 or taken."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        try:
            sock.bind((HOST, port))
        except OSError as exc:
            if exc.errno not in (errno.EADDRINUSE, errno.EACCES) or port == 0:
                raise
            sock.bind((HOST, 0))
        sock.listen(64)
    except OSError:
        sock.close()
        raise
    return sock


def check_workspace(folder: Path) -> None:
    """The folder the server shows must exist and be a readable folder (exit 4 otherwise)."""
    hint = "请给出存放案件的文件夹（或一个案件文件夹），如 evidencekit serve ~/维权案件"
    if not folder.exists():
        raise CaseFolderError(f"文件夹不存在：{folder}", hint=hint)
    if not folder.is_dir():
        raise CaseFolderError(f"不是文件夹：{folder}", hint=hint)
    try:
        with os.scandir(folder):
            pass
    except OSError as exc:
        raise CaseFolderError(f"无法读取文件夹：{folder}（{exc.strerror or exc}）", hint="请检查文件夹的读取权限") from exc


@click.command()
@click.argument("workspace", default=".", type=click.Path())  # checked by check_workspace (exit 4)
@click.option("--port", "-p", type=click.IntRange(0, 65535), default=DEFAULT_PORT, show_default=True,
              help="端口号；0 或已被占用时自动换一个空闲端口。")
@click.option("--no-browser", is_flag=True, help="不自动打开浏览器（把显示的地址复制到浏览器里打开）。")
@debug_option
@handle_errors
def serve(workspace: str, port: int, no_browser: bool, debug: bool) -> None:
    """在浏览器里使用 evidencekit：建案件、放证据、填信息、生成证据材料，全部在本机完成。

    只在本机地址 127.0.0.1 上打开，不会上传任何内容；地址里带一个随机口令，别的程序和网页打不开。
    WORKSPACE 是存放案件的文件夹（默认当前文件夹，每个案件一个子文件夹）；给的是一个案件文件夹时只显示这个案件。
    按 Ctrl-C 停止。

    \b
    示例：
      evidencekit serve ~/维权案件
      evidencekit serve 我的案件 --no-browser --port 9000
    """
    from waitress import create_server  # type: ignore[import-untyped]

    from evidencekit.web.app import create_app
    from evidencekit.web.security import MAX_UPLOAD_BYTES

    folder = Path(workspace)
    check_workspace(folder)
    token = secrets.token_urlsafe(24)
    try:
        sock = open_socket(port)
    except OSError as exc:
        raise CaseFolderError(f"无法在本机打开端口 {port}（{exc.strerror or exc}）", hint="换一个端口：--port 0") from exc
    actual = sock.getsockname()[1]
    app = create_app(folder, token, actual)
    server = create_server(app, sockets=[sock], threads=THREADS, ident="evidencekit",
                           max_request_body_size=MAX_UPLOAD_BYTES + 1024 * 1024)
    url = f"http://{HOST}:{actual}/?token={token}"
    shown = app.config["EK_WORKSPACE"]
    if shown.single_case:
        click.echo(f"打开的是一个案件文件夹，只显示这个案件：{shown.only}")
    if actual != port and port != 0:
        click.echo(f"端口 {port} 已被占用，改用 {actual}")
    click.echo(f"evidencekit 已在本机启动，请在浏览器中打开：\n  {url}")
    click.echo("只有本机能打开这个地址，内容不会上传到任何地方；地址里的口令请勿发给别人。按 Ctrl-C 停止。")
    if not no_browser:
        threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()
    try:
        # Ctrl-C, and SIGTERM (handle_errors turns it into a KeyboardInterrupt), end the loop:
        # waitress catches the interrupt itself and closes its sockets.
        server.run()
    except KeyboardInterrupt:  # one raised outside waitress's loop
        pass
    finally:
        server.close()
    click.echo("已停止 evidencekit serve。")
