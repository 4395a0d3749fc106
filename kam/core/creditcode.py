"""The unified social credit code (统一社会信用代码), GB 32100-2015.

18 characters from a 31-character alphabet (digits and upper-case letters without
I, O, Z, S, V). The last is a check character: ``31 - (sum(value_i * weight_i) mod 31)``
with weights ``3**i mod 31`` for positions 0..16, where 31 maps to 0.
"""

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
LENGTH = 18


def check_character(first17: str) -> str:
    """The check character for the first 17 characters (which must be in the alphabet)."""
    total = sum(_VALUE[ch] * w for ch, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def problem(code: str) -> str | None:
    """Why ``code`` is not a valid credit code, or ``None`` when it is.

    The reason is a key for the caller to translate: ``length``, ``character`` or ``check``.
    """
    if len(code) != LENGTH:
        return "length"
    if any(ch not in _VALUE for ch in code):
        return "character"
    if check_character(code[:17]) != code[17]:
        return "check"
    return None


def normalize(code: str) -> str:
    """Upper-case and strip spaces, as people type codes off paper."""
    return "".join(code.split()).upper()
