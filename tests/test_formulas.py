"""One formula in one place: the 0-10 intensity clamp, the shock operations and the damage
combination are defined once in the engine and called everywhere else.

The definitions are checked on hand-computed values; an AST scan of the package then fails on
a second copy: a clip to the intensity scale outside `engine/intensity.py`, a `1 - prod(...)`
outside `engine/damage.py`, or a branch on a shock operation outside `unclamped_shock` (which
`apply_shock` clamps; functions that only word a shock, named `*_text`, may branch on it).
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from riskapp.domain.common import INTENSITY_MAX, INTENSITY_MIN
from riskapp.domain.scenarios import ShockOperation
from riskapp.engine.damage import above_baseline, clamp_ratio, combine, combined_damage
from riskapp.engine.intensity import apply_shock, clamp_intensity, unclamped_shock

PACKAGE = Path(__file__).resolve().parents[1] / "riskapp"
INTENSITY_FILE = "riskapp/engine/intensity.py"
DAMAGE_FILE = "riskapp/engine/damage.py"
# Not the damage combination: the baseline's weighted complement product of 0-10 indicator
# scores (a probabilistic OR of independent hazards, weights as exponents, a missing child
# counting 0).
OTHER_PRODUCTS = {("riskapp/baseline/operators.py", "complement_product")}

# -- the single definitions ---------------------------------------------------------------------


def test_clamp_intensity_holds_values_to_the_scale() -> None:
    out = clamp_intensity(np.array([-3.0, 0.0, 4.5, 10.0, 12.0]))
    np.testing.assert_array_equal(out, [0.0, 0.0, 4.5, 10.0, 10.0])
    assert (INTENSITY_MIN, INTENSITY_MAX) == (0.0, 10.0)
    assert float(clamp_intensity(11)) == 10.0


@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [
        (ShockOperation.SET, 7.0, [7.0, 7.0, 7.0]),
        (ShockOperation.ADD, 3.0, [5.0, 9.0, 10.0]),
        (ShockOperation.ADD, -5.0, [0.0, 1.0, 4.0]),
        (ShockOperation.SCALE, 2.0, [4.0, 10.0, 10.0]),
        (ShockOperation.SCALE, 0.5, [1.0, 3.0, 4.5]),
        # headroom: x + v (10 - x): 2 + 0.5 x 8, 6 + 0.5 x 4, 9 + 0.5 x 1
        (ShockOperation.TOWARD_MAX, 0.5, [6.0, 8.0, 9.5]),
        (ShockOperation.TOWARD_MAX, 0.25, [4.0, 7.0, 9.25]),
        (ShockOperation.TOWARD_MAX, 1.0, [10.0, 10.0, 10.0]),
        (ShockOperation.TOWARD_MAX, 0.0, [2.0, 6.0, 9.0]),
        # x - v x: 2 - 0.5 x 2, 6 - 0.5 x 6, 9 - 0.5 x 9
        (ShockOperation.TOWARD_MIN, 0.5, [1.0, 3.0, 4.5]),
        (ShockOperation.TOWARD_MIN, 1.0, [0.0, 0.0, 0.0]),
    ],
)
def test_apply_shock_operates_then_clamps(
    op: ShockOperation, value: float, expected: list[float]
) -> None:
    values = np.array([2.0, 6.0, 9.0])
    np.testing.assert_allclose(apply_shock(values, op, value), expected)
    np.testing.assert_array_equal(values, [2.0, 6.0, 9.0])  # a new array; the input is kept


def test_apply_shock_is_vectorised_over_trials() -> None:
    """One value per trial (n, 1) against (n, countries): what the Monte Carlo passes."""
    cur = np.array([[1.0, 2.0], [3.0, 4.0], [9.0, 9.5]])
    per_trial = np.array([[1.0], [2.0], [3.0]])
    np.testing.assert_allclose(
        apply_shock(cur, ShockOperation.ADD, per_trial), [[2, 3], [5, 6], [10, 10]]
    )
    np.testing.assert_allclose(
        apply_shock(cur, ShockOperation.SET, per_trial), [[1, 1], [2, 2], [3, 3]]
    )
    np.testing.assert_allclose(
        apply_shock(cur, ShockOperation.SCALE, per_trial), [[1, 2], [6, 8], [10, 10]]
    )
    fractions = np.array([[0.0], [0.5], [1.0]])  # the headroom ops take fractions
    np.testing.assert_allclose(
        apply_shock(cur, ShockOperation.TOWARD_MAX, fractions), [[1, 2], [6.5, 7], [10, 10]]
    )
    headroom = {ShockOperation.TOWARD_MAX, ShockOperation.TOWARD_MIN}
    for op in ShockOperation:  # every operation applies trial by trial as its scalar form does
        v = fractions if op in headroom else per_trial
        by_row = [apply_shock(cur[i], op, float(v[i, 0])) for i in range(3)]
        np.testing.assert_allclose(apply_shock(cur, op, v), np.stack(by_row))


def test_unclamped_shock_is_the_operation_before_the_clamp() -> None:
    """What the clamp report compares with the clamped value: 9 + 3 = 12, 9 x 2 = 18."""
    values = np.array([1.0, 9.0])
    np.testing.assert_allclose(unclamped_shock(values, ShockOperation.ADD, 3.0), [4.0, 12.0])
    np.testing.assert_allclose(unclamped_shock(values, ShockOperation.ADD, -2.0), [-1.0, 7.0])
    np.testing.assert_allclose(unclamped_shock(values, ShockOperation.SCALE, 2.0), [2.0, 18.0])
    np.testing.assert_allclose(unclamped_shock(values, ShockOperation.SET, 4.0), [4.0, 4.0])
    np.testing.assert_allclose(unclamped_shock(values, ShockOperation.TOWARD_MAX, 0.5), [5.5, 9.5])
    for op in ShockOperation:
        np.testing.assert_allclose(
            apply_shock(values, op, 0.5), clamp_intensity(unclamped_shock(values, op, 0.5))
        )


def test_combined_damage_is_one_minus_the_product_of_survivals() -> None:
    d = np.array([[0.5, 0.5], [0.2, 0.0], [1.0, 0.3], [1.5, -0.2]])
    np.testing.assert_allclose(combined_damage(d), [0.75, 0.2, 1.0, 1.0])
    np.testing.assert_allclose(clamp_ratio([-0.1, 0.4, 1.2]), [0.0, 0.4, 1.0])
    combined, attributed = combine(d)
    np.testing.assert_allclose(combined, combined_damage(d))
    np.testing.assert_allclose(attributed.sum(axis=-1), combined)


def test_above_baseline_floors_at_zero() -> None:
    np.testing.assert_allclose(above_baseline(np.array([0.5, 0.2]), np.array([0.3, 0.4])), [0.2, 0])


# -- no second copy ----------------------------------------------------------------------------


def _is_ten(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return float(node.value) == 10.0
    name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", None)
    return name == "INTENSITY_MAX"


def _is_one(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value in (1, 1.0)


def _call_name(node: ast.Call) -> str | None:
    f = node.func
    return f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", None)


def _shock_operation(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "ShockOperation"
    )


def second_copies(source: str, path: str) -> list[str]:
    """Every clamp to 0-10, damage combination and shock branch outside its one definition."""
    out: list[str] = []
    tree = ast.parse(source, path)
    functions: dict[ast.AST, str] = {}  # node -> the innermost function around it
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for inner in ast.walk(fn):
                if inner is not fn:  # ast.walk goes outside in: inner functions overwrite
                    functions[inner] = fn.name
    for node in ast.walk(tree):
        where = f"{path}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Call) and _call_name(node) == "clip":
            bounds = [*node.args, *(k.value for k in node.keywords if k.arg in {"upper", "a_max"})]
            if any(_is_ten(b) for b in bounds) and path != INTENSITY_FILE:
                out.append(f"{where}: a clamp to the intensity scale; call clamp_intensity")
        if (
            isinstance(node, ast.BinOp)
            and isinstance(node.op, ast.Sub)
            and _is_one(node.left)
            and isinstance(node.right, ast.Call)
            and _call_name(node.right) == "prod"
            and path != DAMAGE_FILE
            and (path, functions.get(node, "")) not in OTHER_PRODUCTS
        ):
            out.append(f"{where}: 1 - prod(...) damage combination; call combined_damage")
        if isinstance(node, ast.Compare) and any(_shock_operation(c) for c in node.comparators):
            name = functions.get(node, "")
            allowed = (path == INTENSITY_FILE and name == "unclamped_shock") or name.endswith(
                "_text"
            )
            if not allowed:
                out.append(f"{where}: a branch on the shock operation; call apply_shock")
    return out


def test_no_second_copy_of_the_formulas() -> None:
    found: list[str] = []
    for file in sorted(PACKAGE.rglob("*.py")):
        rel = file.relative_to(PACKAGE.parent).as_posix()
        found += second_copies(file.read_text(encoding="utf-8"), rel)
    assert not found, "\n".join(found)


@pytest.mark.parametrize(
    "source",
    [
        "import numpy as np\nx = np.clip(v, 0.0, 10.0)\n",
        "from riskapp.domain.common import INTENSITY_MAX\nx = v.clip(0, INTENSITY_MAX)\n",
        "x = frame.clip(lower=0, upper=10)\n",
        "import numpy as np\ndef f(d):\n    return 1.0 - np.prod(1.0 - d, axis=-1)\n",
        "def f(op, v, x):\n    if op is ShockOperation.ADD:\n        return v + x\n",
    ],
)
def test_the_scan_finds_a_second_copy(source: str) -> None:
    assert second_copies(source, "riskapp/assessment/synthetic.py")


def test_the_scan_allows_the_definitions_and_wording() -> None:
    wording = "def _shock_text(op, v):\n    if op is ShockOperation.SET:\n        return 'set'\n"
    assert not second_copies(wording, "riskapp/engine/synthetic.py")
    assert not second_copies("x = np.clip(v, 0.0, 1.0)\n", "riskapp/engine/synthetic.py")
    for file in (INTENSITY_FILE, DAMAGE_FILE):
        assert not second_copies((PACKAGE.parent / file).read_text(encoding="utf-8"), file)
