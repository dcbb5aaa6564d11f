"""``zoo.data.load("fonts")``: printed characters rendered from the TrueType faces matplotlib ships.

62 classes (``0``-``9``, ``A``-``Z``, ``a``-``z``) drawn in about 20 faces (DejaVu Sans,
Sans Mono and Serif, STIX, Computer Modern, each in its weights and slants), with a
random stroke width, affine transform (rotation, shear, aspect), size and position,
blur and noise: a data set worth pretraining a small backbone on, generated on the
spot (nothing is downloaded) and deterministic by seed.

Each glyph is drawn four times larger than ``image_size``, thresholded to a bitmap
and averaged down in 4x4 blocks, the way scikit-learn's 8x8 digits were made from
32x32 scans (UCI optdigits: the "on" pixels of each 4x4 block counted): at
``image_size=8`` fonts look like those digits, so features learnt here carry over.
Like the scans, a glyph is scaled to fill the box by its longer side, keeping its
aspect ratio.
"""

from __future__ import annotations

import functools
import glob
import os

import numpy as np

from zoo.core.checks import check_int, check_number, fail

__all__ = ["CHARACTERS", "CLASS_SETS", "font_faces", "render", "load_fonts"]

CHARACTERS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
CLASS_SETS = {"all": CHARACTERS, "digits": CHARACTERS[:10], "upper": CHARACTERS[10:36], "lower": CHARACTERS[36:]}

#: Faces with a full Latin alphabet and digits at their ASCII code points (matplotlib's Computer
#: Modern math italic and symbol faces, STIX's size variants and the display faces are left out).
_FACES = (
    "DejaVuSans", "DejaVuSans-Bold", "DejaVuSans-Oblique", "DejaVuSans-BoldOblique",
    "DejaVuSansMono", "DejaVuSansMono-Bold", "DejaVuSansMono-Oblique", "DejaVuSansMono-BoldOblique",
    "DejaVuSerif", "DejaVuSerif-Bold", "DejaVuSerif-Italic", "DejaVuSerif-BoldItalic",
    "STIXGeneral", "STIXGeneralBol", "STIXGeneralItalic", "STIXGeneralBolIta",
    "cmr10", "cmb10", "cmss10", "cmtt10", "cmti10",
)
_UPSCALE = 4  # drawn at 4x, averaged down in 4x4 blocks (optdigits' 32x32 -> 8x8)
_GLYPH_PX = 64  # font size of the cached master glyphs


def _font_dir() -> str:
    import matplotlib

    return os.path.join(os.path.dirname(matplotlib.__file__), "mpl-data", "fonts", "ttf")


@functools.lru_cache(maxsize=1)
def font_faces() -> tuple:
    """The faces used, as ``(name, path)``: those of :data:`_FACES` matplotlib has installed."""
    found = {os.path.splitext(os.path.basename(p))[0]: p for p in glob.glob(os.path.join(_font_dir(), "*.ttf"))}
    faces = tuple((name, found[name]) for name in _FACES if name in found)
    if not faces:
        raise FileNotFoundError(f"no TrueType faces of matplotlib found in {_font_dir()!r}; reinstall matplotlib")
    return faces


@functools.lru_cache(maxsize=4096)
def _glyph(path: str, char: str, stroke: int) -> np.ndarray:
    """The anti-aliased glyph of ``char`` (values in [0, 1]) cropped to its ink, as a master copy."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(path, _GLYPH_PX)
    size = 2 * _GLYPH_PX
    canvas = Image.new("L", (size, size), 0)
    ImageDraw.Draw(canvas).text((size // 4, size // 8), char, fill=255, font=font, stroke_width=stroke,
                                stroke_fill=255)
    ink = np.asarray(canvas, dtype="float32") / 255.0
    return _crop(ink)


def _crop(ink, level=0.05):
    rows, cols = np.flatnonzero(ink.max(1) > level), np.flatnonzero(ink.max(0) > level)
    if not len(rows):
        return ink[:1, :1]
    return ink[rows[0]: rows[-1] + 1, cols[0]: cols[-1] + 1]


def _affine(glyph, rng, rotate, shear, aspect):
    """``glyph`` turned by up to ``rotate`` degrees, sheared by up to ``shear`` and stretched in x."""
    from PIL import Image

    angle = np.deg2rad(rng.uniform(-rotate, rotate))
    sx = np.exp(rng.uniform(-aspect, aspect))
    k = rng.uniform(-shear, shear)
    # forward map: stretch x, shear, rotate; PIL wants the inverse, from output to input pixels
    forward = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]) @ \
        np.array([[1.0, k], [0.0, 1.0]]) @ np.diag([sx, 1.0])
    h, w = glyph.shape
    corners = forward @ np.array([[0, w, 0, w], [0, 0, h, h]], dtype="float64")
    low, high = corners.min(1), corners.max(1)
    out_w, out_h = int(np.ceil(high[0] - low[0])) + 2, int(np.ceil(high[1] - low[1])) + 2
    inverse = np.linalg.inv(forward)
    offset = inverse @ (low - 1)
    coeffs = (inverse[0, 0], inverse[0, 1], offset[0], inverse[1, 0], inverse[1, 1], offset[1])
    image = Image.fromarray((glyph * 255).astype("uint8"))
    moved = image.transform((out_w, out_h), Image.Transform.AFFINE, coeffs, resample=Image.Resampling.BILINEAR)
    return _crop(np.asarray(moved, dtype="float32") / 255.0)


def _place(glyph, rng, canvas, fill, shift):
    """Scale ``glyph`` so its longer side is ``fill`` (a random fraction) of ``canvas``, at a random offset."""
    from PIL import Image

    h, w = glyph.shape
    scale = canvas * rng.uniform(*fill) / max(h, w)
    new_h, new_w = max(1, min(canvas, round(h * scale))), max(1, min(canvas, round(w * scale)))
    image = Image.fromarray((glyph * 255).astype("uint8")).resize((new_w, new_h), Image.Resampling.BILINEAR)
    out = np.zeros((canvas, canvas), "float32")
    slack_y, slack_x = canvas - new_h, canvas - new_w
    top = int(round(slack_y / 2 + rng.uniform(-shift, shift) * slack_y / 2))
    left = int(round(slack_x / 2 + rng.uniform(-shift, shift) * slack_x / 2))
    out[top: top + new_h, left: left + new_w] = np.asarray(image, dtype="float32") / 255.0
    return out


def render(char, face=0, image_size=8, seed=0, rotate=12.0, shear=0.25, aspect=0.2, strokes=(0, 1, 2, 3),
           fill=(0.92, 1.0), shift=1.0, blur=1.0, noise=0.03, binarize=True) -> np.ndarray:
    """One ``image_size`` x ``image_size`` image of ``char`` in face ``face`` (index or name), values in [0, 1].

    ``rotate``: degrees; ``shear``: x-shear factor; ``aspect``: log x-stretch; ``strokes``: stroke
    widths (pixels at 64 px) drawn from; ``fill``: the range of the longer side as a fraction of the box;
    ``shift``: how much of the free space the glyph may move into (0: centred); ``blur``: the largest
    Gaussian blur (pixels of ``image_size``) before thresholding; ``noise``: the largest Gaussian
    noise std added last; ``binarize``: threshold at 4x, then average 4x4 blocks (the optdigits way).
    """
    rng = np.random.default_rng(seed)
    faces = font_faces()
    index = face if isinstance(face, int) else [n for n, _ in faces].index(face)
    return _draw(char, faces[index][1], image_size, rng, rotate, shear, aspect, strokes, fill, shift, blur, noise,
                 binarize)


def _draw(char, path, image_size, rng, rotate, shear, aspect, strokes, fill, shift, blur, noise, binarize):
    from PIL import Image, ImageFilter

    glyph = _glyph(path, char, int(rng.choice(strokes)))
    glyph = _affine(glyph, rng, rotate, shear, aspect)
    canvas = image_size * _UPSCALE
    big = _place(glyph, rng, canvas, fill, shift)
    radius = rng.uniform(0, blur) * _UPSCALE / 2
    if radius > 0.2:
        big = np.asarray(Image.fromarray((big * 255).astype("uint8")).filter(ImageFilter.GaussianBlur(radius)),
                         dtype="float32") / 255.0
    if binarize:
        big = (big > rng.uniform(0.35, 0.65)).astype("float32")
    small = big.reshape(image_size, _UPSCALE, image_size, _UPSCALE).mean(axis=(1, 3))
    if noise:
        small = small + rng.normal(0, rng.uniform(0, noise), small.shape)
    return np.clip(small, 0.0, 1.0).astype("float32")


def _generate(chars, faces, image_size, samples_per_class, seed, options, progress):
    """``samples_per_class`` renderings of each character in random faces, each seeded on its own."""
    x = np.empty((len(chars) * samples_per_class, image_size, image_size), "float32")
    y = np.repeat(np.arange(len(chars), dtype="int32"), samples_per_class)
    seeds = np.random.default_rng(seed).integers(0, 2**63 - 1, size=len(x))
    bar = None
    if len(x) > 20_000 if progress is None else progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(x), desc="rendering fonts", unit="img", mininterval=1.0)
    for i, (label, s) in enumerate(zip(y, seeds)):
        rng = np.random.default_rng(s)
        path = faces[rng.integers(len(faces))][1]
        x[i] = _draw(chars[label], path, image_size, rng, **options)
        if bar is not None and i % 500 == 499:
            bar.update(500)
    if bar is not None:
        bar.update(len(x) - bar.n)
        bar.close()
    return x, y


def load_fonts(image_size=None, channels=1, samples_per_class=200, classes="all", faces=None, val_fraction=0.15,
               test_fraction=0.2, seed=0, rotate=12.0, shear=0.25, aspect=0.2, strokes=(0, 1, 2, 3),
               fill=(0.92, 1.0), shift=1.0, blur=1.0, noise=0.03, binarize=True, progress=None):
    """The fonts data set as ``zoo.data.Splits`` (stratified by ``seed``), class names the characters.

    ``image_size`` (default 8, scikit-learn's digits'), ``channels`` 1 or 3, ``samples_per_class``
    (62 classes: 200 gives 12,400 images), ``classes``: ``"all"``, ``"digits"``, ``"upper"``,
    ``"lower"`` or a string of characters; ``faces``: face names to use (default all of
    :func:`font_faces`). The rendering options are :func:`render`'s. ``progress``: show a progress
    bar (default: when more than 20,000 images are drawn).
    """
    from zoo.data.datasets import _split

    image_size = 8 if image_size is None else check_int("image_size", image_size, minimum=4)
    if channels not in (1, 3):
        fail("channels", channels, "1 or 3")
    # every class in every split: sklearn's stratified split needs as many rows as classes
    check_int("samples_per_class", samples_per_class, minimum=int(np.ceil(1 / min(val_fraction, test_fraction))))
    chars = CLASS_SETS.get(classes, classes) if isinstance(classes, str) else None
    if not chars or len(set(chars)) != len(chars) or set(chars) - set(CHARACTERS):
        fail("classes", classes, f"one of {sorted(CLASS_SETS)} or a string of distinct characters of {CHARACTERS!r}")
    all_faces = font_faces()
    if faces is None:
        chosen = all_faces
    else:
        names = [n for n, _ in all_faces]
        unknown = [f for f in faces if f not in names] if isinstance(faces, (list, tuple)) and faces else [faces]
        if unknown:
            fail("faces", faces, f"a non-empty list of face names among {names}")
        chosen = tuple(f for f in all_faces if f[0] in faces)
    for arg, value in (("rotate", rotate), ("shear", shear), ("aspect", aspect), ("shift", shift), ("blur", blur),
                       ("noise", noise)):
        check_number(arg, value, low=0)
    options = dict(rotate=rotate, shear=shear, aspect=aspect, strokes=tuple(strokes), fill=tuple(fill), shift=shift,
                   blur=blur, noise=noise, binarize=bool(binarize))
    x, y = _cached(chars, chosen, image_size, samples_per_class, seed, tuple(sorted(options.items())),
                   progress)
    x = x[..., None]
    if channels == 3:
        x = np.repeat(x, 3, axis=-1)
    splits = _split("fonts", x, y, val_fraction, test_fraction, seed)
    splits.class_names = list(chars)
    return splits


@functools.lru_cache(maxsize=2)
def _cached(chars, faces, image_size, samples_per_class, seed, options, progress):
    x, y = _generate(chars, faces, image_size, samples_per_class, seed, dict(options), progress)
    x.flags.writeable = False  # shared by every caller of the cache
    return x, y
