"""A small but real renderer for the sample DAGs: a one-page print PDF and a PNG preview per order item.

It stands in for a shop's real render step (Customer's Canvas, a template engine, ...). Its output is a
pure function of the item, so rendering the same item twice gives the same bytes and the same links,
which is what lets a re-run export nothing new.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["render_preview_png", "render_print_pdf"]

PAGE_WIDTH, PAGE_HEIGHT = 252, 144  # a 3.5 x 2 inch business card, in points
PREVIEW_WIDTH, PREVIEW_HEIGHT = 350, 200


def _pdf_text(text: str) -> str:
    """Text for a PDF string literal: Latin-1 only, with the three special characters escaped."""
    latin = text.encode("latin-1", "replace").decode("latin-1")
    return latin.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def render_print_pdf(order: Mapping[str, Any], item: Mapping[str, Any]) -> bytes:
    """A one-page PDF naming the order, the item and its options: a print file any viewer opens."""
    lines = [
        f"Order {order.get('source_id', '')} / item {item.get('id', '')}",
        str(item.get("name", "")),
        f"SKU {item.get('code', '')}  x{item.get('quantity', '')}",
    ]
    lines += [f"{key}: {value}" for key, value in sorted((item.get("variation_list") or {}).items())]
    text = "BT /F1 10 Tf 14 TL 18 120 Td " + " ".join(f"({_pdf_text(line)}) '" for line in lines) + " ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_WIDTH} {PAGE_HEIGHT}] "
        "/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        f"<< /Length {len(text)} >>\nstream\n{text}\nendstream".encode("latin-1"),
    ]
    pdf = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(pdf))
        pdf += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(pdf)
    pdf += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    pdf += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    pdf += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(pdf)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def render_preview_png(order: Mapping[str, Any], item: Mapping[str, Any]) -> bytes:
    """A PNG preview: the card's face in a colour of its own, with a frame and a band, as RGB pixels."""
    digest = hashlib.sha256(f"{order.get('source_id')}/{item.get('id')}/{item.get('name')}".encode()).digest()
    face, band, frame = digest[0:3], digest[3:6], b"\x20\x20\x20"
    rows = []
    for y in range(PREVIEW_HEIGHT):
        row = bytearray(b"\x00")  # filter type: none
        for x in range(PREVIEW_WIDTH):
            if x < 6 or y < 6 or x >= PREVIEW_WIDTH - 6 or y >= PREVIEW_HEIGHT - 6:
                row += frame
            elif PREVIEW_HEIGHT // 3 <= y < PREVIEW_HEIGHT // 2:
                row += band
            else:
                row += face
        rows.append(bytes(row))
    header = struct.pack(">IIBBBBB", PREVIEW_WIDTH, PREVIEW_HEIGHT, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + _png_chunk(b"IEND", b"")
    )
