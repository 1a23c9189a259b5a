"""Embedded synthetic video datasets: generated lazily per index, no files, deterministic.

Video ``i`` of a set built with ``seed`` is a pure function of ``(name, options, seed, i)``; only the
requested frames are rendered (motion is analytic), so a 3-frame ``random_t`` example stays cheap.
All videos are uint8 ``(T, H, W, 3)`` RGB with ``H = W = size``.

* ``moving-digits``: 1-2 white digits 0-9 (PIL's built-in font, glyph ~size/2.5 tall) on black,
  bouncing off the walls at constant velocity (Moving-MNIST-like, no MNIST download).
* ``bouncing-shapes``: 1-3 coloured circles/squares bouncing on a dark background.
* ``photo-pans``: smooth pans + zooms over scikit-image's bundled photos (for super-resolution).
* ``detail-pans``: slow sub-pixel pans over the bundled photos, text pages and textures at about their native
  resolution, each frame rendered at 4x and Gaussian-blurred (sigma 1.5) + subsampled like Vid4's published
  frames: camera-like fine detail for training VSR on a CPU. ``detail-pans:pages=P`` pans over a generated
  page instead in P % of the videos (ruled tables of numbers, lines of text from 7 px to a quarter of the
  page, filled panels, light or dark ground; different in every video).
* ``sharp-pans``: straight sub-pixel pans (up to 2.5 px per frame on each axis, reflected at the edges) over the
  same images shrunk by a random factor of 0.35-1 (Lanczos), with no camera blur: dense, sharp detail. For VSR
  it generalises to real video better than ``detail-pans`` (docs/families/tecogan.md, "CPU recipe").

A source string may carry options: ``"moving-digits:num_videos=64,video_frames=24"``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from vidgan.data.paired_synthetic import DERIVED  # derived name -> (base set, frame mapping)

__all__ = ["SYNTHETIC_NAMES", "SyntheticVideos", "is_synthetic", "parse_synthetic_source"]

SYNTHETIC_NAMES = ("moving-digits", "bouncing-shapes", "photo-pans", "detail-pans", "sharp-pans", *DERIVED)
_OPTIONS = {"num_videos": int, "video_frames": int, "size": int, "pages": int}
_OPTION_MIN = {"pages": 0}  # other options must be >= 1
_PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "camera", "immunohistochemistry", "hubble_deep_field")
# detail-pans: photos plus text pages and textures (edges and strokes at every scale), used at native size
_DETAIL = (*_PHOTOS, "page", "text", "brick", "grass", "gravel", "coins", "clock", "moon", "horse", "retina", "cat")


def is_synthetic(source: str) -> bool:
    """Whether ``source`` names an embedded dataset (with or without ``:options``)."""
    return source.split(":", 1)[0] in SYNTHETIC_NAMES


def parse_synthetic_source(source: str) -> tuple[str, dict[str, int]]:
    """``"moving-digits:num_videos=64,video_frames=24"`` -> ``("moving-digits", {...})``; validated."""
    name, _, rest = source.partition(":")
    if name not in SYNTHETIC_NAMES:
        raise ValueError(f"unknown embedded dataset {name!r}; choose one of {', '.join(SYNTHETIC_NAMES)}")
    opts: dict[str, int] = {}
    for item in filter(None, (s.strip() for s in rest.split(","))):
        key, eq, value = item.partition("=")
        if key not in _OPTIONS or not eq:
            raise ValueError(
                f"bad option {item!r} in source {source!r}; valid options: "
                + ", ".join(f"{k}=<{t.__name__}>" for k, t in _OPTIONS.items())
            )
        try:
            opts[key] = _OPTIONS[key](value)
        except ValueError as e:
            raise ValueError(f"option {key} in source {source!r} must be an {_OPTIONS[key].__name__}") from e
        if opts[key] < _OPTION_MIN.get(key, 1):
            raise ValueError(f"option {key} in source {source!r} must be >= {_OPTION_MIN.get(key, 1)}")
        if key == "pages" and opts[key] > 100:
            raise ValueError(f"option pages in source {source!r} is a percentage: 0 to 100")
        if key == "pages" and name != "detail-pans":
            raise ValueError(f"option pages in source {source!r} applies to detail-pans only; drop it")
    return name, opts


def _bounce(p0: np.ndarray, v: np.ndarray, t: np.ndarray, span: np.ndarray) -> np.ndarray:
    """Positions in ``[0, span]`` of points moving at constant velocity and reflecting off the walls.

    p0, v, span: ``(..., D)``; t: ``(T,)``; returns ``(T, ..., D)`` (a triangle wave of period 2*span).
    """
    span = np.maximum(span, 1e-6)
    q = np.mod(p0[None] + v[None] * t.reshape(-1, *([1] * p0.ndim)), 2 * span)
    return np.where(q > span, 2 * span - q, q)


@lru_cache(maxsize=64)
def _glyph(digit: int, height: int) -> np.ndarray:
    """uint8 ``(h, w)`` white-on-black glyph of ``digit``, cropped to its ink and scaled to ``height``."""
    font = ImageFont.load_default(size=64)
    img = Image.new("L", (96, 96), 0)
    ImageDraw.Draw(img).text((16, 8), str(digit), fill=255, font=font)
    ink = img.crop(img.getbbox())
    w = max(1, round(ink.width * height / ink.height))
    return np.asarray(ink.resize((w, height), Image.Resampling.BILINEAR), dtype=np.uint8)


_PAGE_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789      .,:-/()"


def _page(rng: np.random.Generator, min_side: int) -> np.ndarray:
    """A generated printed page at native scale: a ruled table, text in many sizes and colours, filled panels.

    Sharp anti-aliased strokes from 1 px to tens of pixels (the edges a calendar, a poster or a sign shows),
    different for every ``rng``; uint8 ``(H, W, 3)`` with short side ``min_side``."""
    h, w = min_side, round(min_side * rng.uniform(1.0, 1.6))
    dark = rng.uniform() < 0.25
    bg = rng.integers(0, 60, size=3) if dark else rng.integers(190, 256, size=3)
    img = Image.new("RGB", (w, h), tuple(int(c) for c in bg))
    draw = ImageDraw.Draw(img)

    def ink() -> tuple[int, ...]:
        light = rng.integers(170, 256, size=3) if dark else rng.integers(0, 90, size=3)
        vivid = rng.integers(0, 256, size=3)
        return tuple(int(c) for c in (vivid if rng.uniform() < 0.3 else light))

    for _ in range(int(rng.integers(0, 4))):  # coloured panels
        x0, y0 = rng.uniform(0, w), rng.uniform(0, h)
        draw.rectangle((x0, y0, x0 + rng.uniform(20, w / 2), y0 + rng.uniform(20, h / 2)), fill=ink())
    if rng.uniform() < 0.6:  # a ruled table (calendar grid)
        cols, rows = int(rng.integers(3, 9)), int(rng.integers(3, 8))
        x0, y0 = rng.uniform(0, w / 4), rng.uniform(0, h / 4)
        cw, rh = rng.uniform(20, (w - x0) / cols), rng.uniform(16, (h - y0) / rows)
        width, colour = int(rng.integers(1, 4)), ink()
        for c in range(cols + 1):
            draw.line((x0 + c * cw, y0, x0 + c * cw, y0 + rows * rh), fill=colour, width=width)
        for r in range(rows + 1):
            draw.line((x0, y0 + r * rh, x0 + cols * cw, y0 + r * rh), fill=colour, width=width)
        font = _font(max(6, round(min(cw, rh) * rng.uniform(0.3, 0.7))))
        for c in range(cols):
            for r in range(rows):
                if rng.uniform() < 0.8:
                    xy = (x0 + c * cw + 3, y0 + r * rh + 2)
                    draw.text(xy, str(int(rng.integers(1, 32))), fill=colour, font=font)
    for _ in range(int(rng.integers(4, 14))):  # lines of text at random sizes
        fs = int(np.exp(rng.uniform(np.log(7), np.log(0.25 * min_side))))
        n = int(rng.integers(3, 30))
        text = "".join(_PAGE_CHARS[int(j)] for j in rng.integers(0, len(_PAGE_CHARS), size=n))
        draw.text((rng.uniform(-fs, w - fs), rng.uniform(-fs / 2, h - fs)), text, fill=ink(), font=_font(fs))
    return np.asarray(img)


@lru_cache(maxsize=128)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _bundled_rgb(name: str) -> np.ndarray:
    """A bundled scikit-image image as uint8 ``(H, W, 3)`` (gray images such as ``camera`` replicated to RGB)."""
    import skimage.data

    img = getattr(skimage.data, name)()
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)
    return np.ascontiguousarray(img[:, :, :3]).astype(np.uint8)


def _short_side(img: np.ndarray, side: int, interpolation: int) -> np.ndarray:
    h, w = img.shape[:2]
    s = side / min(h, w)
    return cv2.resize(img, (max(side, round(w * s)), max(side, round(h * s))), interpolation=interpolation)


@lru_cache(maxsize=16)
def _photo(name: str, min_side: int) -> np.ndarray:
    """A bundled photo, area-resized so its short side is ``min_side``."""
    return _short_side(_bundled_rgb(name), min_side, cv2.INTER_AREA)


@lru_cache(maxsize=32)
def _native(name: str, min_side: int) -> np.ndarray:
    """A bundled image at its own resolution, enlarged (cubic) only when its short side is below ``min_side``."""
    img = _bundled_rgb(name)
    return _short_side(img, min_side, cv2.INTER_CUBIC) if min(img.shape[:2]) < min_side else img


@dataclass(frozen=True)
class SyntheticVideos:
    """``len(self)`` videos of ``video_frames`` frames at ``size x size``; ``video(i, frames)`` renders."""

    name: str
    num_videos: int = 256
    video_frames: int = 32
    size: int = 64
    seed: int = 0
    pages: int = 0  # detail-pans only: percentage of videos panning over a generated page (text, tables, rules)

    @classmethod
    def from_source(
        cls, source: str, num_videos: int = 256, video_frames: int = 32, size: int = 64, seed: int = 0
    ) -> SyntheticVideos:
        """Build from a source string; ``:options`` override the keyword defaults."""
        name, opts = parse_synthetic_source(source)
        kw = {"num_videos": num_videos, "video_frames": video_frames, "size": size, **opts}
        return cls(name=name, seed=seed, **kw)

    def __len__(self) -> int:
        return self.num_videos

    def _rng(self, i: int) -> np.random.Generator:
        # Content depends on (dataset seed, video index, dataset name) only.
        base = DERIVED[self.name][0] if self.name in DERIVED else self.name  # derived sets pair with their base
        return np.random.default_rng([self.seed, i, SYNTHETIC_NAMES.index(base)])

    def video(self, i: int, frames: np.ndarray | list[int] | None = None) -> np.ndarray:
        """Frames ``frames`` (default all) of video ``i`` as uint8 ``(T, size, size, 3)``."""
        if not 0 <= i < self.num_videos:
            raise IndexError(f"{self.name}: video {i} out of range [0, {self.num_videos})")
        t = np.arange(self.video_frames) if frames is None else np.asarray(frames, dtype=np.int64)
        if t.size and (t.min() < 0 or t.max() >= self.video_frames):
            raise IndexError(f"{self.name}: frames must lie in [0, {self.video_frames}), got {t.tolist()}")
        if self.name in DERIVED:  # e.g. label maps of bouncing-shapes: the base video, mapped frame by frame
            base, derive = DERIVED[self.name]
            return derive(dataclasses.replace(self, name=base).video(i, t))
        render = {
            "moving-digits": self._digits,
            "bouncing-shapes": self._shapes,
            "photo-pans": self._pans,
            "detail-pans": self._detail,
            "sharp-pans": self._sharp,
        }
        return render[self.name](self._rng(i), t.astype(np.float64))

    def _digits(self, rng: np.random.Generator, t: np.ndarray) -> np.ndarray:
        s = self.size
        n = int(rng.integers(1, 3))
        glyphs = [_glyph(int(d), max(4, round(s / 2.5))) for d in rng.integers(0, 10, size=n)]
        span = np.array([[s - g.shape[0], s - g.shape[1]] for g in glyphs], dtype=np.float64)
        p0 = rng.uniform(0, 1, size=(n, 2)) * span
        ang = rng.uniform(0, 2 * np.pi, size=n)
        speed = rng.uniform(0.04, 0.08, size=n)[:, None] * s  # pixels per frame
        v = speed * np.stack([np.sin(ang), np.cos(ang)], 1)
        pos = np.rint(_bounce(p0, v, t, span)).astype(int)  # (T, n, 2)
        out = np.zeros((len(t), s, s), np.uint8)
        for k, g in enumerate(glyphs):
            gh, gw = g.shape
            for f in range(len(t)):
                y, x = pos[f, k]
                np.maximum(out[f, y : y + gh, x : x + gw], g, out=out[f, y : y + gh, x : x + gw])
        return np.repeat(out[..., None], 3, axis=3)

    def _shapes(self, rng: np.random.Generator, t: np.ndarray) -> np.ndarray:
        s = self.size
        n = int(rng.integers(1, 4))
        bg = tuple(int(c) for c in rng.integers(10, 40, size=3))
        radius = rng.uniform(s / 10, s / 5, size=n)
        kinds = rng.integers(0, 2, size=n)  # 0 circle, 1 square
        hue = rng.uniform(0, 180, size=n)
        colors = [
            tuple(int(c) for c in cv2.cvtColor(np.uint8([[[h, 220, 255]]]), cv2.COLOR_HSV2RGB)[0, 0]) for h in hue
        ]
        span = np.stack([s - 2 * radius, s - 2 * radius], 1)
        p0 = rng.uniform(0, 1, size=(n, 2)) * span
        ang = rng.uniform(0, 2 * np.pi, size=n)
        v = (rng.uniform(0.03, 0.07, size=n) * s)[:, None] * np.stack([np.sin(ang), np.cos(ang)], 1)
        pos = _bounce(p0, v, t, span) + radius[None, :, None]  # centres (T, n, 2) as (y, x)
        out = np.empty((len(t), s, s, 3), np.uint8)
        for f in range(len(t)):
            img = Image.new("RGB", (s, s), bg)
            draw = ImageDraw.Draw(img)
            for k in range(n):
                (cy, cx), r = pos[f, k], radius[k]
                box = (cx - r, cy - r, cx + r, cy + r)
                (draw.ellipse if kinds[k] == 0 else draw.rectangle)(box, fill=colors[k])
            out[f] = np.asarray(img)
        return out

    def _pans(self, rng: np.random.Generator, t: np.ndarray) -> np.ndarray:
        s = self.size
        photo = _photo(_PHOTOS[int(rng.integers(0, len(_PHOTOS)))], round(2.5 * s))
        ph, pw = photo.shape[:2]
        z0, z1 = rng.uniform(1.0, 1.8, size=2)  # window side / output side at the start and end
        # start / end window centres, chosen so the whole window stays inside the photo
        c0 = [rng.uniform(z0 * s / 2, ph - z0 * s / 2), rng.uniform(z0 * s / 2, pw - z0 * s / 2)]
        c1 = [rng.uniform(z1 * s / 2, ph - z1 * s / 2), rng.uniform(z1 * s / 2, pw - z1 * s / 2)]
        out = np.empty((len(t), s, s, 3), np.uint8)
        denom = max(1, self.video_frames - 1)
        for f, tf in enumerate(t):
            a = 0.5 - 0.5 * np.cos(np.pi * tf / denom)  # smooth ease in / out
            z = z0 + a * (z1 - z0)
            cy, cx = c0[0] + a * (c1[0] - c0[0]), c0[1] + a * (c1[1] - c0[1])
            # output pixel (x, y) samples photo at (cx + z (x - s/2 + 1/2) - 1/2, ...)
            m = np.array([[z, 0, cx - z * s / 2 + (z - 1) / 2], [0, z, cy - z * s / 2 + (z - 1) / 2]])
            out[f] = cv2.warpAffine(
                photo, m, (s, s), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REFLECT
            )
        return out

    def _detail(self, rng: np.random.Generator, t: np.ndarray) -> np.ndarray:
        # Frames are made the way Vid4's published frames were: rendered at 4x, blurred (Gaussian sigma 1.5) and
        # subsampled, so they carry camera-like, slightly aliased fine detail rather than interpolation blur.
        s, k = self.size, 4
        big = k * s
        if self.pages and rng.uniform(0, 100) < self.pages:
            photo = _page(rng, math.ceil(1.25 * big))  # room for the widest window (1.2 * big)
        else:
            photo = _native(_DETAIL[int(rng.integers(0, len(_DETAIL)))], round(1.2 * big))
        ph, pw = photo.shape[:2]
        z = rng.uniform(0.8, 1.2)  # window side / rendered side: the photo at about its native scale
        half = z * big / 2
        c0 = np.array([rng.uniform(half, ph - half), rng.uniform(half, pw - half)])
        # a straight pan of 0.3-2.5 output pixels per frame in a random direction, reflected at the photo edges
        ang = rng.uniform(0, 2 * np.pi)
        v = rng.uniform(0.3, 2.5) * k * z * np.array([np.sin(ang), np.cos(ang)])
        span = np.array([ph - 2 * half, pw - 2 * half])
        centre = _bounce((c0 - half)[None], v[None], t, span[None])[:, 0] + half  # (T, 2) as (y, x)
        out = np.empty((len(t), s, s, 3), np.uint8)
        for f in range(len(t)):
            cy, cx = centre[f]
            m = np.array([[z, 0, cx - z * big / 2 + (z - 1) / 2], [0, z, cy - z * big / 2 + (z - 1) / 2]])
            frame = cv2.warpAffine(
                photo, m, (big, big), flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REFLECT
            )
            out[f] = cv2.GaussianBlur(frame, (0, 0), 1.5)[::k, ::k]
        return out

    def _sharp(self, rng: np.random.Generator, t: np.ndarray) -> np.ndarray:
        s, least = self.size, 0.35
        shrink = rng.uniform(least, 1.0)
        img = _native(_DETAIL[int(rng.integers(0, len(_DETAIL)))], math.ceil((s + 2) / least))
        h, w = img.shape[:2]
        size = (max(s + 2, round(w * shrink)), max(s + 2, round(h * shrink)))
        small = np.asarray(Image.fromarray(img).resize(size, Image.LANCZOS))
        span = np.array([small.shape[0] - s - 1, small.shape[1] - s - 1], dtype=np.float64)
        p0 = rng.uniform(0, 1, size=2) * span
        v = rng.uniform(-2.5, 2.5, size=2)  # (y, x) pixels per frame
        pos = _bounce(p0[None], v[None], t, span[None])[:, 0]  # (T, 2) top-left corners, sub-pixel
        out = np.empty((len(t), s, s, 3), np.uint8)
        for f in range(len(t)):
            y, x = pos[f]
            m = np.array([[1.0, 0.0, x], [0.0, 1.0, y]])  # output (u, v) samples small at (u + x, v + y)
            out[f] = cv2.warpAffine(
                small, m, (s, s), flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REFLECT
            )
        return out
