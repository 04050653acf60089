"""统一社会信用代码 (unified social credit code) checks, GB 32100-2015."""

from __future__ import annotations

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def check_char(first17: str) -> str | None:
    """The 18th character that makes ``first17`` valid, or None if it has a foreign character."""
    total = 0
    for ch, w in zip(first17, WEIGHTS, strict=True):
        idx = CHARSET.find(ch)
        if idx < 0:
            return None
        total += idx * w
    return CHARSET[(31 - total % 31) % 31]


def is_valid_uscc(code: str | None) -> bool:
    """True when ``code`` is an 18-character code with a correct check character."""
    if not code or len(code) != 18:
        return False
    code = code.upper()
    if any(c not in CHARSET for c in code):
        return False
    return check_char(code[:17]) == code[17]


def tax_id_problem(code: str | None) -> str | None:
    """A sentence in Chinese saying what is wrong with ``code``, or None when it is fine."""
    if not code:
        return "缺少税号"
    code = code.strip().upper()
    if len(code) == 18:
        if any(c not in CHARSET for c in code):
            bad = "".join(sorted({c for c in code if c not in CHARSET}))
            return f"税号 {code} 含有不允许的字符 {bad}（不使用 I O Z S V）"
        if not is_valid_uscc(code):
            return f"税号 {code} 校验位不正确（GB 32100-2015），应为 {check_char(code[:17])}"
        return None
    if len(code) in (15, 17, 20) and code.isalnum():
        return None
    return f"税号 {code} 长度为 {len(code)}，应为 18 位统一社会信用代码"


def make_uscc(first17: str) -> str:
    """Complete a 17-character body with its check character (for demo data and tests)."""
    ch = check_char(first17.upper())
    if ch is None:
        raise ValueError(f"not a USCC body: {first17!r}")
    return first17.upper() + ch
