#!/usr/bin/env python3
"""An external annotator for dde-train in standard-library Python: `brightness`.

    annotator.brightness = python3 scripts/example-scorer.py

dde-train runs `python3 scripts/example-scorer.py FOLDER`, where FOLDER holds the images to
score (0001.png, ...) and captions.jsonl ({"image": "0001.png", "caption": "..."} a line); this
writes FOLDER/scores.csv (header `image,score`): each image's mean pixel value in [0, 1]. A real
scorer (PickScore, HPS, ...) keeps this frame and replaces `score` (README, Your own scorer).
The PNG reader handles what dde-train writes: 8-bit RGB, any row filter, no interlace.
"""
import json
import struct
import sys
import zlib
from pathlib import Path


def read_png_rgb(path):
    """(width, height, bytes of RGB rows) of an 8-bit RGB PNG."""
    data = Path(path).read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path}: not a PNG")
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if (depth, colour, interlace) != (8, 2, 0):
                raise ValueError(f"{path}: not an 8-bit RGB PNG without interlace")
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw, stride, bpp = zlib.decompress(idat), width * 3, 3
    rows, previous = [], bytearray(stride)
    for y in range(height):
        filter_type = raw[y * (stride + 1)]
        row = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = row[x - bpp] if x >= bpp else 0
            b = previous[x]
            c = previous[x - bpp] if x >= bpp else 0
            if filter_type == 1:
                row[x] = (row[x] + a) & 255
            elif filter_type == 2:
                row[x] = (row[x] + b) & 255
            elif filter_type == 3:
                row[x] = (row[x] + (a + b) // 2) & 255
            elif filter_type == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                row[x] = (row[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(row))
        previous = row
    return width, height, b"".join(rows)


def score(image_path, caption):
    """The mean pixel value in [0, 1] (the caption is not used by this one)."""
    _, _, pixels = read_png_rgb(image_path)
    return sum(pixels) / (255.0 * len(pixels))


def main():
    folder = Path(sys.argv[1])
    lines = [json.loads(line) for line in (folder / "captions.jsonl").read_text().splitlines() if line.strip()]
    with open(folder / "scores.csv", "w") as out:
        out.write("image,score\n")
        for item in lines:
            out.write(f"{item['image']},{score(folder / item['image'], item['caption']):.9f}\n")


if __name__ == "__main__":
    main()
