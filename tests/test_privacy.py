"""privacy: --mask-personal makes a dossier fit for public posting."""

from __future__ import annotations

from pathlib import Path

import pikepdf
import pypdfium2
import pytest
from click.testing import CliRunner
from factories import make_jpeg

from evidencekit.cli import main
from evidencekit.errors import ExitCode
from evidencekit.privacy import Masker

CASE_YAML = """\
complainant:
  name: 张小明
  phone: '13800138000'
  address: 上海市浦东新区世纪大道100号3号楼1201室
  email: xiaoming@example.com
merchant:
  shop_name: 好物优选
  company: 好物优选贸易有限公司
  address: 广东省深圳市南山区科技园路8号
order:
  number: '6912345678901234567'
  product: 羊毛大衣
  amount: 399
problem:
  type: counterfeit
  summary: 收到的大衣是假货
  details: 我的电话 13912345678，身份证 110101199003074512，住在上海市浦东新区世纪大道100号3号楼1201室
events:
  - time: 2024-11-15 10:00
    channel: seller
    note: 张小明打电话给客服
    ref: 回电 13800138000
evidence:
  - file: evidence/product/张小明_13800138000.jpg
    title: 张小明收到的大衣
    proves: 寄到世纪大道100号3号楼1201室的大衣是假货
"""

CHAT = """\
张小明
2024年11月14日 10:00
我的地址是上海市浦东新区世纪大道100号3号楼1201室，电话13800138000，身份证110101199003074512

好物优选客服
2024年11月14日 10:05
好的张小明，换货寄到杭州市西湖区文三路99号5幢301室可以吗
"""

# Everything personal the case holds: phone and ID numbers, addresses (street level), the name.
SECRETS = ("13800138000", "13912345678", "110101199003074512", "世纪大道100号", "1201室", "科技园路8号",
           "文三路99号", "5幢301室", "张小明")


def make_case(root: Path) -> Path:
    make_jpeg(root / "evidence" / "product" / "张小明_13800138000.jpg")
    make_jpeg(root / "evidence" / "order" / "Screenshot_20241114-190012.jpg", color="#a33")
    (root / "evidence" / "chat").mkdir(parents=True)
    (root / "evidence" / "chat" / "聊天记录_张小明.txt").write_text(CHAT, encoding="utf-8")
    (root / "case.yaml").write_text(CASE_YAML, encoding="utf-8")
    return root


def every_string(pdf_path: Path) -> str:
    """Page text, and every string object and stream of the file: metadata (info and XMP),
    bookmarks, annotations, embedded file names and contents."""
    out = []
    doc = pypdfium2.PdfDocument(str(pdf_path))
    try:
        out += [doc[i].get_textpage().get_text_range() for i in range(len(doc))]
    finally:
        doc.close()
    with pikepdf.open(pdf_path) as pdf:
        out += [f"{key}={value}" for key, value in pdf.docinfo.items()]
        with pdf.open_metadata() as xmp:
            out.append(str(xmp))
        with pdf.open_outline() as outline:
            stack = list(outline.root)
            while stack:
                item = stack.pop()
                out.append(item.title)
                stack += list(item.children)
        for page in pdf.pages:
            for annot in page.get("/Annots", []):
                out.append(repr(annot))
        for name, spec in pdf.attachments.items():
            out.append(name)
            out.append(spec.get_file().read_bytes().decode("utf-8", "replace"))

        def walk(obj: object, seen: set[tuple[int, int]]) -> None:
            if isinstance(obj, pikepdf.Object) and obj.is_indirect:
                if obj.objgen in seen:
                    return
                seen.add(obj.objgen)
            if isinstance(obj, pikepdf.String | pikepdf.Name):
                out.append(str(obj))
            elif isinstance(obj, pikepdf.Array):
                for item in obj:
                    walk(item, seen)
            elif isinstance(obj, pikepdf.Stream):
                try:
                    data = obj.read_bytes()
                except pikepdf.PdfError:  # an image codec qpdf does not decode (DCT): its raw bytes
                    data = obj.read_raw_bytes()
                out.append(data.decode("utf-8", "ignore"))
                for key in obj.keys():  # noqa: SIM118 (a pikepdf object, not a dict)
                    walk(obj[key], seen)
            elif isinstance(obj, pikepdf.Dictionary):
                for key in obj.keys():  # noqa: SIM118 (a pikepdf object, not a dict)
                    walk(obj[key], seen)

        seen: set[tuple[int, int]] = set()
        for obj in pdf.objects:
            walk(obj, seen)
    text = "\n".join(out)
    return text + "\n" + "".join(text.split())  # also with line breaks the layout added removed


def run(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def dossiers(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """(unmasked dossier, masked dossier, what the masked build printed)."""
    folder = tmp_path_factory.mktemp("privacy")
    root = make_case(folder / "case")
    code, _out, err = run("build", root, "-o", folder / "plain.pdf", "--reproducible")
    assert code == ExitCode.OK, err
    code, out, err = run("build", root, "-o", folder / "masked.pdf", "--mask-personal", "--reproducible")
    assert code == ExitCode.OK, err
    return folder / "plain.pdf", folder / "masked.pdf", out


def test_the_plain_dossier_carries_every_secret(dossiers: tuple[Path, Path, str]) -> None:
    text = every_string(dossiers[0])  # the premise: without masking, each is in the file somewhere
    assert [s for s in SECRETS if s not in text] == []


def test_a_masked_dossier_holds_no_phone_id_address_or_name(dossiers: tuple[Path, Path, str]) -> None:
    text = every_string(dossiers[1])
    assert [s for s in SECRETS if s in text] == []
    assert "138****8000" in text and "张**" in text  # masked, not dropped


def test_a_masked_dossier_attaches_no_original_and_says_what_was_masked(
        dossiers: tuple[Path, Path, str]) -> None:
    with pikepdf.open(dossiers[1]) as pdf:
        assert list(pdf.attachments) == ["evidencekit-manifest.json"]
    out = dossiers[2]
    assert "已隐去个人信息（--mask-personal）" in out
    assert "投诉人姓名" in out and "文件名 2 个" in out and "原件未附" in out


def test_a_masked_dossier_still_verifies(dossiers: tuple[Path, Path, str]) -> None:
    code, out, err = run("verify", dossiers[1])
    assert code == ExitCode.OK, out + err


@pytest.mark.parametrize(("text", "masked"), [
    ("寄到杭州市西湖区文三路99号5幢301室可以吗", "寄到杭州市西湖区****可以吗"),
    ("地址：北京市朝阳区建国路88号SOHO现代城A座1501", "地址：北京市朝阳区****"),
    ("阳光花园5栋302室", "****"),
    ("第3号证据", "第3号证据"),
    ("电话13800138000", "电话138****8000"),
    ("邮箱 xiaoming@example.com", "邮箱 x***@example.com"),
    ("订单号 123456789012345678", "订单号 123456789012345678"),  # not a date inside: not an ID
])
def test_addresses_in_free_text(text: str, masked: str) -> None:
    assert Masker().text(text) == masked  # no case facts: the patterns alone



def test_the_masked_manifest_says_its_names_are_masked(dossiers: tuple[Path, Path, str]) -> None:
    import json

    def manifest(pdf_path: Path) -> dict[str, object]:
        with pikepdf.open(pdf_path) as pdf:
            return dict(json.loads(pdf.attachments["evidencekit-manifest.json"].get_file().read_bytes()))

    assert manifest(dossiers[1])["personal_data_masked"] is True
    assert "personal_data_masked" not in manifest(dossiers[0])  # unmasked manifests are as before


def test_a_one_character_name_is_not_masked_in_every_word() -> None:
    from evidencekit.model import Case, Complainant

    masker = Masker(Case(root=Path("."), complainant=Complainant(name="王")))
    assert masker.text("王府井的王老板") == "王府井的王老板"
