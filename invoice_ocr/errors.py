"""Why a file could not be read, in words a bookkeeper understands."""

from __future__ import annotations


class ReadError(Exception):
    """A file that is not a readable invoice. The message is shown to the user as is."""


NOT_SUPPORTED = "不是支持的发票文件（PDF、OFD、XML 或 JPEG/PNG/WebP 图片），无法读取"
EMPTY = "文件为空（0 字节）"
TRUNCATED = "文件已损坏或不完整，无法读取"
ENCRYPTED = "PDF 有密码保护，无法读取；请上传未加密的发票文件"
NOT_INVOICE = "文件中没有找到发票内容（发票号码、金额等），不像是一张发票"
TIMEOUT = "识别超时（超过 {seconds:g} 秒），请上传更清晰或更小的文件"


def too_large(size_mb: float, limit_mb: int) -> str:
    return f"文件过大（{size_mb:.1f} MB），上限为 {limit_mb} MB"


def too_many_pixels(megapixels: float, limit: int) -> str:
    return f"图片过大（{megapixels:.0f} 百万像素），上限为 {limit} 百万像素"
