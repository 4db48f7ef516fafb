"""Your own videos as folders of frames: ROOT/<class>/<clip>/<frame images>, or ROOT/<clip>/.

Frames are read in file-name order; each clip gives its first ``frames`` frames (shorter
clips are an error naming them). Labels are the class subfolders, or 0 for a flat root.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from sagan.data.pil_modes import to_rgb8
from sagan.data.registry import DATASETS, RawVideos
from sagan.errors import DataError

FRAME_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp"}


def _frame_files(clip: Path) -> list[Path]:
    return sorted(p for p in clip.iterdir() if p.suffix.lower() in FRAME_SUFFIXES)


def _clips(root: Path) -> list[tuple[Path, str]]:
    """(clip folder, class name) for both layouts: a folder is a clip if it holds frames."""
    found = []
    for child in sorted(p for p in root.iterdir() if p.is_dir()):
        if _frame_files(child):
            found.append((child, ""))
        else:
            found += [(c, child.name) for c in sorted(child.iterdir()) if c.is_dir()]
    return found


class LazyClips(Sequence[np.ndarray]):
    """Clip index -> (T, H, W, C) uint8 frames, decoded on indexing."""

    def __init__(self, clips: list[Path], frames: int, size: tuple[int, int], mode: str) -> None:
        self.clips, self.frames, self.size, self.mode = clips, frames, size, mode

    def __len__(self) -> int:
        return len(self.clips)

    def _eight_bit(self, frame: Image.Image) -> Image.Image:
        """A frame in the clips' mode: an 8-bit grey as it is, anything else as 8-bit RGB
        with a 16-bit grey's tones scaled (PIL's convert would clip them to black and white),
        as image datasets are read (``sagan.data.pil_modes``)."""
        if frame.mode == self.mode:
            return frame
        return to_rgb8(frame) if self.mode == "RGB" else frame.convert(self.mode)

    def __getitem__(self, index: int) -> np.ndarray:
        files = _frame_files(self.clips[index])[: self.frames]
        frames = [np.asarray(self._eight_bit(Image.open(f)).resize(self.size)) for f in files]
        return np.stack(frames).reshape(self.frames, self.size[1], self.size[0], -1)


@DATASETS.register("videofolder", tags=("video",))
def videofolder(root: str, frames: int = 16) -> RawVideos:
    """Clips as folders of frames (ROOT/<class>/<clip>/*.png or ROOT/<clip>/*.png)."""
    folder = Path(root).expanduser()
    if not folder.is_dir():
        raise DataError(f"videofolder root {folder} does not exist; point 'root' at your clips")
    clips = _clips(folder)
    if not clips:
        raise DataError(
            f"no clips under {folder}: put each clip's frames in its own folder "
            "(ROOT/<clip>/0001.png, ...), optionally grouped by class (ROOT/<class>/<clip>/)"
        )
    short = [str(c) for c, _ in clips if len(_frame_files(c)) < frames]
    if short:
        raise DataError(
            f"{len(short)} clip(s) have fewer than {frames} frames (e.g. {short[0]}); "
            "set a smaller 'frames' or remove them"
        )
    first = Image.open(_frame_files(clips[0][0])[0])
    mode = "L" if first.mode == "L" else "RGB"
    classes = sorted({name for _, name in clips})
    labels = np.array([classes.index(name) for _, name in clips], dtype=np.int64)
    return RawVideos(LazyClips([c for c, _ in clips], frames, first.size, mode), labels)
