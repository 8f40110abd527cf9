"""Synthetic NHS numbers: 10 digits whose last digit is a modulus-11 check digit.

The check digit (NHS Data Dictionary, "NHS Number"): multiply the first nine digits by the
weights 10, 9, ..., 2, sum, take the remainder modulo 11 and subtract it from 11; 11 becomes
0, and 10 means the nine digits cannot form a valid number. Synthetic numbers start with 999,
the range NHS England reserves for test data, so none can be a real person's number.
"""

from __future__ import annotations

import numpy as np

WEIGHTS = np.arange(10, 1, -1)


def check_digit(first_nine: str) -> int | None:
    """The modulus-11 check digit of nine digits, or None if they admit no valid number."""
    if len(first_nine) != 9 or not first_nine.isdigit():
        raise ValueError("expected exactly nine digits")
    total = sum(int(d) * w for d, w in zip(first_nine, range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        return 0
    return None if check == 10 else check


def is_valid(number: str) -> bool:
    """True when ``number`` is ten digits with a correct modulus-11 check digit."""
    if len(number) != 10 or not number.isdigit():
        return False
    return check_digit(number[:9]) == int(number[9])


def synthetic_nhs_numbers(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` distinct valid NHS numbers in the 999 test range, drawn with ``rng``."""
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < n:
        need = (n - len(out)) * 2 + 16
        body = rng.integers(0, 1_000_000, size=need)
        digits = np.stack(
            [np.full(need, 9), np.full(need, 9), np.full(need, 9)]
            + [(body // 10**k) % 10 for k in range(5, -1, -1)],
            axis=1,
        )
        check = 11 - (digits * WEIGHTS).sum(axis=1) % 11
        check[check == 11] = 0
        for row, c in zip(digits, check, strict=True):
            if c == 10:
                continue
            s = "".join(map(str, row)) + str(int(c))
            if s not in seen:
                seen.add(s)
                out.append(s)
                if len(out) == n:
                    break
    return out
