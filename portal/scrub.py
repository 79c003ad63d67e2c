"""Copies of a reporter's files without their metadata, for referrals to other bodies.

The original stays as evidence. Everything happens in memory (no temporary file, no other
process: no mat2, no exiftool), and the content alone decides the type, never a file name.

- Images (JPEG, PNG, WebP, GIF, TIFF, BMP) are redrawn upright from their pixels alone, without
  even an ICC profile. JPEG stays JPEG (quality 90); other images become lossless PNGs, and an
  animation or a multi-page TIFF keeps its first frame.
- PDFs keep their pages and lose the document info, XMP, piece info, attachments, JavaScript,
  automatic actions, comment authors, the camera segments of their JPEG pictures, their /ID
  and earlier revisions.
- UTF-8 text carries no metadata and is returned as it is.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Literal

import pikepdf
from PIL import Image, ImageOps

Reason = Literal["unsupported", "too_large", "damaged"]


@dataclass(frozen=True)
class CleanCopy:
    """A copy that may leave the oversight body, to be saved with ``extension``."""

    data: bytes
    media_type: str
    extension: str


class CannotClean(ValueError):  # noqa: N818 (the name the callers use)
    """No clean copy can be made; ``reason`` is a code that the caller turns into words."""

    def __init__(self, reason: Reason) -> None:
        super().__init__(reason)
        self.reason: Reason = reason


def clean_copy(data: bytes, *, max_pixels: int = 40_000_000) -> CleanCopy:
    """Return a copy of ``data`` without metadata, or raise :class:`CannotClean`."""
    if data.startswith(b"%PDF-"):
        return _clean_pdf(data)
    image_format = _image_format(data)
    if image_format is not None:
        return _clean_image(data, image_format, max_pixels)
    # Only valid UTF-8 decodes and encodes back to the same bytes.
    if b"\0" not in data and data.decode("utf-8", "replace").encode() == data:
        return CleanCopy(data, "text/plain; charset=utf-8", "txt")
    raise CannotClean("unsupported")


def _image_format(data: bytes) -> str | None:
    """Name the Pillow decoder for ``data``, from its leading bytes only."""
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "GIF"
    if data.startswith((b"II*\0", b"MM\0*", b"II+\0", b"MM\0+")):  # TIFF and BigTIFF
        return "TIFF"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    # A BMP's reserved header bytes are zero, which keeps text that begins "BM" out.
    if data[:2] == b"BM" and data[6:10] == b"\0\0\0\0":
        return "BMP"
    return None


def _clean_image(data: bytes, image_format: str, max_pixels: int) -> CleanCopy:
    # Pillow's MAX_IMAGE_PIXELS and the warnings filters stay as they are (process-wide, racy
    # across threads); its bomb error, or its warning where filters make it one, is too_large.
    try:
        with Image.open(io.BytesIO(data), formats=[image_format]) as opened:
            width, height = opened.size
            if width * height > max_pixels:
                raise CannotClean("too_large")
            as_jpeg = opened.format in ("JPEG", "MPO")  # MPO: a JPEG with extra views
            picture = ImageOps.exif_transpose(opened)
        keep = ("L", "RGB") if as_jpeg else ("1", "L", "LA", "RGB", "RGBA", "I;16")
        if picture.mode not in keep:
            alpha = not as_jpeg and picture.has_transparency_data
            picture = picture.convert("RGBA" if alpha else "RGB")
        # A new image from the pixel data alone: no info, EXIF, XMP, ICC, comment or text.
        pixels = Image.frombytes(picture.mode, picture.size, picture.tobytes())
        encoder, extension = ("JPEG", "jpg") if as_jpeg else ("PNG", "png")
        out = io.BytesIO()
        pixels.save(out, encoder, quality=90)  # the PNG encoder ignores quality: it is lossless
        return CleanCopy(out.getvalue(), f"image/{encoder.lower()}", extension)
    except CannotClean:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise CannotClean("too_large") from error
    except Exception as error:  # a hostile file can break a decoder in any way
        raise CannotClean("damaged") from error


# Keys removed from every dictionary, the trailer's included. /EmbeddedFiles and /JavaScript
# are name trees of the catalogue's /Names; /EF holds an attached file's bytes, /AF (PDF 2.0)
# associates files; without the old /ID, qpdf makes both halves of a new one.
_PDF_DROPPED_KEYS = (
    *("/Info", "/ID", "/Metadata", "/PieceInfo", "/LastModified", "/EmbeddedFiles", "/EF"),
    *("/AF", "/Collection", "/JavaScript", "/JS", "/OpenAction", "/AA"),
)
_JPEG_FILTERS = (pikepdf.Name.DCTDecode, [pikepdf.Name.DCTDecode])  # a JPEG file as it is


def _clean_pdf(data: bytes) -> CleanCopy:
    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            if pdf.is_encrypted:
                raise CannotClean("unsupported")
            if len(pdf.pages) == 0:
                raise CannotClean("damaged")
            for obj in (pdf.trailer, *pdf.objects):
                _strip_pdf_object(obj)
            for page in pdf.pages:
                _strip_annotations(page.obj)
            out = io.BytesIO()
            # Only what the catalogue still reaches is written, without earlier revisions;
            # streams are copied, never decoded, so a compressed bomb stays compressed.
            pdf.save(out, stream_decode_level=pikepdf.StreamDecodeLevel.none)
    except CannotClean:
        raise
    except pikepdf.PasswordError as error:
        raise CannotClean("unsupported") from error
    except Exception as error:  # qpdf's parse errors, and anything a hostile file provokes
        raise CannotClean("damaged") from error
    return CleanCopy(out.getvalue(), "application/pdf", "pdf")


def _strip_pdf_object(root: pikepdf.Object) -> None:
    """Drop metadata keys from ``root`` and the direct objects nested in it."""
    pending = [root]
    while pending:
        obj = pending.pop()
        children = list(obj) if isinstance(obj, pikepdf.Array) else []
        if isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
            for key in _PDF_DROPPED_KEYS:
                if key in obj:
                    del obj[key]
            children = [obj[key] for key in obj.keys()]  # noqa: SIM118 (a Stream has no items)
            if isinstance(obj, pikepdf.Stream) and obj.get("/Filter") in _JPEG_FILTERS:
                obj.write(
                    _jpeg_without_segments(obj.read_raw_bytes()),
                    filter=pikepdf.Name.DCTDecode,
                    decode_parms=obj.get("/DecodeParms"),  # type: ignore[arg-type]
                )
        # Indirect children are in pdf.objects already; numbers and names come back as Python.
        pending.extend(c for c in children if isinstance(c, pikepdf.Object) and not c.is_indirect)


def _strip_annotations(page: pikepdf.Dictionary) -> None:
    """Remove file attachments and the authors and dates of comments on ``page``."""
    annotations = page.get("/Annots")
    if not isinstance(annotations, pikepdf.Array):
        return
    kept = [a for a in annotations if isinstance(a, pikepdf.Dictionary)]
    kept = [a for a in kept if a.get("/Subtype") != pikepdf.Name.FileAttachment]
    for annotation in kept:
        if annotation.get("/Subtype") != pikepdf.Name.Widget:  # a widget's /T names its field
            for key in ("/T", "/M", "/CreationDate"):
                if key in annotation:
                    del annotation[key]
    page.Annots = pikepdf.Array(kept)


def _jpeg_without_segments(jpeg: bytes) -> bytes:
    """Drop a JPEG's APPn segments (EXIF, XMP, ICC, thumbnails) and comments before its scan;
    keep Adobe's APP14, which says how the colours are coded."""
    if not jpeg.startswith(b"\xff\xd8"):
        raise ValueError("JPEG start")
    kept, position = [b"\xff\xd8"], 2
    while True:
        if position + 4 > len(jpeg) or jpeg[position] != 0xFF:
            raise ValueError("JPEG header")  # unreadable: better refused than shared as is
        marker = jpeg[position + 1]
        if marker == 0xFF:  # a fill byte before the marker
            position += 1
            continue
        if marker == 0xDA:  # start of scan: the compressed picture follows
            break
        end = position + 2 + int.from_bytes(jpeg[position + 2 : position + 4], "big")
        if not ((0xE0 <= marker <= 0xEF and marker != 0xEE) or marker == 0xFE):
            kept.append(jpeg[position:end])
        position = end
    return b"".join(kept) + jpeg[position:]
