"""Make a photo or scan look like a flat, upright, evenly lit page before OCR.

Pillow does the decoding, EXIF orientation, grayscale, contrast and scaling;
OpenCV (already installed with rapidocr) finds the page on a desk and undoes
perspective, which Pillow cannot do well.
"""

from __future__ import annotations

import io
import warnings

from .. import errors
from ..errors import ReadError

TARGET_WIDTH = 1650  # a 数电票 page at ~200 dpi: both engines read it well at this size


def open_image(data: bytes, max_megapixels: int):  # type: ignore[no-untyped-def]
    """Decode with the decompression-bomb guard on; refuse anything over ``max_megapixels``."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = max_megapixels * 1_000_000
    try:
        with warnings.catch_warnings():
            warnings.simplefilter(
                "ignore", UserWarning
            )  # "Corrupt EXIF data" and the like: the error below says it
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))
            w, h = im.size
            if w * h > max_megapixels * 1_000_000:
                raise ReadError(errors.too_many_pixels(w * h / 1e6, max_megapixels))
            if w < 200 or h < 100:
                raise ReadError(f"图片太小（{w}×{h} 像素），无法看清发票内容")
            im.load()
            im = ImageOps.exif_transpose(im)
            if getattr(im, "n_frames", 1) > 1:
                im.seek(0)
            return im.convert("RGB")
    except ReadError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ReadError(f"图片过大（超过 {max_megapixels} 百万像素的上限），疑似解压炸弹，拒绝读取") from exc
    except UnidentifiedImageError as exc:
        raise ReadError("图片文件无法识别（格式不支持或已损坏）") from exc
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise ReadError("图片文件已损坏或不完整，无法读取") from exc


def _order_corners(pts):  # type: ignore[no-untyped-def]
    import numpy as np

    pts = pts.reshape(4, 2).astype("float32")
    s = pts.sum(axis=1)
    d = np.diff(pts, axis=1).ravel()
    return np.array([pts[s.argmin()], pts[d.argmin()], pts[s.argmax()], pts[d.argmax()]], dtype="float32")


def crop_page(gray):  # type: ignore[no-untyped-def]
    """Find a bright page on a darker background and warp it flat; return the input when there is none."""
    import cv2
    import numpy as np

    h, w = gray.shape
    scale = 800 / max(h, w)
    small = cv2.resize(gray, (int(w * scale), int(h * scale)), interpolation=cv2.INTER_AREA)
    blur = cv2.GaussianBlur(small, (5, 5), 0)
    _, mask = cv2.threshold(blur, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((15, 15), np.uint8))
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return gray
    c = max(contours, key=cv2.contourArea)
    area = cv2.contourArea(c)
    if area < 0.25 * small.size or area > 0.97 * small.size:
        return gray  # no distinct page: a scan, or a page filling the frame
    peri = cv2.arcLength(c, True)
    approx = cv2.approxPolyDP(c, 0.02 * peri, True)
    if len(approx) != 4:
        approx = cv2.boxPoints(cv2.minAreaRect(c))
    corners = _order_corners(np.array(approx) / scale)
    tl, tr, br, bl = corners
    width = int(max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl)))
    height = int(max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr)))
    if width < 100 or height < 100:
        return gray
    dst = np.array([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]], dtype="float32")
    m = cv2.getPerspectiveTransform(corners, dst)
    return cv2.warpPerspective(gray, m, (width, height), flags=cv2.INTER_CUBIC, borderValue=255)


def even_light(gray):  # type: ignore[no-untyped-def]
    """Divide by the blurred background so shadows and gradients flatten out, then stretch contrast."""
    import cv2
    import numpy as np

    h, w = gray.shape
    # The background is smooth: blur a small copy (eight times cheaper per side) and scale it back up.
    small = cv2.resize(gray, (max(1, w // 8), max(1, h // 8)), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigmaX=max(small.shape) / 30)
    bg = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    norm = cv2.divide(gray.astype(np.float32), bg.astype(np.float32) + 1, scale=255)
    norm = np.clip(norm, 0, 255).astype(np.uint8)
    lo, hi = np.percentile(norm, (1, 99.5))
    if hi - lo < 10:
        return norm
    return np.clip((norm.astype(np.float32) - lo) * 255 / (hi - lo), 0, 255).astype(np.uint8)


def deskew(gray):  # type: ignore[no-untyped-def]
    """Rotate away a small residual tilt, measured from the dark text pixels."""
    import cv2
    import numpy as np

    # Angles survive scaling: measure on a half-size copy, rotate the full page.
    half = cv2.resize(gray, (gray.shape[1] // 2, gray.shape[0] // 2), interpolation=cv2.INTER_AREA)
    _, bw = cv2.threshold(255 - half, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    bw = cv2.dilate(bw, np.ones((1, 13), np.uint8))
    lines = cv2.HoughLinesP(bw, 1, np.pi / 720, threshold=100, minLineLength=half.shape[1] // 6, maxLineGap=5)
    if lines is None:
        return gray
    angles = []
    for x1, y1, x2, y2 in lines.reshape(-1, 4):
        a = np.degrees(np.arctan2(y2 - y1, x2 - x1))
        if abs(a) < 10:
            angles.append(a)
    if not angles:
        return gray
    angle = float(np.median(angles))
    if abs(angle) < 0.15:
        return gray
    h, w = gray.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    return cv2.warpAffine(gray, m, (w, h), flags=cv2.INTER_CUBIC, borderValue=255)


def prepare(im, *, photo: bool | None = None):  # type: ignore[no-untyped-def]
    """PIL image in, a cleaned grayscale numpy page out (landscape, ~TARGET_WIDTH wide)."""
    import cv2
    import numpy as np

    gray = np.array(im.convert("L"))
    page = crop_page(gray)
    looks_photo = photo if photo is not None else page.shape != gray.shape
    if looks_photo:
        page = even_light(page)
    page = deskew(page)
    h, w = page.shape
    scale = TARGET_WIDTH / w
    if abs(scale - 1) > 0.08:
        interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
        page = cv2.resize(page, (TARGET_WIDTH, max(1, int(h * scale))), interpolation=interp)
    return page
