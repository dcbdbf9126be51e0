"""Render checked expressions back to text, with parameter values filled in (never fact values)."""

from __future__ import annotations

from datetime import date
from typing import Any

from entitle.rules.expr import (
    Agg,
    AsOf,
    Binary,
    BoolOp,
    Call,
    If,
    InList,
    Lit,
    Name,
    Node,
    T,
    Unary,
)


def money(cents: int) -> str:
    """Format cents as euros: €25,630.67 (whole amounts without decimals)."""
    euros = cents / 100
    return f"€{euros:,.0f}" if cents % 100 == 0 else f"€{euros:,.2f}"


def value_text(value: Any, vtype: T) -> str:
    """A literal or parameter value as text."""
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "true" if value else "false"
    if vtype == T.MONEY and isinstance(value, int):
        return money(value)
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


_PRECEDENCE = {"if": 0, "or": 1, "and": 2, "not": 3, "cmp": 4, "+": 5, "-": 5, "*": 6, "/": 6}


def render(node: Node, params: dict[str, Any] | None = None) -> str:
    """Text of an expression; parameters appear as `name (value)` when params are given."""
    return _Renderer(params).text(node)


class _Renderer:
    def __init__(self, params: dict[str, Any] | None) -> None:
        self.params = params

    def text(self, node: Node, parent: int = 0) -> str:
        own, body = self._body(node)
        return f"({body})" if own < parent else body

    def _body(self, node: Node) -> tuple[int, str]:
        if isinstance(node, Lit):
            return 9, value_text(node.value, node.type)
        if isinstance(node, AsOf):
            return 9, "as_of"
        if isinstance(node, Name):
            return 9, self._name(node)
        if isinstance(node, Unary):
            if node.op == "not":
                return 3, f"not {self.text(node.operand, 3)}"
            return 7, f"-{self.text(node.operand, 7)}"
        if isinstance(node, BoolOp):
            prec = _PRECEDENCE[node.op]
            return prec, f" {node.op} ".join(self.text(item, prec + 1) for item in node.items)
        if isinstance(node, Binary):
            prec = _PRECEDENCE.get(node.op, 4)
            return prec, f"{self.text(node.left, prec)} {node.op} {self.text(node.right, prec + 1)}"
        if isinstance(node, InList):
            values = ", ".join(value_text(v, node.operand.type) for v in node.values)
            word = "not in" if node.negate else "in"
            return 4, f"{self.text(node.operand, 5)} {word} [{values}]"
        if isinstance(node, If):
            cond, then, other = (self.text(n) for n in (node.cond, node.then, node.other))
            return 0, f"if {cond} then {then} else {other}"
        if isinstance(node, Call):
            args = ", ".join(
                self._table_name(arg)
                if i == 0 and node.fn in ("lookup", "band")
                else self.text(arg)
                for i, arg in enumerate(node.args)
            )
            return 9, f"{node.fn}({args})"
        if isinstance(node, Agg):
            inner = self.text(node.item)
            if node.filter is not None:
                inner += f", {self.text(node.filter)}"
            return 9, f"{node.fn}({inner})"
        raise TypeError(f"cannot render {type(node).__name__}")

    def _name(self, node: Name) -> str:
        shown = ".".join(node.parts)
        if node.kind == "param" and self.params is not None:
            return f"{shown} ({value_text(self.params.get(node.target), node.type)})"
        return shown

    @staticmethod
    def _table_name(node: Node) -> str:
        assert isinstance(node, Name)
        return node.target
