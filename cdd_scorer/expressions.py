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
from decimal import Decimal
from fractions import Fraction

from cdd_scorer.exact import Number, exact

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

    def evaluate(self, values: Mapping[str, Number]) -> Fraction | None:
        """The exact value (decimal inputs, fraction arithmetic), or None when a divisor is zero."""
        try:
            return _evaluate(self.tree, values)
        except ZeroDivisionError:
            return None

    def to_excel(self, reference: Callable[[str], str], decimals_of: Callable[[str], int]) -> str:
        """The expression as Excel formula text, each field replaced by ``reference(field)``.

        A sum or difference of fields is exact in decimals (money has 2, counts 0), but not in the
        binary floats a spreadsheet computes with (2200 − 2090.11 = 109.88999999999987 there), so it is
        wrapped in ``ROUND(…, decimals)``, which gives back the exact decimal before anything divides
        it. ``decimals_of(field)`` says how many decimals a field's values have."""
        return _to_excel(self.tree, reference, decimals_of)


def _evaluate(node: ast.expr, values: Mapping[str, Number]) -> Fraction:
    if isinstance(node, ast.Name):
        return exact(values[node.id])
    if isinstance(node, ast.Constant):
        return exact(node.value)
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


def _to_excel(node: ast.expr, reference: Callable[[str], str], decimals_of: Callable[[str], int]) -> str:
    if isinstance(node, ast.Name):
        return reference(node.id)
    if isinstance(node, ast.Constant):
        return repr(node.value)
    if isinstance(node, ast.UnaryOp):
        return f"-({_to_excel(node.operand, reference, decimals_of)})"
    assert isinstance(node, ast.BinOp)
    # Parenthesise every operation so Excel's precedence can never differ from Python's.
    left = _to_excel(node.left, reference, decimals_of)
    right = _to_excel(node.right, reference, decimals_of)
    formula = f"({left}{_OPERATORS[type(node.op)]}{right})"
    decimals = _sum_decimals(node, decimals_of)
    return formula if decimals is None else f"ROUND{formula[:-1]},{decimals})"


def _sum_decimals(node: ast.expr, decimals_of: Callable[[str], int]) -> int | None:
    """For a sum or difference of fields and constants, the decimals its exact value has; else None."""
    if not isinstance(node, ast.BinOp) or not isinstance(node.op, ast.Add | ast.Sub):
        return None

    def leaf(n: ast.expr) -> int | None:
        if isinstance(n, ast.Name):
            return decimals_of(n.id)
        if isinstance(n, ast.Constant):
            return max(0, -Decimal(repr(n.value)).normalize().as_tuple().exponent)
        if isinstance(n, ast.UnaryOp):
            return leaf(n.operand)
        return _sum_decimals(n, decimals_of)

    parts = [leaf(node.left), leaf(node.right)]
    return None if None in parts else max(parts)
