"""Turn a decoded frame into an upright, resized, encoded image."""

from __future__ import annotations

from dataclasses import dataclass, field

import av
import cv2
import numpy as np

from frameforge_pipeline.engine.errors import PictureTooLargeError
from frameforge_pipeline.engine.options import ExtractOptions
from frameforge_pipeline.engine.picture_stats import PictureStats, picture_stats
from frameforge_pipeline.engine.probe import VideoFacts
from frameforge_pipeline.engine.tonemap import ToneMapper, transfer_to_map

_ROTATE = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}
_EXTENSIONS = {"jpg": ".jpg", "png": ".png", "webp": ".webp"}
_PNG_COMPRESSION = 3  # zlib level: PNG is lossless, a low level keeps encoding fast
# The largest side each encoder writes (libjpeg, libwebp); beyond the picture limits'
# defaults, so only an operator who raised them meets these.
_MAX_SIDE = {"jpg": 65_500, "webp": 16_383, "png": 2**31 - 1}


@dataclass(frozen=True)
class RenderPlan:
    """Output size (upright), the size to scale the coded picture to, and how to encode."""

    width: int
    height: int
    scaled_width: int  # before rotation
    scaled_height: int
    rotation: int
    extension: str
    params: tuple[int, ...]
    # HDR video tone-mapped to SDR (options.tonemap "auto" and a PQ or HLG transfer)
    tone_map: ToneMapper | None = field(default=None, compare=False)

    @classmethod
    def for_video(cls, facts: VideoFacts, options: ExtractOptions) -> RenderPlan:
        """Fit the upright display size into max_width x max_height, never enlarging.

        Raises PictureTooLargeError when the result is larger than the format can hold.
        """
        scale = min(
            1.0,
            (options.max_width or facts.width) / facts.width,
            (options.max_height or facts.height) / facts.height,
        )
        width = max(1, round(facts.width * scale))
        height = max(1, round(facts.height * scale))
        if max(width, height) > _MAX_SIDE[options.format]:
            raise PictureTooLargeError(
                f"the picture is {width}x{height} pixels, larger than {options.format} allows "
                f"({_MAX_SIDE[options.format]} pixels a side): set a max width and height"
            )
        scaled_w, scaled_h = (height, width) if facts.rotation in (90, 270) else (width, height)
        if options.format == "jpg":
            params: tuple[int, ...] = (cv2.IMWRITE_JPEG_QUALITY, options.quality)
        elif options.format == "webp":
            params = (cv2.IMWRITE_WEBP_QUALITY, options.quality)
        else:
            params = (cv2.IMWRITE_PNG_COMPRESSION, _PNG_COMPRESSION)
        return cls(
            width=width,
            height=height,
            scaled_width=scaled_w,
            scaled_height=scaled_h,
            rotation=facts.rotation,
            extension=_EXTENSIONS[options.format],
            params=params,
            tone_map=_tone_mapper(facts, options),
        )

    def pixels(self, frame: av.VideoFrame) -> np.ndarray:
        """The frame as an upright BGR array of the output size."""
        shrinking = (self.scaled_width, self.scaled_height) != (frame.width, frame.height)
        interpolation = "AREA" if shrinking else None
        if self.tone_map is None:
            image: np.ndarray = frame.reformat(
                width=self.scaled_width,
                height=self.scaled_height,
                format="bgr24",
                interpolation=interpolation,
            ).to_ndarray()
        else:  # scaled as 16-bit Y'CbCr; the tone mapper converts to RGB itself
            image = self.tone_map.to_bgr(
                frame.reformat(
                    width=self.scaled_width,
                    height=self.scaled_height,
                    format="yuv444p16le",
                    interpolation=interpolation,
                ).to_ndarray()
            )
        if self.rotation:
            image = cv2.rotate(image, _ROTATE[self.rotation])
        return image

    def encode(self, frame: av.VideoFrame) -> tuple[bytes, PictureStats]:
        """The frame encoded as an image file, and its stats. Raises RuntimeError if the
        encoder fails."""
        image = self.pixels(frame)
        ok, buffer = cv2.imencode(self.extension, image, list(self.params))
        if not ok:
            raise RuntimeError(f"image encoding to {self.extension} failed")
        return buffer.tobytes(), picture_stats(image)


def _tone_mapper(facts: VideoFacts, options: ExtractOptions) -> ToneMapper | None:
    transfer = transfer_to_map(facts.color_trc, options.tonemap)
    return None if transfer is None else ToneMapper(transfer)
