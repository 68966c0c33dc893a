"""Tests of the pixel limit, reduced-scale derivatives, perceptual hashes and file hashes."""

from __future__ import annotations

import hashlib
import io
import os
import time
from pathlib import Path

import imagehash
import numpy as np
import pytest
import simplejpeg
from PIL import Image, ImageFile
from PIL.JpegImagePlugin import JpegImageFile

from server.photo_evidence.exif import DEFAULT_MAX_PIXELS, PhotoRejected, read_photo_metadata
from server.photo_evidence.imaging import (
    check_pixel_limit,
    derive_photo,
    hash_distance,
    load_reduced,
    make_derivatives,
    perceptual_hash,
    pixel_limit_from_head,
    sha256_file,
    shrink_pixels,
)
from tests.photo_evidence.photos import (
    BASE,
    GPS,
    dms,
    heic_bytes,
    jpeg_bytes,
    patch_sof_dimensions,
    pattern,
    write,
)


@pytest.fixture(scope="module")
def big_jpeg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 4000 x 3000 photo-like JPEG with GPS."""
    data = jpeg_bytes(
        image=pattern((4000, 3000), seed=7),
        gps={GPS.GPSLatitudeRef: "N", GPS.GPSLatitude: dms(34, 45, 0)},
    )
    return write(tmp_path_factory.mktemp("big") / "big.jpg", data)


@pytest.fixture
def draft_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[object, tuple[int, int], object]]:
    """Record every JPEG draft request and what it returned (the reduced box)."""
    calls: list[tuple[object, tuple[int, int], object]] = []
    real = JpegImageFile.draft

    def spy(self: JpegImageFile, mode: str | None, size: tuple[int, int] | None):  # type: ignore[no-untyped-def]
        result = real(self, mode, size)
        calls.append((mode, size, result))
        return result

    monkeypatch.setattr(JpegImageFile, "draft", spy)
    return calls


@pytest.fixture
def fast_decodes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[tuple[int, int], tuple[int, ...]]]:
    """Record every libjpeg-turbo decode: the minimum box asked for and the shape of the pixels."""
    calls: list[tuple[tuple[int, int], tuple[int, ...]]] = []  # ("refused",) for a decoder error
    real = simplejpeg.decode_jpeg

    def spy(data, colorspace="rgb", *args, min_width=0, min_height=0, **kwargs):  # type: ignore[no-untyped-def]
        try:
            result = real(data, colorspace, *args, min_width=min_width, min_height=min_height, **kwargs)
        except ValueError:
            calls.append(("refused",))  # type: ignore[arg-type]
            raise
        calls.append(((min_width, min_height), result.shape))
        return result

    monkeypatch.setattr(simplejpeg, "decode_jpeg", spy)
    return calls


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    error = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255**2 / error))


def test_pillow_limit_is_set_consciously() -> None:
    assert Image.MAX_IMAGE_PIXELS == DEFAULT_MAX_PIXELS == 120_000_000


def test_check_pixel_limit_reads_header_only(big_jpeg: Path) -> None:
    assert check_pixel_limit(big_jpeg) == (4000, 3000)
    with pytest.raises(PhotoRejected) as info:
        check_pixel_limit(big_jpeg, max_pixels=10_000_000)
    assert info.value.code == "too_many_pixels"
    assert "4000×3000" in info.value.message


def test_pixel_bomb_refused_fast_without_decoding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bomb = write(tmp_path / "bomb.jpg", patch_sof_dimensions(jpeg_bytes((64, 48)), 20000, 10000))
    check_pixel_limit(io.BytesIO(jpeg_bytes((64, 48))))  # warm Pillow up: time only our check below

    def refuse(self: Image.Image) -> None:
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)
    monkeypatch.setattr(Image.Image, "load", refuse)
    timings = []
    for _ in range(5):
        start = time.perf_counter()
        with pytest.raises(PhotoRejected) as info:
            check_pixel_limit(bomb)
        timings.append(time.perf_counter() - start)
        assert info.value.code == "too_many_pixels"
        assert "20000×10000" in info.value.message
    assert min(timings) < 0.010
    for function in (make_derivatives, perceptual_hash, read_photo_metadata):
        with pytest.raises(PhotoRejected) as info:
            function(bomb)
        assert info.value.code == "too_many_pixels"


def test_load_reduced_uses_dct_scale(big_jpeg: Path, fast_decodes: list, draft_calls: list) -> None:
    small = load_reduced(big_jpeg, 320)
    assert small.size == (500, 375)  # decoded at 1/8, not 4000 x 3000
    assert fast_decodes[-1] == ((320, 240), (375, 500, 3))  # the box whose longest side is 320
    assert load_reduced(big_jpeg, 1280).size == (1500, 1125)  # 3/8; 2/8 would be below 1280
    assert draft_calls == []  # a clean JPEG never takes the Pillow path


def test_derivatives_sizes_and_single_reduced_decode(big_jpeg: Path, fast_decodes: list) -> None:
    derivatives = make_derivatives(big_jpeg)
    assert list(derivatives) == [320, 1280]
    # One decode for both sizes: a 12 MP photo at 3/8 DCT scale, the smallest that keeps 1280 px.
    assert fast_decodes == [((1280, 960), (1125, 1500, 3))]
    for size, data in derivatives.items():
        with Image.open(io.BytesIO(data)) as image:
            assert image.format == "JPEG"
            assert max(image.size) == size
            assert image.size == (size, size * 3 // 4)
            assert not image.getexif().get_ifd(0x8825)  # no GPS in derivatives


def test_derivatives_apply_orientation(tmp_path: Path) -> None:
    path = write(
        tmp_path / "rotated.jpg", jpeg_bytes(image=pattern((1600, 1200), 3), base={BASE.Orientation: 6})
    )
    derivatives = make_derivatives(path, sizes=(320,))
    with Image.open(io.BytesIO(derivatives[320])) as image:
        assert image.size == (240, 320)


def test_derive_photo_hashes_the_thumbnail_it_made(tmp_path: Path, big_jpeg: Path) -> None:
    derived = derive_photo(big_jpeg)
    with Image.open(io.BytesIO(derived.files[320])) as thumb:
        from_file = str(imagehash.phash(thumb))
    # The hash of the thumbnail's pixels before JPEG encoding: what re-decoding it would give, or nearly.
    assert len(derived.phash) == 16 and hash_distance(derived.phash, from_file) <= 2
    assert hash_distance(derived.phash, perceptual_hash(big_jpeg)) <= 6
    rotated = write(
        tmp_path / "rotated.jpg", jpeg_bytes(image=pattern((1600, 1200), 3), base={BASE.Orientation: 6})
    )
    upright = derive_photo(rotated, sizes=(320, 1280))
    with Image.open(io.BytesIO(upright.files[1280])) as preview:
        assert preview.size == (960, 1280)  # shrunk, then turned upright
    assert hash_distance(upright.phash, perceptual_hash(rotated)) <= 6


def test_small_photo_is_not_upscaled(tmp_path: Path) -> None:
    derivatives = make_derivatives(write(tmp_path / "small.jpg", jpeg_bytes((64, 48))))
    for data in derivatives.values():
        with Image.open(io.BytesIO(data)) as image:
            assert image.size == (64, 48)


def test_heic_derivatives_decode_in_full(tmp_path: Path) -> None:
    path = write(tmp_path / "photo.heic", heic_bytes((400, 300)))
    derivatives = make_derivatives(path, sizes=(320, 1280))
    with Image.open(io.BytesIO(derivatives[320])) as image:
        assert image.size == (320, 240)
    with Image.open(io.BytesIO(derivatives[1280])) as image:
        assert image.size == (400, 300)
    assert len(perceptual_hash(path)) == 16


def test_truncated_scan_data_is_reported(tmp_path: Path) -> None:
    data = jpeg_bytes(image=pattern((640, 480), 4), gps={GPS.GPSLatitude: dms(34, 45, 0)})
    path = write(tmp_path / "cut.jpg", data[: len(data) // 2])
    assert read_photo_metadata(path).width == 640  # the header is intact
    with pytest.raises(PhotoRejected) as info:
        make_derivatives(path)
    assert info.value.code == "truncated"


@pytest.mark.parametrize("keep", [24, 100, "half"])
def test_truncated_heic(tmp_path: Path, keep: int | str) -> None:
    data = heic_bytes((400, 300))
    path = write(tmp_path / "cut.heic", data[: len(data) // 2] if keep == "half" else data[:keep])
    if keep == "half":
        assert read_photo_metadata(path).format == "heic"  # the header (meta box) is intact
    with pytest.raises(PhotoRejected) as info:
        make_derivatives(path)
    assert info.value.code == "truncated"


def test_phash_near_duplicate_and_different(tmp_path: Path, big_jpeg: Path) -> None:
    with Image.open(big_jpeg) as original:
        copy = original.resize((1000, 750), Image.Resampling.BILINEAR)
    resized = write(tmp_path / "copy.jpg", jpeg_bytes(image=copy, quality=60))
    other = write(tmp_path / "other.jpg", jpeg_bytes(image=pattern((4000, 3000), seed=99)))
    h_original, h_copy, h_other = (perceptual_hash(p) for p in (big_jpeg, resized, other))
    assert len(h_original) == 16
    assert hash_distance(h_original, h_original) == 0
    assert hash_distance(h_original, h_copy) <= 6
    assert hash_distance(h_original, h_other) >= 20
    with pytest.raises(ValueError):
        hash_distance(h_original, h_original[:8])


def test_sha256_streams_large_files(tmp_path: Path) -> None:
    data = os.urandom(2 * 1024 * 1024 + 123)
    path = write(tmp_path / "blob.bin", data)
    expected = hashlib.sha256(data).hexdigest()
    assert sha256_file(path) == expected
    assert sha256_file(io.BytesIO(data)) == expected


def test_pixel_limit_from_the_first_bytes(big_jpeg: Path) -> None:
    data = big_jpeg.read_bytes()
    assert pixel_limit_from_head(data[:64]) is None  # the frame header has not arrived yet
    assert pixel_limit_from_head(data[:65536]) == (4000, 3000)
    assert pixel_limit_from_head(b"\x89PNG\r\n\x1a\n" + data[8:65536]) is None  # not a JPEG: checked later
    bomb = patch_sof_dimensions(jpeg_bytes((64, 48)), 16000, 12500)
    with pytest.raises(PhotoRejected) as info:
        pixel_limit_from_head(bomb[:4096])
    assert info.value.code == "too_many_pixels"
    assert pixel_limit_from_head(bomb[:4096], max_pixels=300_000_000) == (16000, 12500)


def test_thumbnail_is_made_from_the_preview(big_jpeg: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from server.photo_evidence import imaging

    sources: list[tuple[tuple[int, int], int]] = []
    real = imaging.shrink

    def spy(image: Image.Image, size: int) -> Image.Image:
        sources.append((image.size, size))
        return real(image, size)

    real_pixels = imaging.shrink_pixels

    def spy_pixels(pixels: np.ndarray, size: int) -> np.ndarray:
        sources.append(((pixels.shape[1], pixels.shape[0]), size))
        return real_pixels(pixels, size)

    monkeypatch.setattr(imaging, "shrink", spy)
    monkeypatch.setattr(imaging, "shrink_pixels", spy_pixels)
    derivatives = make_derivatives(big_jpeg, sizes=(320, 1280))
    resampled = [(source, size) for source, size in sources if max(source) > size]  # no-op calls aside
    assert resampled == [((1500, 1125), 1280), ((1280, 960), 320)]
    with Image.open(io.BytesIO(derivatives[320])) as image:
        assert image.size == (320, 240)


def test_preview_is_faithful_to_a_full_resolution_resize(big_jpeg: Path) -> None:
    """The fast path (3/8 decode + one bilinear pass) against a full decode resized with LANCZOS."""
    with Image.open(big_jpeg) as image:
        reference = np.asarray(image.convert("RGB").resize((1280, 960), Image.Resampling.LANCZOS))
    with Image.open(io.BytesIO(make_derivatives(big_jpeg, sizes=(1280,))[1280])) as preview:
        assert preview.size == (1280, 960)
        assert _psnr(np.asarray(preview), reference) > 40


def test_colours_survive_the_fast_path(tmp_path: Path, fast_decodes: list) -> None:
    """Channel order and greyscale: a red photo stays red, a grey one grey."""
    red = write(tmp_path / "red.jpg", jpeg_bytes(image=Image.new("RGB", (800, 600), (200, 30, 40))))
    grey = write(tmp_path / "grey.jpg", jpeg_bytes(image=Image.new("L", (800, 600), 90)))
    for path, expected in ((red, (200, 30, 40)), (grey, (90, 90, 90))):
        with Image.open(io.BytesIO(make_derivatives(path, sizes=(320,))[320])) as thumb:
            assert thumb.mode == "RGB"
            assert np.abs(np.asarray(thumb).mean(axis=(0, 1)) - expected).max() < 4
    assert len(fast_decodes) == 2


def test_jpeg_with_a_recoverable_warning_takes_the_pillow_path(
    tmp_path: Path, fast_decodes: list, draft_calls: list
) -> None:
    """Damaged scan data: libjpeg-turbo warns and the strict decode refuses; Pillow decodes it anyway."""
    data = bytearray(jpeg_bytes(image=pattern((800, 600), 5)))
    middle = len(data) // 2
    data[middle : middle + 2000] = bytes(2000)
    path = write(tmp_path / "damaged.jpg", bytes(data))
    with pytest.raises(ValueError, match="Corrupt JPEG data"):
        simplejpeg.decode_jpeg(bytes(data), "RGB", strict=True)
    fast_decodes.clear()
    derivatives = make_derivatives(path, sizes=(320,))
    assert fast_decodes == [("refused",)] and len(draft_calls) == 1  # strict decoder, then Pillow
    with Image.open(io.BytesIO(derivatives[320])) as thumb:
        assert thumb.size == (320, 240)


def test_cmyk_jpeg_takes_the_pillow_path(tmp_path: Path, fast_decodes: list, draft_calls: list) -> None:
    path = write(tmp_path / "cmyk.jpg", jpeg_bytes(image=pattern((800, 600), 6).convert("CMYK")))
    derivatives = make_derivatives(path, sizes=(320,))
    assert fast_decodes == [] and len(draft_calls) == 1
    with Image.open(io.BytesIO(derivatives[320])) as thumb:
        assert thumb.mode == "RGB" and thumb.size == (320, 240)


def test_large_remaining_factor_averages_instead_of_skipping_pixels() -> None:
    """Beyond 1.5x, bilinear interpolation would alias a fine pattern; the area average does not."""
    stripes = np.zeros((600, 1700, 3), dtype=np.uint8)
    stripes[:, ::2] = 255  # one-pixel stripes: mean 127.5
    averaged = shrink_pixels(stripes, 1000)  # factor 1.7
    assert averaged.shape == (353, 1000, 3)
    assert averaged.std() < 30 and abs(float(averaged.mean()) - 127.5) < 3
    kept = shrink_pixels(stripes, 1400)  # factor 1.21: bilinear, still close to the mean overall
    assert kept.shape == (494, 1400, 3) and abs(float(kept.mean()) - 127.5) < 8
    assert shrink_pixels(stripes, 2000) is stripes  # never upscaled


def test_progressive_jpeg_gets_a_quarter_of_the_pixel_limit(tmp_path: Path) -> None:
    """Progressive JPEGs buffer every DCT coefficient whatever the scale: 48 MP would be ~150 MB."""
    progressive = io.BytesIO()
    pattern((800, 600), 8).save(progressive, "JPEG", progressive=True, quality=85)
    data = progressive.getvalue()
    assert b"\xff\xc2" in data and b"\xff\xc0" not in data
    # A real progressive photo within its limit decodes as any other.
    derivatives = make_derivatives(write(tmp_path / "progressive.jpg", data), sizes=(320,))
    with Image.open(io.BytesIO(derivatives[320])) as thumb:
        assert thumb.size == (320, 240)
    big = patch_sof_dimensions(data, 8000, 6000, marker=b"\xff\xc2")  # 48 MP, claimed
    with pytest.raises(PhotoRejected) as info:
        pixel_limit_from_head(big[:4096])  # refused from the first bytes of the upload
    assert info.value.code == "too_many_pixels" and "渐进式" in info.value.message
    with pytest.raises(PhotoRejected) as info:
        check_pixel_limit(write(tmp_path / "big-progressive.jpg", big))
    assert info.value.code == "too_many_pixels"
    assert pixel_limit_from_head(big[:4096], max_pixels=200_000_000) == (8000, 6000)  # 48 <= 200/4
    # The same size as a baseline JPEG is within the (whole) limit.
    baseline = patch_sof_dimensions(jpeg_bytes((800, 600)), 8000, 6000)
    assert pixel_limit_from_head(baseline[:4096]) == (8000, 6000)
