"""PNG answers: a position as the model sees it, and the model's imagined next frame."""

from __future__ import annotations

import io

import numpy as np
from fastapi.responses import Response
from PIL import Image

from engine.analysis import Analysis
from render.frame import MIN_SPACING, RenderConfig, render
from server.positions import PositionError

DEFAULT_RESOLUTION = 256
MAX_RESOLUTION = 2048


def check_resolution(resolution: int, size: int) -> int:
    if resolution < MIN_SPACING * size:
        raise PositionError(f"resolution {resolution} px is too small for {size}x{size} (needs >= {MIN_SPACING * size})")
    return resolution


def upscale(frame: np.ndarray, resolution: int) -> np.ndarray:
    """(R, R, 3) -> nearest-neighbour x k, the largest whole k keeping it within ``resolution`` (>= 1):
    the model's frames are small, and whole-pixel blocks keep them exactly what the model saw."""
    k = max(1, resolution // frame.shape[0])
    return np.repeat(np.repeat(frame, k, axis=0), k, axis=1)


def png(frame: np.ndarray) -> Response:
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(frame, dtype=np.uint8), "RGB").save(buf, format="PNG")
    # The same position and model always give the same picture; but a game id's picture changes.
    return Response(buf.getvalue(), media_type="image/png", headers={"cache-control": "no-store"})


def position_png(stones: np.ndarray, resolution: int) -> Response:
    size = stones.shape[0]
    return png(render(stones, RenderConfig(resolution=check_resolution(resolution, size))))


def imagined_png(analysis: Analysis, resolution: int) -> Response:
    """The decoded imagined frame when the player is the video model; else its next board, drawn."""
    if analysis.imagined_frame is not None:
        return png(upscale(analysis.imagined_frame, resolution))
    return position_png(analysis.imagined_board, resolution)
