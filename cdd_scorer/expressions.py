"""Result formulas of the KPI card: a tiny arithmetic language shared by Python and Excel.

A KPI's result is written in the card as an expression over field ids, numbers, ``+ - * /`` and
parentheses, for example ``(i4_overdue_debt_baseline - i4_overdue_debt_current) /
i4_overdue_debt_baseline * 100``. The same expression is evaluated here in Python and translated
into an Excel formula, so the two engines compute with the same operations in the same order.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

_OPERATORS: dict[type, str] = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}


class ExpressionError(ValueError):
    """The expression uses something other than field ids, numbers, + - * / and parentheses."""


@dataclass(frozen=True)
class Expression:
    """A parsed arithmetic expression over field ids."""

    source: str
    tree: ast.expr = field(compare=False, repr=False)
    fields: tuple[str, ...] = ()

    @classmethod
    def parse(cls, source: str) -> Expression:
        try:
            tree = ast.parse(source, mode="eval").body
        except SyntaxError as exc:
            raise ExpressionError(f"cannot parse {source!r}: {exc.msg}") from None
        names: list[str] = []
        for node in ast.walk(tree):
            if isinstance(node, ast.Name):
                if node.id not in names:
                    names.append(node.id)
            elif isinstance(node, ast.BinOp):
                if type(node.op) not in _OPERATORS:
                    raise ExpressionError(f"{source!r}: only + - * / are allowed")
            elif isinstance(node, ast.UnaryOp):
                if not isinstance(node.op, ast.USub):
                    raise ExpressionError(f"{source!r}: only unary minus is allowed")
            elif isinstance(node, ast.Constant):
                if isinstance(node.value, bool) or not isinstance(node.value, int | float):
                    raise ExpressionError(f"{source!r}: constants must be numbers")
            elif not isinstance(node, ast.operator | ast.unaryop | ast.Load):
                raise ExpressionError(f"{source!r}: {type(node).__name__} is not allowed")
        return cls(source, tree, tuple(names))

    def evaluate(self, values: Mapping[str, float]) -> float | None:
        """The value, or None when a divisor is zero."""
        try:
            return float(_evaluate(self.tree, values))
        except ZeroDivisionError:
            return None

    def to_excel(self, reference: Callable[[str], str]) -> str:
        """The expression as Excel formula text, each field replaced by ``reference(field)``."""
        return _to_excel(self.tree, reference)


def _evaluate(node: ast.expr, values: Mapping[str, float]) -> float:
    if isinstance(node, ast.Name):
        return float(values[node.id])
    if isinstance(node, ast.Constant):
        return float(node.value)
    if isinstance(node, ast.UnaryOp):
        return -_evaluate(node.operand, values)
    assert isinstance(node, ast.BinOp)
    left, right = _evaluate(node.left, values), _evaluate(node.right, values)
    if isinstance(node.op, ast.Add):
        return left + right
    if isinstance(node.op, ast.Sub):
        return left - right
    if isinstance(node.op, ast.Mult):
        return left * right
    return left / right


def _to_excel(node: ast.expr, reference: Callable[[str], str]) -> str:
    if isinstance(node, ast.Name):
        return reference(node.id)
    if isinstance(node, ast.Constant):
        return repr(node.value)
    if isinstance(node, ast.UnaryOp):
        return f"-({_to_excel(node.operand, reference)})"
    assert isinstance(node, ast.BinOp)
    # Parenthesise every operation so Excel's precedence can never differ from Python's.
    left, right = _to_excel(node.left, reference), _to_excel(node.right, reference)
    return f"({left}{_OPERATORS[type(node.op)]}{right})"
