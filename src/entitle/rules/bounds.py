"""Interval reasoning over unknown numbers, shared by both engines.

An unknown number still lies in an interval: its fact's declared domain (an income is never
negative), or what its operands' intervals allow (a sum of a known €58,553 and an unknown income
is at least €58,553). A comparison whose operands' intervals settle it has that value for every
completion of the unknown facts, so it is *certain* and no longer unknown. Bounds are floats
(money in cents), `-inf`/`inf` when unbounded.
"""

from __future__ import annotations

import math

from entitle.rules.expr import T

Bounds = tuple[float, float]
ORDERED = frozenset({T.INT, T.NUMBER, T.MONEY})  # the types bounds are kept for


def hull(a: Bounds, b: Bounds) -> Bounds:
    """The smallest interval holding both."""
    return (min(a[0], b[0]), max(a[1], b[1]))


def _times(x: float, y: float) -> float:
    return 0.0 if x == 0 or y == 0 else x * y  # 0 × ∞ is 0 here: a zero factor stays zero


def interval_op(op: str, a: Bounds, b: Bounds) -> Bounds:
    """`a op b` over intervals, for `+`, `-` and `*`."""
    if op == "+":
        return (a[0] + b[0], a[1] + b[1])
    if op == "-":
        return (a[0] - b[1], a[1] - b[0])
    products = [_times(x, y) for x in a for y in b]
    return (min(products), max(products))


def by_bounds(op: str, a: Bounds, b: Bounds) -> bool | None:
    """The comparison `a op b` if every value of `a` and of `b` gives the same answer, else None."""
    (alo, ahi), (blo, bhi) = a, b
    if op == "<":
        return True if ahi < blo else False if alo >= bhi else None
    if op == "<=":
        return True if ahi <= blo else False if alo > bhi else None
    if op == ">":
        return True if alo > bhi else False if ahi <= blo else None
    if op == ">=":
        return True if alo >= bhi else False if ahi < blo else None
    same = alo == ahi == blo == bhi and not math.isinf(alo)
    apart = ahi < blo or bhi < alo
    equal = True if same else False if apart else None
    if op == "==":
        return equal
    return None if equal is None else not equal
