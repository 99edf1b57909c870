"""Supporting documents: what a file is, told by its content, never by its name; its size, announced or real."""

import io

import pytest
from django.core.files.uploadedfile import InMemoryUploadedFile

from moncompte.procedures import documents
from moncompte.procedures.documents import DocumentRefused, check, clean_name, sniff
from tests.procedures.helpers import image_bytes, pdf_bytes, upload


def _sniff(content: bytes) -> str | None:
    return sniff(content[:64], content[-2048:])


@pytest.mark.parametrize(
    ("make", "content_type", "extension"),
    [
        (pdf_bytes, "application/pdf", ".pdf"),
        (lambda: image_bytes("JPEG"), "image/jpeg", ".jpg"),
        (lambda: image_bytes("PNG"), "image/png", ".png"),
    ],
    ids=["pdf", "jpeg", "png"],
)
def test_a_real_pdf_jpeg_or_png_is_told_by_its_content(make, content_type, extension, settings):
    content = make()
    assert _sniff(content) == content_type
    checked = check(upload(f"scan{extension}", content))
    assert (checked.content_type, checked.extension, checked.content) == (content_type, extension, content)
    assert len(checked.sha256) == 64


def test_a_png_named_pdf_is_accepted_as_a_png():
    checked = check(upload("bail.pdf", image_bytes("PNG"), content_type="application/pdf"))
    assert checked.content_type == "image/png"
    assert checked.extension == ".png"
    assert checked.original_name == "bail.pdf"


def test_a_text_file_named_pdf_is_refused_whatever_the_browser_says():
    with pytest.raises(DocumentRefused) as refused:
        check(upload("bail.pdf", b"Ceci n'est pas un PDF.\n" * 20, content_type="application/pdf"))
    assert "n'est pas un PDF, une image JPEG ou PNG lisible" in refused.value.message
    assert "bail.pdf" in refused.value.message


@pytest.mark.parametrize(
    "content",
    [
        pdf_bytes()[:-20],  # cut before %%EOF
        image_bytes("PNG")[:-12],  # no IEND
        image_bytes("JPEG")[:-2],  # no EOI
        b"%PDF-1.4\n",
        b"\x89PNG\r\n\x1a\n",
        b"\xff\xd8\xff",
        b"GIF89a" + b"\x00" * 40,
        b"<html><body>%PDF-1.4</body></html>\n%%EOF",
        b"MZ\x90\x00" + b"\x00" * 60,  # an executable
    ],
    ids=["pdf-cut", "png-cut", "jpeg-cut", "pdf-header-only", "png-signature-only", "jpeg-soi-only", "gif", "html",
         "exe"],
)  # fmt: skip
def test_a_truncated_or_other_file_is_refused(content):
    assert _sniff(content) is None
    with pytest.raises(DocumentRefused):
        check(upload("piece.pdf", content))


def test_an_empty_file_is_refused():
    with pytest.raises(DocumentRefused) as refused:
        check(upload("vide.pdf", b""))
    assert refused.value.message == "Le fichier « vide.pdf » est vide."


def test_an_oversized_file_is_refused_with_the_limit(settings):
    settings.DOCUMENT_MAX_BYTES = 2000
    content = pdf_bytes() + b"%" * 2000 + b"\n%%EOF\n"
    with pytest.raises(DocumentRefused) as refused:
        check(upload("gros.pdf", content))
    assert "Le fichier « gros.pdf » est trop lourd" in refused.value.message
    assert "2\xa0Ko au plus" in refused.value.message  # lib.sizes: « Ko », not « Kio »


def test_a_file_exactly_at_the_limit_is_accepted(settings):
    content = pdf_bytes()
    settings.DOCUMENT_MAX_BYTES = len(content)
    assert check(upload("juste.pdf", content)).content == content


def test_a_file_whose_announced_size_lies_is_measured_by_what_is_read(settings):
    settings.DOCUMENT_MAX_BYTES = 2000
    content = pdf_bytes() + b"%" * 3000 + b"\n%%EOF\n"
    lying = InMemoryUploadedFile(io.BytesIO(content), "file", "petit.pdf", "application/pdf", size=100, charset=None)
    assert lying.size == 100
    with pytest.raises(DocumentRefused) as refused:
        check(lying)
    assert "trop lourd" in refused.value.message


def test_a_file_of_unknown_size_is_refused(settings):
    unknown = InMemoryUploadedFile(
        io.BytesIO(pdf_bytes()), "file", "x.pdf", "application/pdf", size=None, charset=None
    )
    with pytest.raises(DocumentRefused):
        check(unknown)


def test_check_reads_from_the_start_even_if_the_file_was_read_before():
    content = pdf_bytes()
    file = upload("bail.pdf", content)
    file.read()
    assert check(file).content == content


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("C:\\Users\\jean\\bail.pdf", "bail.pdf"),
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("bail\x00.pdf", "bail.pdf"),
        ("bail\n\r\t.pdf", "bail.pdf"),
        ("", "document"),
        ("\u202egpj.exe", "gpj.exe"),  # right-to-left override (a format character) dropped
        ("e\u0301te\u0301.pdf", "été.pdf"),  # NFC
    ],
)
def test_the_name_shown_back_has_no_path_and_no_control_character(name, shown):
    assert clean_name(name) == shown


def test_a_long_name_keeps_its_end_and_its_extension():
    assert clean_name("a" * 300 + ".pdf") == "a" * 96 + ".pdf"


def test_only_three_types_are_accepted():
    assert set(documents.ACCEPTED) == {"application/pdf", "image/jpeg", "image/png"}
