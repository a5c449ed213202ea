"""HDR to SDR: an HDR10 (PQ) and an HLG clip against a reference tone mapping.

The reference is written again from the formulas (SMPTE ST 2084, ITU-R BT.2100, BT.2390,
BT.2087, BT.1886), one pixel at a time in float64 with ``math``: no table, no OpenCV, none
of the engine's code. Tolerance: 2 code values of 8 bits on lossless 10-bit clips (the
engine's table has 65,536 steps and its output is rounded once).
"""

import functools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from frameforge_pipeline.engine.extractor import extract
from frameforge_pipeline.engine.manifest import build_manifest
from frameforge_pipeline.engine.options import ExtractOptions
from frameforge_pipeline.engine.probe import probe
from frameforge_pipeline.engine.tonemap import ToneMapper
from tests.engine.clips import write_hdr_patches

TOLERANCE = 2  # 8-bit code values

M1, M2 = 0.1593017578125, 78.84375
C1, C2, C3 = 0.8359375, 18.8515625, 18.6875
HLG_A, HLG_B, HLG_C = 0.17883277, 0.28466892, 0.55991073
TO_709 = [[1.6605, -0.5876, -0.0728], [-0.1246, 1.1329, -0.0083], [-0.0182, -0.1006, 1.1187]]


def pq_to_nits(e: float) -> float:
    p = max(e, 0.0) ** (1 / M2)
    return 10000 * (max(p - C1, 0.0) / (C2 - C3 * p)) ** (1 / M1)


def nits_to_pq(nits: float) -> float:
    y = (min(max(nits, 0.0), 10000.0) / 10000) ** M1
    return ((C1 + C2 * y) / (1 + C3 * y)) ** M2


def hlg_to_display_nits(e: float) -> float:
    e = min(max(e, 0.0), 1.0)
    scene = e * e / 3 if e <= 0.5 else (math.exp((e - HLG_C) / HLG_A) + HLG_B) / 12
    return 1000 * scene**1.2  # the OOTF for 1,000 nits, per channel as the engine documents


def eetf(e: float) -> float:
    """BT.2390 EETF, 1,000 nits onto 100, on a PQ value (no black level lift: both 0)."""
    top = nits_to_pq(1000)
    e1 = min(max(e / top, 0.0), 1.0)
    max_lum = nits_to_pq(100) / top
    ks = 1.5 * max_lum - 0.5
    if e1 < ks:
        return e1 * top
    t = (e1 - ks) / (1 - ks)
    p = (2 * t**3 - 3 * t**2 + 1) * ks + (t**3 - 2 * t**2 + t) * (1 - ks)
    return (p + (-2 * t**3 + 3 * t**2) * max_lum) * top


def reference_bgr(y: float, cb: float, cr: float, transfer: str) -> tuple[int, int, int]:
    """10-bit limited-range Y'CbCr codes to 8-bit BT.709 BGR."""
    luma, blue, red = (y - 64) / 876, (cb - 512) / 896, (cr - 512) / 896
    r = luma + 2 * (1 - 0.2627) * red
    b = luma + 2 * (1 - 0.0593) * blue
    g = (luma - 0.2627 * r - 0.0593 * b) / (1 - 0.2627 - 0.0593)
    linear = []
    for code in (r, g, b):
        code = min(max(code, 0.0), 1.0)
        pq = code if transfer == "pq" else nits_to_pq(hlg_to_display_nits(code))
        linear.append(pq_to_nits(eetf(pq)) / 100)
    out = []
    for row in TO_709:
        value = min(max(sum(k * c for k, c in zip(row, linear, strict=True)), 0.0), 1.0)
        out.append(round(255 * value ** (1 / 2.4)))
    return out[2], out[1], out[0]


PATCHES = np.array(
    [
        [64, 512, 512],  # black
        [200, 512, 512],
        [350, 512, 512],
        [500, 512, 512],  # about 100 nits in PQ
        [650, 512, 512],
        [800, 512, 512],
        [940, 512, 512],  # the top: 10,000 nits in PQ
        [400, 400, 650],  # reddish
        [450, 650, 420],  # bluish
        [500, 420, 430],  # greenish
    ]
)


@pytest.fixture(scope="module", params=["pq", "hlg"])
def hdr_clip(request, tmp_path_factory):
    path = tmp_path_factory.mktemp("hdr") / f"{request.param}.mkv"
    write_hdr_patches(path, request.param, PATCHES)
    return request.param, path


def patch_centres(image: np.ndarray) -> list[tuple[int, int, int]]:
    return [tuple(int(v) for v in image[8, 16 * i + 8]) for i in range(len(PATCHES))]


def test_probe_reads_the_transfer_characteristic(hdr_clip, make_clip):
    transfer, path = hdr_clip
    assert probe(path).color_trc == {"pq": "smpte2084", "hlg": "arib-std-b67"}[transfer]
    assert probe(make_clip("cfr.mp4", seconds=5).path).color_trc is None  # x264 says nothing


def test_hdr_is_tone_mapped_like_the_reference(hdr_clip, collector):
    transfer, path = hdr_clip
    result = extract(path, ExtractOptions(format="png"), collector)
    expected = [reference_bgr(*patch, transfer) for patch in PATCHES]
    for got, want in zip(patch_centres(collector.images[0]), expected, strict=True):
        assert max(abs(a - b) for a, b in zip(got, want, strict=True)) <= TOLERANCE, (got, want)
    mapping = build_manifest(result)["settings"]["tone_mapping"]
    assert mapping["from"] == transfer
    assert mapping["operator"] == "BT.2390 EETF"


def test_tonemap_none_keeps_the_plain_conversion(hdr_clip, collector):
    """Without tone mapping the picture is washed out: PQ's 100 nits comes out mid-grey,
    and the contrast between the grey patches is lower."""
    transfer, path = hdr_clip
    result = extract(path, ExtractOptions(format="png", tonemap="none"), collector)
    plain = patch_centres(collector.images[0])
    mapped = [reference_bgr(*patch, transfer) for patch in PATCHES]
    assert build_manifest(result)["settings"]["tone_mapping"] is None
    assert max(abs(a[0] - b[0]) for a, b in zip(plain, mapped, strict=True)) > 20


def test_sdr_video_is_the_same_whatever_the_option(make_clip):
    clip = make_clip("cfr.mp4", seconds=5)
    auto, none = _Bytes(), _Bytes()
    extract(clip.path, ExtractOptions(), auto)
    extract(clip.path, ExtractOptions(tonemap="none"), none)
    assert auto.data == none.data


class _Bytes:
    def __init__(self):
        self.data = []

    def write(self, record, data):
        self.data.append(data)


_mapper = functools.cache(ToneMapper)


@pytest.mark.parametrize("transfer", ["pq", "hlg"])
@given(seed=st.integers(0, 2**32 - 1))
def test_the_fast_path_matches_the_reference_on_any_pixel(transfer, seed):
    """Random legal codes (10-bit, as 16-bit values shifted), table and OpenCV against math."""
    rng = np.random.default_rng(seed)
    codes = np.stack(
        [rng.integers(64, 941, 64), rng.integers(64, 961, 64), rng.integers(64, 961, 64)], axis=1
    )
    picture = (codes.astype(np.uint16) << 6).reshape(8, 8, 3)
    got = _mapper(transfer).to_bgr(picture).reshape(-1, 3)
    for pixel, code in zip(got, codes, strict=True):
        want = reference_bgr(*code, transfer)
        assert max(abs(int(a) - b) for a, b in zip(pixel, want, strict=True)) <= 1, (code, pixel)


def test_the_tone_curve_rises_and_keeps_dark_light_as_it_is():
    from frameforge_pipeline.engine.tonemap import linear_sdr

    codes = np.linspace(0, 1, 4097)
    for transfer in ("pq", "hlg"):
        curve = linear_sdr(codes, transfer)
        assert np.all(np.diff(curve) >= 0)
        assert curve[-1] == pytest.approx(1.0, abs=1e-6)  # the source peak becomes SDR white
    dark = nits_to_pq(10)  # 10 nits: below the knee, untouched
    assert float(linear_sdr(np.array([dark]), "pq")[0]) == pytest.approx(0.1, rel=1e-6)
