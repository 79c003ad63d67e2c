"""Shared copies lose their metadata; the content alone decides how a file is cleaned.

Every file here is made by the test itself, so exiftool (through pipes) reads no reporter's data.
Each check on a copy is paired with the same check on the original, which must find what the
copy must not: otherwise a check that sees nothing would pass for the wrong reason.
"""

from __future__ import annotations

import inspect
import io
import json
import random
import subprocess
import zlib
from pathlib import Path

import pikepdf
import pytest
from PIL import ExifTags, Image, ImageCms, PngImagePlugin

from portal.scrub import CannotClean, CleanCopy, clean_copy

EXIFTOOL = "/usr/bin/exiftool"
CAMERA_TAGS = {"Make", "Model", "SerialNumber", "DateTimeOriginal", "Artist"}
SECRETS = ("Jane Reporter", "Leaky Camera", "LC-9000", "SN-4471-22", "2024:03:01 10:15:00")


def exiftool_tags(data: bytes) -> dict[str, object]:
    """Each "Group:Tag" exiftool finds in ``data`` (read from stdin), with its value."""
    if not Path(EXIFTOOL).exists():
        pytest.fail(f"{EXIFTOOL} is required (CI installs it): apt-get install exiftool")
    result = subprocess.run([EXIFTOOL, "-j", "-G", "-"], input=data, capture_output=True)
    assert result.returncode == 0, result.stderr
    [record] = json.loads(result.stdout)
    return dict(record)


def tag_names(data: bytes) -> set[str]:
    return {key.split(":", 1)[-1] for key in exiftool_tags(data)}


def identifying_tags(data: bytes) -> set[str]:
    """GPS and camera tags, ICC profiles, and the test's secrets anywhere exiftool looks."""
    tags = exiftool_tags(data)
    found = {key.split(":", 1)[-1] for key in tags}
    found = {name for name in found if name.startswith("GPS") or name in CAMERA_TAGS}
    found |= {"ICC_Profile" for key in tags if key.startswith("ICC_Profile:")}
    text = json.dumps(tags)
    return found | {secret for secret in SECRETS if secret in text}


def srgb_profile() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def camera_exif(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Leaky Camera"
    exif[ExifTags.Base.Model] = "LC-9000"
    exif[ExifTags.Base.Artist] = "Jane Reporter"
    exif[ExifTags.Base.Orientation] = orientation
    details = exif.get_ifd(ExifTags.IFD.Exif)
    details[ExifTags.Base.DateTimeOriginal] = "2024:03:01 10:15:00"
    details[ExifTags.Base.BodySerialNumber] = "SN-4471-22"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "S"
    gps[ExifTags.GPS.GPSLatitude] = (12.0, 34.0, 56.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (27.0, 28.0, 29.0)
    return exif


def two_colours(size: tuple[int, int] = (80, 40)) -> Image.Image:
    """Red on the left half, blue on the right, so a rotation shows."""
    picture = Image.new("RGB", size, (255, 0, 0))
    picture.paste((0, 0, 255), (size[0] // 2, 0, size[0], size[1]))
    return picture


def encoded(picture: Image.Image, image_format: str, **options: object) -> bytes:
    out = io.BytesIO()
    picture.save(out, image_format, **options)
    return out.getvalue()


def assert_no_pillow_metadata(picture: Image.Image) -> None:
    assert not picture.getexif()
    assert not {"exif", "icc_profile", "xmp", "XML:com.adobe.xmp", "comment"} & set(picture.info)
    assert not getattr(picture, "text", {})


def test_a_photo_loses_gps_camera_and_author_but_stays_upright() -> None:
    exif, comment = camera_exif(orientation=6), b"Jane Reporter's phone"
    original = encoded(
        two_colours(), "JPEG", exif=exif, icc_profile=srgb_profile(), comment=comment
    )
    found = identifying_tags(original)
    assert found >= {"GPSLatitude", "GPSLongitude", "ICC_Profile", *CAMERA_TAGS, *SECRETS}

    copy = clean_copy(original)

    assert (copy.media_type, copy.extension) == ("image/jpeg", "jpg")
    assert identifying_tags(copy.data) == set()
    with Image.open(io.BytesIO(copy.data)) as cleaned:
        assert cleaned.format == "JPEG"
        assert_no_pillow_metadata(cleaned)
        # Orientation 6 means "turn clockwise": the left (red) half ends on top.
        assert cleaned.size == (40, 80)
        red, _, blue = cleaned.convert("RGB").getpixel((20, 10))  # type: ignore[misc]
        assert red > 200 and blue < 60
        red, _, blue = cleaned.convert("RGB").getpixel((20, 70))  # type: ignore[misc]
        assert blue > 200 and red < 60


def test_a_png_loses_its_text_chunks_and_exif() -> None:
    text = PngImagePlugin.PngInfo()
    text.add_text("Author", "Jane Reporter")
    text.add_text("Comment", "taken at LC-9000 site", zip=True)
    text.add_itxt("Software", "Leaky Camera app")
    original = encoded(
        two_colours(), "PNG", pnginfo=text, exif=camera_exif(), icc_profile=srgb_profile()
    )
    assert {"Author", "Comment", "Software"} <= tag_names(original)
    assert identifying_tags(original) >= {"GPSLatitude", "Make", "ICC_Profile", "Jane Reporter"}

    copy = clean_copy(original)

    assert (copy.media_type, copy.extension) == ("image/png", "png")
    assert not {"Author", "Comment", "Software"} & tag_names(copy.data)
    assert identifying_tags(copy.data) == set()
    with Image.open(io.BytesIO(copy.data)) as cleaned:
        assert_no_pillow_metadata(cleaned)
        assert cleaned.tobytes() == two_colours().tobytes()  # lossless


@pytest.mark.parametrize(
    ("image_format", "options"),
    [
        ("WEBP", {"exif": camera_exif(), "lossless": True}),
        ("TIFF", {"exif": camera_exif()}),
        ("GIF", {"comment": b"Jane Reporter", "save_all": True, "append_images": [two_colours()]}),
        ("BMP", {}),
    ],
)
def test_other_images_become_plain_pngs(image_format: str, options: dict[str, object]) -> None:
    original = encoded(two_colours(), image_format, **options)
    if options:
        assert identifying_tags(original)

    copy = clean_copy(original)

    assert copy.media_type == "image/png"
    assert identifying_tags(copy.data) == set()
    with Image.open(io.BytesIO(copy.data)) as cleaned:
        assert cleaned.size == (80, 40)
        assert_no_pillow_metadata(cleaned)


def test_a_cmyk_jpeg_and_a_transparent_palette_png_are_copied() -> None:
    cmyk = clean_copy(encoded(two_colours().convert("CMYK"), "JPEG"))
    assert Image.open(io.BytesIO(cmyk.data)).mode == "RGB"

    palette = Image.new("P", (10, 10), 0)
    palette.putpalette([255, 0, 0, 0, 0, 255])
    palette.putpixel((0, 0), 1)
    copy = clean_copy(encoded(palette, "PNG", transparency=0))
    with Image.open(io.BytesIO(copy.data)) as cleaned:
        assert cleaned.mode == "RGBA"
        assert cleaned.getpixel((0, 0)) == (0, 0, 255, 255)
        assert cleaned.getpixel((5, 5))[3] == 0  # type: ignore[index]


def leaky_pdf() -> bytes:
    """Two pages carrying every kind of PDF metadata the copy must lose."""
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(200, 200))
    pdf.add_blank_page(page_size=(200, 200))
    with pdf.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as xmp:
        xmp["dc:creator"] = ["Jane Reporter"]
        xmp["xmp:CreatorTool"] = "LC-9000 firmware"
    pdf.docinfo["/Author"] = "Jane Reporter"
    pdf.docinfo["/Creator"] = "Leaky Camera scanner"
    pdf.docinfo["/Producer"] = "LC-9000 firmware"
    pdf.docinfo["/Title"] = "Statement of Jane Reporter"
    witnesses = pikepdf.AttachedFileSpec(pdf, b"Witnesses: SN-4471-22", filename="w.txt")
    pdf.attachments["w.txt"] = witnesses
    pdf.Root.OpenAction = pikepdf.Dictionary(
        S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert('Jane Reporter')")
    )
    page = pdf.pages[0]
    page.obj.Annots = pdf.make_indirect(
        pikepdf.Array(
            [
                pikepdf.Dictionary(
                    Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.FileAttachment,
                    Rect=[0, 0, 20, 20], FS=witnesses.obj,
                ),
                pikepdf.Dictionary(
                    Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Text, Rect=[20, 20, 40, 40],
                    T=pikepdf.String("Jane Reporter"), Contents=pikepdf.String("see here"),
                ),
            ]
        )
    )  # fmt: skip
    # A photo placed on the second page, with its camera's EXIF inside the JPEG stream.
    photo = encoded(two_colours(), "JPEG", exif=camera_exif())
    image = pdf.make_stream(
        photo, Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Image, Width=80, Height=40,
        ColorSpace=pikepdf.Name.DeviceRGB, BitsPerComponent=8, Filter=pikepdf.Name.DCTDecode,
    )  # fmt: skip
    second = pdf.pages[1]
    second.obj.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image))
    second.obj.Contents = pdf.make_stream(b"q 80 0 0 40 10 10 cm /Im0 Do Q")
    # Scripts that run on their own: a document-level one and one on opening the second page.
    script = pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(2)"))
    pdf.Root.Names.JavaScript = pikepdf.Dictionary(Names=[pikepdf.String("startup"), script])
    second.obj.AA = pikepdf.Dictionary(O=script)
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def expanded(pdf_bytes: bytes) -> bytes:
    """The PDF rewritten with every stream (except JPEGs) and object stream uncompressed."""
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        pdf.save(out, compress_streams=False, object_stream_mode=pikepdf.ObjectStreamMode.disable)
    return out.getvalue()


def test_a_pdf_loses_info_xmp_attachments_javascript_and_photo_exif() -> None:
    original = leaky_pdf()
    assert {"Author", "Creator", "Title", "Producer", "CreatorTool"} <= tag_names(original)
    assert all(secret.encode() in expanded(original) for secret in SECRETS[:4])
    assert b"Exif" in expanded(original) and b"app.alert" in expanded(original)

    copy = clean_copy(original)

    assert (copy.media_type, copy.extension) == ("application/pdf", "pdf")
    assert not {"Author", "Creator", "Title", "Producer", "CreatorTool"} & tag_names(copy.data)
    assert identifying_tags(copy.data) == set()
    assert not [secret for secret in SECRETS if secret.encode() in expanded(copy.data)]
    assert b"Exif" not in expanded(copy.data) and b"app.alert" not in expanded(copy.data)
    with pikepdf.open(io.BytesIO(copy.data)) as cleaned:
        assert len(cleaned.pages) == 2
        assert "/Info" not in cleaned.trailer
        assert "/Metadata" not in cleaned.Root
        assert "/OpenAction" not in cleaned.Root
        assert not {"/EmbeddedFiles", "/JavaScript"} & set(cleaned.Root.get("/Names", {}).keys())
        assert "/AA" not in cleaned.pages[1].obj
        assert len(cleaned.attachments) == 0
        [comment] = cleaned.pages[0].obj.Annots
        assert comment.Subtype == pikepdf.Name.Text and "/T" not in comment
        # The photo still shows: the same JPEG picture, without its camera segment.
        xobject = cleaned.pages[1].Resources.XObject.Im0
        assert isinstance(xobject, pikepdf.Stream)
        assert pikepdf.PdfImage(xobject).as_pil_image().size == (80, 40)
    with pikepdf.open(io.BytesIO(original)) as before, pikepdf.open(io.BytesIO(copy.data)) as after:
        assert before.trailer.ID[0] != after.trailer.ID[0]


def test_the_content_decides_not_the_name() -> None:
    assert list(inspect.signature(clean_copy).parameters) == ["data", "max_pixels"]
    # Bytes that arrived as "photo.jpg" but hold a PDF are cleaned as a PDF.
    assert clean_copy(leaky_pdf()).media_type == "application/pdf"
    assert clean_copy(encoded(two_colours(), "JPEG")).media_type == "image/jpeg"


def png_of_one_colour(width: int, height: int) -> bytes:
    """A valid 1-bit PNG built row by row, so a huge one stays a few kilobytes."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body).to_bytes(4, "big")
        return len(body).to_bytes(4, "big") + kind + body + crc

    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([1, 0, 0, 0, 0])
    compressor = zlib.compressobj(9)
    row = bytes(1 + (width + 7) // 8)
    rows = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )


def test_decompression_bombs_are_refused_without_touching_pillows_limit() -> None:
    limit = Image.MAX_IMAGE_PIXELS
    with pytest.raises(CannotClean) as ours:
        clean_copy(png_of_one_colour(2000, 2000), max_pixels=1_000_000)
    assert ours.value.reason == "too_large"
    # 400 million pixels: past Pillow's own limit, which refuses it before ours is reached.
    with pytest.raises(CannotClean) as pillows:
        clean_copy(png_of_one_colour(20000, 20000))
    assert pillows.value.reason == "too_large"
    assert limit == Image.MAX_IMAGE_PIXELS
    assert clean_copy(png_of_one_colour(2000, 2000)).media_type == "image/png"


@pytest.mark.parametrize(
    "data",
    [
        random.Random(7).randbytes(4096),
        b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" + bytes(400),  # MP3
        b"\x00\x00\x00\x18ftypmp42" + bytes(64),  # MP4
        b"PK\x03\x04\x14\x00\x06\x00" + bytes(64),  # zip, docx, xlsx
        "Déclaration".encode("latin-1"),  # text, but not UTF-8
    ],
)
def test_other_content_is_unsupported(data: bytes) -> None:
    with pytest.raises(CannotClean) as refused:
        clean_copy(data)
    assert refused.value.reason == "unsupported"


def test_an_encrypted_pdf_is_unsupported() -> None:
    for user_password in ("secret", ""):
        out = io.BytesIO()
        with pikepdf.open(io.BytesIO(leaky_pdf())) as pdf:
            pdf.save(out, encryption=pikepdf.Encryption(owner="owner", user=user_password))
        with pytest.raises(CannotClean) as refused:
            clean_copy(out.getvalue())
        assert refused.value.reason == "unsupported"


def pdf_without_pages() -> bytes:
    out = io.BytesIO()
    pikepdf.new().save(out)
    return out.getvalue()


@pytest.mark.parametrize(
    "data",
    [
        encoded(Image.effect_noise((200, 200), 60).convert("RGB"), "JPEG")[:3000],
        b"%PDF-1.7\n" + random.Random(8).randbytes(4096),
        pdf_without_pages(),
    ],
    ids=["truncated-jpeg", "garbage-pdf", "pdf-without-pages"],
)
def test_damaged_files_are_refused(data: bytes) -> None:
    with pytest.raises(CannotClean) as refused:
        clean_copy(data)
    assert refused.value.reason == "damaged"


@pytest.mark.parametrize(
    "text", ["Témoignage — 証言 — شهادة\n", "BMW at the gate, 2 guards\n", "%PD", ""]
)
def test_utf8_text_comes_back_unchanged(text: str) -> None:
    data = text.encode()
    assert clean_copy(data) == CleanCopy(data, "text/plain; charset=utf-8", "txt")
