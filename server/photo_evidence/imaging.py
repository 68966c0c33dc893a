"""Pixel work on evidence photos: the pixel limit, reduced-scale thumbnails, perceptual and file hashes.

Every function checks the pixel limit from the header before any decoding.  JPEGs are decoded at
reduced scale (libjpeg-turbo's DCT scaling by M/8), so a 50 MP photo never becomes a 150 MB bitmap;
one decode serves every derivative and the perceptual hash.

* The decoder is libjpeg-turbo through ``simplejpeg`` (any M/8, straight into a NumPy array, without
  the GIL), and the one resampling pass after it is OpenCV's.
* A JPEG that decoder will not take as it is (a libjpeg warning, CMYK) goes the established way
  instead: Pillow's ``draft`` (1/2, 1/4, 1/8) and its own resampling, which also decides what is
  truncated or corrupt.
* HEIC has no reduced-scale mode: pillow-heif decodes the primary image in full.  We deliberately do
  not use its embedded thumbnails (``draft`` on HEIF), since a crafted file could carry a thumbnail
  showing another scene; the full decode is bounded by the same pixel limit.

``PIL.Image.MAX_IMAGE_PIXELS`` is set by :mod:`server.photo_evidence.exif` (see there).
"""

from __future__ import annotations

import functools
import hashlib
import io
import mmap
import os
from dataclasses import dataclass
from types import ModuleType
from typing import IO

import imagehash
import numpy as np
import simplejpeg
from PIL import Image

from server.photo_evidence.exif import (
    DEFAULT_MAX_PIXELS,
    FORMAT_JPEG,
    PhotoRejected,
    failure_code,
    jpeg_frame,
    open_photo,
)

#: Longest sides, in pixels, of the derivatives made by default: list thumbnail, detail preview.
#: A 12 MP phone photo (4000 x 3000) decodes at 3/8 DCT scale (1500 x 1125) for the 1280 px preview,
#: 50 MP (8160 x 6120) at 2/8 and 108 MP (12000 x 9000) at 1/8; one resampling pass then brings it to
#: 1280 px.
DEFAULT_SIZES = (320, 1280)
#: Pillow's resampling filter (HEIC, the fallback decode, the thumbnail from the preview): a
#: Hamming-windowed sinc of support 1.  After DCT scaling the remaining factor is small (< 2), where
#: it is visibly sharper than BILINEAR at the same cost and about 40 % cheaper than BICUBIC.
RESAMPLE = Image.Resampling.HAMMING
#: Up to this remaining factor after the DCT scaling, OpenCV's bilinear interpolation resamples the
#: fast decode (4 ms for 1500 -> 1280 px, against 20-30 ms for Pillow's filters); from it on, where
#: bilinear would skip input pixels and alias, its area average (20-30 ms).  For a 12 MP photo's
#: 1280 px preview (factor 1.17) bilinear is closer to a full-resolution LANCZOS reference than the
#: Pillow path it replaced (PSNR 46.9 dB against 46.0).
LINEAR_MAX_FACTOR = 1.5
#: JPEG quality of the derivatives.
DERIVATIVE_QUALITY = 82
#: Decode size for perceptual hashing (phash itself works on 32 x 32).
PHASH_DECODE_SIZE = 256
#: Hamming distance (of 64 bits) at or below which two photos are near-duplicates.
NEAR_DUPLICATE_MAX_DISTANCE = 10

_CHUNK = 1024 * 1024
#: How much compressed data the JPEG decoder is handed per call.  Pillow releases the GIL inside each
#: call but takes it back between them: with its default (64 KiB), a 12 MP photo needed ~70 GIL
#: hand-overs, each waiting behind whatever Python code other threads run (the event loop, requests).
DECODE_BLOCK_BYTES = 4 * 1024 * 1024
#: glibc's ``mallopt`` parameters: the size from which allocations are mapped fresh from the kernel,
#: and how much free memory a heap keeps before returning its top to the kernel.
_M_MMAP_THRESHOLD = -3
_M_TRIM_THRESHOLD = -1
#: Allocations from this size on are mapped fresh (see :func:`map_large_buffers`): a 1/2-scale decode
#: of a 12 MP photo is 12 MB; NumPy's and Python's everyday buffers stay well below.
LARGE_BUFFER_BYTES = 8 * 1024 * 1024
#: Free heap memory kept for reuse rather than handed back to the kernel (glibc's default: 128 KiB once
#: the mmap threshold is pinned).  The decoder's 4 MiB input blocks and the previews' buffers then reuse
#: pages already mapped in.
KEEP_FREED_BYTES = 64 * 1024 * 1024

PathOrFile = str | os.PathLike[str] | IO[bytes]


def check_pixel_limit(path_or_file: PathOrFile, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> tuple[int, int]:
    """Return the stored (width, height) from the header; raise ``too_many_pixels`` above the limit.

    No pixel is decoded: for JPEG the size comes from the SOF marker before Pillow is involved.
    """
    with open_photo(path_or_file, max_pixels=max_pixels) as (image, _fmt):
        return image.size


def pixel_limit_from_head(head: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> tuple[int, int] | None:
    """Check the pixel limit from the first bytes of an upload, before the rest has even arrived.

    Returns the JPEG's stored (width, height) once ``head`` reaches its frame header; None when more
    bytes are needed, or when the file is not a JPEG or its markers are broken (the full checks on the
    whole file then decide).  Raises ``too_many_pixels`` above the limit (a quarter of it for a
    progressive JPEG: see :data:`~server.photo_evidence.exif.PROGRESSIVE_LIMIT_SHARE`).
    """
    if not head.startswith(b"\xff\xd8\xff"):
        return None
    try:
        frame = jpeg_frame(io.BytesIO(head))
    except PhotoRejected:
        return None
    frame.check(max_pixels)
    return frame.width, frame.height


def _decode(image: Image.Image) -> None:
    """Decode the pixels, turning decoder failures into ``truncated`` / ``corrupt``."""
    try:
        image.load()
    except Image.DecompressionBombError as exc:
        raise PhotoRejected("too_many_pixels") from exc
    except (OSError, SyntaxError, ValueError, EOFError, RuntimeError) as exc:
        raise PhotoRejected(failure_code(exc)) from exc


#: EXIF orientation -> the transposition that makes the pixels upright (as ``ImageOps.exif_transpose``).
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


@dataclass(frozen=True, slots=True)
class Decoded:
    """A photo decoded at reduced scale in RGB, as stored (not yet turned upright)."""

    image: Image.Image
    #: EXIF orientation (1-8; 1 = already upright).
    orientation: int
    #: The colour profile the RGB pixels are in, if any.
    icc: bytes | None

    def upright(self, image: Image.Image | None = None) -> Image.Image:
        """``image`` (default: the decode itself) turned upright by the photo's EXIF orientation."""
        image = self.image if image is None else image
        method = _UPRIGHT.get(self.orientation)
        return image if method is None else image.transpose(method)


@functools.cache
def _opencv() -> ModuleType:
    """OpenCV, imported on first use (0.2 s), its own thread pool off: photos are resized one per thread."""
    import cv2

    cv2.setNumThreads(1)
    return cv2


def warm_up() -> Derivatives:
    """Run the whole pixel pipeline once on a small sample, so that the first upload does not import
    and initialise the decoder, OpenCV (0.2 s) and SciPy's FFT (the perceptual hash) itself."""
    sample = io.BytesIO()
    Image.new("RGB", (64, 48), (90, 120, 60)).save(sample, "JPEG")
    return derive_photo(sample, sizes=(20,))  # decoded at 3/8 (24 x 18), then resampled to 20 px


def _min_box(width: int, height: int, size: int) -> tuple[int, int]:
    """The box whose LONGEST side is ``size``, in the photo's proportions (rounded up)."""
    longest = max(width, height)
    return max(1, -(-size * width // longest)), max(1, -(-size * height // longest))


def _fast_jpeg_decode(path_or_file: PathOrFile, box: tuple[int, int]) -> np.ndarray | None:
    """RGB pixels of a JPEG at the smallest M/8 DCT scale that covers ``box`` (libjpeg-turbo).

    Files are mapped, not read into memory.  None when libjpeg-turbo reports anything, even a
    warning it could recover from (``strict``): such files take the Pillow path, whose verdicts on
    truncated and corrupt data the rest of the system knows.
    """
    try:
        if isinstance(path_or_file, str | os.PathLike):
            with open(path_or_file, "rb") as fp, mmap.mmap(fp.fileno(), 0, access=mmap.ACCESS_READ) as data:
                return _decode_buffer(data, box)
        path_or_file.seek(0)
        return _decode_buffer(path_or_file.read(), box)
    except (ValueError, OSError):
        return None


def _decode_buffer(data: bytes | mmap.mmap, box: tuple[int, int]) -> np.ndarray:
    return simplejpeg.decode_jpeg(data, "RGB", min_width=box[0], min_height=box[1], strict=True)


def shrink_pixels(pixels: np.ndarray, size: int) -> np.ndarray:
    """An RGB array with its longest side brought down to ``size`` (never upscaled; the same if it fits).

    OpenCV, bilinear up to :data:`LINEAR_MAX_FACTOR`, area averaging beyond it.
    """
    height, width = pixels.shape[:2]
    scale = size / max(width, height)
    if scale >= 1.0:
        return pixels
    cv2 = _opencv()
    target = (max(1, round(width * scale)), max(1, round(height * scale)))
    method = cv2.INTER_LINEAR if scale * LINEAR_MAX_FACTOR > 1.0 else cv2.INTER_AREA
    return cv2.resize(pixels, target, interpolation=method)


def decode_reduced(
    path_or_file: PathOrFile, size: int, *, max_pixels: int = DEFAULT_MAX_PIXELS, shrink_to: int | None = None
) -> Decoded:
    """Decode a photo in RGB, JPEG at the smallest DCT scale whose longest side stays >= ``size``.

    A 4000 x 3000 JPEG asked for 320 decodes at 1/8 (500 x 375), for 1280 at 3/8 (1500 x 1125); HEIC
    decodes in full.  The pixel limit is checked from the header first.  ``shrink_to``: the decode is
    also brought down to that longest side, which spares a copy of the decode.  The pixels are left
    as stored: turning them upright is cheaper once shrunk (:meth:`Decoded.upright`).
    """
    if size < 1:
        raise ValueError("size must be positive")
    with open_photo(path_or_file, max_pixels=max_pixels) as (image, fmt):
        # YCbCr and greyscale JPEGs (``mode`` as Pillow read the header) go to libjpeg-turbo directly.
        fast = None
        if fmt == FORMAT_JPEG and image.mode in ("RGB", "L"):
            fast = _fast_jpeg_decode(path_or_file, _min_box(*image.size, size))
        if fast is not None:
            orientation = image.getexif().get(0x0112, 1)
            icc = image.info.get("icc_profile") if image.mode == "RGB" else None
            if shrink_to is not None:
                fast = shrink_pixels(fast, shrink_to)
            return Decoded(Image.fromarray(fast), orientation if orientation in _UPRIGHT else 1, icc or None)
        if fmt == FORMAT_JPEG:
            # Ask for the box whose LONGEST side is ``size``: libjpeg then picks the smallest DCT scale
            # that keeps the longest side >= size (a square box would keep the short side >= size).
            image.draft("RGB", _min_box(*image.size, size))
            image.decodermaxblock = DECODE_BLOCK_BYTES
        _decode(image)
        orientation = image.getexif().get(0x0112, 1)
        # An ICC profile only describes RGB output when the decoded pixels were RGB (not CMYK / L).
        icc = image.info.get("icc_profile") if image.mode == "RGB" else None
        result = image if image.mode == "RGB" else image.convert("RGB")
        if shrink_to is not None:
            result = shrink(result, shrink_to)
        if result is image:  # the file's image is closed with the block: keep a detached copy
            result = image.copy()
    result.info.clear()
    return Decoded(result, orientation if orientation in _UPRIGHT else 1, icc or None)


def load_reduced(path_or_file: PathOrFile, size: int, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
    """Decode a photo upright in RGB at reduced DCT scale (see :func:`decode_reduced`); not resized further.

    The colour profile, if any, is kept in ``info["icc_profile"]``.
    """
    decoded = decode_reduced(path_or_file, size, max_pixels=max_pixels)
    result = decoded.upright()
    if decoded.icc:
        result.info["icc_profile"] = decoded.icc
    return result


def shrink(image: Image.Image, size: int) -> Image.Image:
    """``image`` with its longest side brought down to ``size`` (never upscaled; the same image if it fits).

    Integer box reduction first (``reducing_gap=1``), then :data:`RESAMPLE` over the remaining factor
    (< 2): a quarter of the cost of LANCZOS over the whole factor.
    """
    scale = size / max(image.size)
    if scale >= 1.0:
        return image
    target = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(target, RESAMPLE, reducing_gap=1.0)


def encode_jpeg(image: Image.Image, *, icc: bytes | None = None) -> bytes:
    """A derivative as JPEG bytes (quality :data:`DERIVATIVE_QUALITY`, the colour profile kept, no EXIF).

    Encoded into an in-memory file that has a descriptor (Linux ``memfd``): Pillow then encodes in
    one call without the GIL, where into a ``BytesIO`` it holds the GIL for the whole encode (5-10 ms
    for a preview: a stall of the server's event loop).  ``optimize=False``: half the CPU, ~5 % larger.
    """
    options: dict[str, object] = {"quality": DERIVATIVE_QUALITY, "optimize": False}
    if icc:
        options["icc_profile"] = icc
    if not hasattr(os, "memfd_create"):
        out = io.BytesIO()
        image.save(out, "JPEG", **options)
        return out.getvalue()
    with os.fdopen(os.memfd_create("derivative", os.MFD_CLOEXEC), "w+b") as handle:
        image.save(handle, "JPEG", **options)
        handle.seek(0)
        return handle.read()


def map_large_buffers(threshold: int = LARGE_BUFFER_BYTES, *, keep_freed: int = KEEP_FREED_BYTES) -> bool:
    """Have glibc map allocations of ``threshold`` bytes and more fresh from the kernel (process-wide).

    Pillow allocates a decode's pixels zeroed (``calloc``) while it holds the GIL.  glibc's default
    threshold rises with the first large block freed, after which a 12 MB decode comes from the heap
    and is cleared with ``memset``: ~10 ms per 12 MP photo with the GIL held, during which the event
    loop cannot run.  Freshly mapped memory is already zero, and its pages are touched by the decoder,
    without the GIL.

    Pinning the threshold also drops glibc's trim threshold to 128 KiB: every freed 4 MiB input block
    of the decoder was handed back to the kernel (``madvise``) and the next one faulted in again, page
    by page, inside Pillow's read loop with the GIL held (3-4 ms per block on a virtual machine, where
    a page fault costs ~3.5 us).  Up to ``keep_freed`` bytes of free heap are now kept for reuse.
    Returns False where this is not glibc (nothing changed).
    """
    import ctypes
    import platform

    if platform.libc_ver()[0] != "glibc":
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
        return bool(mallopt(_M_MMAP_THRESHOLD, threshold)) and bool(mallopt(_M_TRIM_THRESHOLD, keep_freed))
    except (OSError, AttributeError):
        return False


@dataclass(frozen=True, slots=True)
class Derivatives:
    """What the pixel work of one photo yields."""

    #: Upright JPEG derivatives keyed by their longest side.
    files: dict[int, bytes]
    #: The 64-bit DCT perceptual hash (``imagehash.phash``) of the smallest one, as 16 hex digits.
    phash: str


def derive_photo(
    path: PathOrFile, *, sizes: tuple[int, ...] = DEFAULT_SIZES, max_pixels: int = DEFAULT_MAX_PIXELS
) -> Derivatives:
    """All pixel work of an upload from one reduced-scale decode: the derivatives and the perceptual hash.

    Each smaller size is made from the previous one (the thumbnail from the preview, never from the
    decode), and each is turned upright only once shrunk.  The perceptual hash is taken from the
    smallest derivative's pixels in memory (not re-decoded from its JPEG).  The derivatives carry the
    colour profile but no EXIF (no GPS): the original file stays the evidence.
    """
    if not sizes:
        raise ValueError("at least one size is needed")
    largest = max(sizes)
    decoded = decode_reduced(path, largest, max_pixels=max_pixels, shrink_to=largest)
    derivatives: dict[int, bytes] = {}
    source = decoded.image
    upright = source
    for size in sorted(set(sizes), reverse=True):
        source = shrink(source, size)
        upright = decoded.upright(source)
        derivatives[size] = encode_jpeg(upright, icc=decoded.icc)
    return Derivatives({size: derivatives[size] for size in sizes}, str(imagehash.phash(upright)))


def make_derivatives(
    path: PathOrFile, *, sizes: tuple[int, ...] = DEFAULT_SIZES, max_pixels: int = DEFAULT_MAX_PIXELS
) -> dict[int, bytes]:
    """Upright JPEG derivatives whose longest side is each size (never upscaled), keyed by size.

    One reduced-scale decode serves all sizes (see :func:`derive_photo`).
    """
    if not sizes:
        return {}
    return derive_photo(path, sizes=sizes, max_pixels=max_pixels).files


def perceptual_hash(path: PathOrFile, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> str:
    """Return the 64-bit DCT perceptual hash (imagehash.phash) of the upright photo, as 16 hex digits."""
    image = load_reduced(path, PHASH_DECODE_SIZE, max_pixels=max_pixels)
    return str(imagehash.phash(image))


def hash_distance(a: str, b: str) -> int:
    """Hamming distance between two perceptual hashes in hex (0 = identical, 64 = opposite)."""
    if len(a) != len(b):
        raise ValueError("perceptual hashes of different lengths cannot be compared")
    return int(imagehash.hex_to_hash(a) - imagehash.hex_to_hash(b))


def sha256_file(path: PathOrFile) -> str:
    """SHA-256 of a file in hex, read in 1 MiB chunks (file objects are read from the start)."""
    digest = hashlib.sha256()
    if isinstance(path, str | os.PathLike):
        with open(path, "rb") as fp:
            while chunk := fp.read(_CHUNK):
                digest.update(chunk)
    else:
        path.seek(0)
        while chunk := path.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
