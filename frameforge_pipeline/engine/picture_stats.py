"""What one extracted picture looks like, in numbers: perceptual hash, brightness, sharpness.

Computed on the image as extracted (upright, resized), from its luma, while it is encoded:
the frame index stores them per frame, and near-duplicate dropping compares the hashes.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

_HASH_SIDE = 32  # the DCT is taken of a 32x32 thumbnail ...
_HASH_LOW = 8  # ... and its 8x8 lowest frequencies make the 64 bits


@dataclass(frozen=True)
class PictureStats:
    phash: int  # 64-bit perceptual hash (DCT pHash); unsigned
    brightness: float  # mean luma, 0 (black) to 1 (white)
    sharpness: float  # variance of the Laplacian of the luma (0-255 scale); 0 for a flat picture


def perceptual_hash(gray: np.ndarray) -> int:
    """The DCT perceptual hash of a grayscale picture (as imagehash.phash computes it):
    bit i is set when the i-th of the 8x8 lowest DCT coefficients of a 32x32 thumbnail is
    above their median. Similar pictures get hashes a small Hamming distance apart."""
    # averaging by a whole factor first is OpenCV's fast path (a few pixels of edge dropped)
    factor = max(1, min(gray.shape) // (4 * _HASH_SIDE))
    height, width = (side // factor * factor for side in gray.shape)
    if factor > 1:
        gray = cv2.resize(
            gray[:height, :width], (width // factor, height // factor), interpolation=cv2.INTER_AREA
        )
    thumbnail = cv2.resize(gray, (_HASH_SIDE, _HASH_SIDE), interpolation=cv2.INTER_AREA)
    low = cv2.dct(thumbnail.astype(np.float32))[:_HASH_LOW, :_HASH_LOW]
    bits = (low > np.median(low)).flatten()
    return int.from_bytes(np.packbits(bits).tobytes(), "big")


def hamming(a: int, b: int) -> int:
    """How many of the 64 bits differ between two hashes."""
    return (a ^ b).bit_count()


def picture_stats(image: np.ndarray) -> PictureStats:
    """The stats of a BGR (or grayscale) picture."""
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    _, deviation = cv2.meanStdDev(cv2.Laplacian(gray, cv2.CV_16S))
    return PictureStats(
        phash=perceptual_hash(gray),
        brightness=round(cv2.mean(gray)[0] / 255, 6),
        sharpness=round(float(deviation[0, 0]) ** 2, 3),
    )
