"""HDR (PQ, HLG) to SDR BT.709: so HDR video does not come out washed out and flat.

A plain conversion shows PQ or HLG code values as if they were BT.709 gamma: grey, low
contrast, pale colours. Here, per pixel, on the picture already scaled to its output size:

1. Y'CbCr (BT.2020 non-constant luminance matrix) to R'G'B', 16 bits a channel. swscale
   only scales the picture and upsamples chroma (to 16-bit 4:4:4, the code values shifted
   left, exact); its own RGB conversion of 10-bit video is 0.4 % short of white.
2. Per channel, a 65,536-entry table from code value to SDR-relative linear light:
   - PQ (SMPTE ST 2084): the code value is display light up to 10,000 nits;
   - HLG (ARIB STD-B67): the inverse OETF gives scene light, and the BT.2100 OOTF for a
     1,000-nit display (gamma 1.2) display light; the OOTF is applied per channel
     (E**1.2), not on luminance, so that it fits the table;
   - then the BT.2390 EETF, in the PQ domain, rolls the highlights off from a source peak
     of 1,000 nits (HDR10's usual mastering peak) to 100 nits, SDR white; below the knee
     (about 30 nits) light is left as it is. Linear light / 100 nits is the SDR signal.
3. BT.2020 to BT.709 primaries (ITU-R BT.2087's matrix, in linear light), clipped to 0-1.
4. The inverse of the BT.1886 EOTF (power 1/2.4): BT.709 SDR as displays show it.
"""

from __future__ import annotations

from typing import Any, Literal, cast

import cv2
import numpy as np

Transfer = Literal["pq", "hlg"]

# FFmpeg's names of the transfer characteristics (AVColorTransferCharacteristic) that are HDR
HDR_TRANSFERS: dict[str, Transfer] = {"smpte2084": "pq", "arib-std-b67": "hlg"}


def transfer_to_map(color_trc: str | None, option: str) -> Transfer | None:
    """The HDR transfer to tone-map from, given the stream's transfer characteristic and
    the ``tonemap`` option; None when the picture is converted as it is."""
    return None if option == "none" else HDR_TRANSFERS.get(color_trc or "")


OPERATOR = "BT.2390 EETF"
SOURCE_PEAK_NITS = 1000.0
SDR_WHITE_NITS = 100.0
HLG_DISPLAY_GAMMA = 1.2  # BT.2100's OOTF gamma for a 1,000-nit display
SDR_GAMMA = 2.4  # BT.1886
_FLOOR = 1e-9  # the least linear light before the gamma (255 * 1e-9 ** (1 / 2.4) = 0.05)

# ST 2084 constants
_M1, _M2 = 2610 / 16384, 2523 / 4096 * 128
_C1, _C2, _C3 = 3424 / 4096, 2413 / 4096 * 32, 2392 / 4096 * 32
# BT.2100 HLG constants
_A = 0.17883277
_B = 1 - 4 * _A
_C = 0.5 - _A * np.log(4 * _A)

# Linear BT.2020 RGB to linear BT.709 RGB (ITU-R BT.2087)
BT2020_TO_BT709 = np.array(
    [
        [1.6605, -0.5876, -0.0728],
        [-0.1246, 1.1329, -0.0083],
        [-0.0182, -0.1006, 1.1187],
    ]
)


def pq_eotf(code: np.ndarray) -> np.ndarray:
    """PQ code value (0-1) to display light in nits."""
    power = np.power(np.clip(code, 0, 1), 1 / _M2)
    return np.asarray(10000 * np.power(np.maximum(power - _C1, 0) / (_C2 - _C3 * power), 1 / _M1))


def pq_inverse_eotf(nits: np.ndarray) -> np.ndarray:
    """Display light in nits to PQ code value (0-1)."""
    y = np.power(np.clip(nits / 10000, 0, 1), _M1)
    return np.asarray(np.power((_C1 + _C2 * y) / (1 + _C3 * y), _M2))


def hlg_inverse_oetf(code: np.ndarray) -> np.ndarray:
    """HLG code value (0-1) to scene light (0-1)."""
    code = np.clip(code, 0, 1)
    low = code * code / 3
    high = (np.exp((code - _C) / _A) + _B) / 12
    return np.asarray(np.where(code <= 0.5, low, high))


def bt2390_eetf(code: np.ndarray, source_peak: float, target_peak: float) -> np.ndarray:
    """ITU-R BT.2390's EETF on PQ code values: source black 0 and ``source_peak`` nits onto
    0 and ``target_peak`` nits, with a Hermite spline above the knee."""
    source_max = float(pq_inverse_eotf(np.asarray(source_peak)))
    e1 = np.clip(code / source_max, 0, 1)
    max_lum = float(pq_inverse_eotf(np.asarray(target_peak))) / source_max
    knee = 1.5 * max_lum - 0.5
    t = (e1 - knee) / (1 - knee)
    spline = (
        (2 * t**3 - 3 * t**2 + 1) * knee
        + (t**3 - 2 * t**2 + t) * (1 - knee)
        + (-2 * t**3 + 3 * t**2) * max_lum
    )
    return np.asarray(np.where(e1 < knee, e1, spline) * source_max)


def linear_sdr(code: np.ndarray, transfer: Transfer) -> np.ndarray:
    """HDR code values (0-1) to tone-mapped linear light, 1 being SDR white (steps 2)."""
    if transfer == "pq":
        pq = code
    else:
        display = SOURCE_PEAK_NITS * np.power(hlg_inverse_oetf(code), HLG_DISPLAY_GAMMA)
        pq = pq_inverse_eotf(display)
    mapped = bt2390_eetf(pq, SOURCE_PEAK_NITS, SDR_WHITE_NITS)
    return np.asarray(pq_eotf(mapped) / SDR_WHITE_NITS)


def ycbcr_to_rgb_matrix() -> np.ndarray:
    """The 3x4 affine map from 16-bit limited-range Y'CbCr (any source depth, shifted to 16
    bits; HDR10 and HLG are limited range) to 16-bit R'G'B' with BT.2020's coefficients
    (ITU-R BT.2020, non-constant luminance)."""
    kr, kb = 0.2627, 0.0593
    kg = 1 - kr - kb
    to_rgb = np.array(
        [
            [1, 0, 2 * (1 - kr)],
            [1, -2 * (1 - kb) * kb / kg, -2 * (1 - kr) * kr / kg],
            [1, 2 * (1 - kb), 0],
        ]
    )
    # code values to Y' in 0-1 and Cb, Cr in -0.5-0.5
    scale = np.diag([1 / 56064, 1 / 57344, 1 / 57344])  # 876 and 896 steps of 10 bits
    offset = -scale @ np.array([4096, 32768, 32768])
    return np.asarray(65535 * np.hstack([to_rgb @ scale, (to_rgb @ offset)[:, None]]))


class ToneMapper:
    """Tone maps 16-bit Y'CbCr 4:4:4 pictures of one transfer characteristic to 8-bit
    BT.709 BGR. Built once per video (the table takes a few milliseconds)."""

    def __init__(self, transfer: Transfer):
        self.transfer: Transfer = transfer
        codes = np.arange(65536, dtype=np.float64) / 65535
        self._table = linear_sdr(codes, transfer).astype(np.float32)
        self._to_rgb = ycbcr_to_rgb_matrix().astype(np.float32)
        # rows in B, G, R order: the matrix writes BGR, OpenCV's order, from RGB
        self._gamut = BT2020_TO_BT709[::-1].astype(np.float32)

    def to_bgr(self, ycbcr: np.ndarray) -> np.ndarray:
        """An (h, w, 3) uint16 Y'CbCr picture as uint8 BT.709 BGR."""
        # uint16 like its input: rounded and clipped to 0-65535
        rgb = cast("np.ndarray[Any, np.dtype[np.uint16]]", cv2.transform(ycbcr, self._to_rgb))
        linear = np.take(self._table, rgb, mode="clip")
        bt709 = cv2.transform(linear, self._gamut)
        # not 0: a power of 0 takes libm's slow path, 30 times slower (1e-9 still gives 0)
        np.clip(bt709, _FLOOR, 1, out=bt709)
        np.power(bt709, 1 / SDR_GAMMA, out=bt709)
        out: np.ndarray = cv2.convertScaleAbs(bt709, alpha=255)
        return out
