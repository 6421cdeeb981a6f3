"""Small, documented mutation operators for numpy homework code, on the AST.

Each operator is a bug students really write; a mutant applies exactly one
of them at one place. The operators:

===================  =============================================================
``sign``             ``a + b`` ↔ ``a - b``; ``-x`` → ``x``
``drop-term``        ``a + b`` / ``a - b`` → ``a`` (a missing regulariser, a lost bias)
``mul-div``          ``a * b`` ↔ ``a / b``
``transpose``        ``x.T`` → ``x``
``reduce``           ``sum`` ↔ ``mean`` (method or ``np.`` function): mean↔sum over the batch
``axis``             ``axis=0`` ↔ ``axis=1``, ``axis=-1`` → ``axis=0``
``keepdims``         ``keepdims=True`` → ``False``
``off-by-one``       an integer in a slice or an index ± 1
``compare``          ``>`` ↔ ``>=``, ``<`` ↔ ``<=``, ``>`` ↔ ``<``
``first-call-only``  ``self.a = e`` in a method → ``self.a = getattr(self, 'a', e)``:
                     state (a cache, a velocity) that keeps its first value
``state-dropped``    ``obj[k] = e`` / ``self.a = e`` in a method removed: state never
                     carried to the next call (the value from ``__init__``, or a crash)
``constant-return``  ``return e`` → ``return zeros like e``
===================  =============================================================
"""

from __future__ import annotations

import ast
import copy
import difflib
from collections.abc import Iterator
from dataclasses import dataclass

ZEROS_HELPER = '''
def _dlgrade_zeros(value):
    import numpy as _np
    if isinstance(value, tuple | list):
        return type(value)(_dlgrade_zeros(v) for v in value)
    if isinstance(value, dict):
        return {k: _dlgrade_zeros(v) for k, v in value.items()}
    return _np.zeros_like(value) if hasattr(value, "shape") or isinstance(value, float) \\
        else value
'''

_SWAP_OPS: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult}
_SWAP_CMP: dict[type[ast.cmpop], tuple[type[ast.cmpop], ...]] = {
    ast.Gt: (ast.GtE, ast.Lt), ast.GtE: (ast.Gt,), ast.Lt: (ast.LtE, ast.Gt),
    ast.LtE: (ast.Lt,)}
_REDUCE = {"sum": "mean", "mean": "sum"}


@dataclass(frozen=True)
class Site:
    """Where one mutant applies: the n-th node in walk order, the operator, its variant."""

    node: int
    operator: str
    variant: int
    owner: str          # the top-level function or class it lies in
    line: int


@dataclass(frozen=True)
class Mutant:
    site: Site
    source: str
    diff: str


def _builds(top: ast.stmt) -> str | None:
    """The top-level variable a statement builds: the list or array it fills
    (``weights.append(...)``, ``w[0] = ...``) or else the first name it assigns (a loop's
    temporaries come after what it fills). A notebook initialises a network this way, and a
    problem that ``needs`` that variable grades the statement."""
    filled: list[str] = []
    assigned: list[str] = []
    for node in ast.walk(top):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            targets = [node.func]
        for target in targets:
            into = isinstance(target, ast.Subscript | ast.Attribute)
            while isinstance(target, ast.Subscript | ast.Attribute):
                target = target.value
            if isinstance(target, ast.Name) and target.id not in ("np", "torch", "plt"):
                (filled if into else assigned).append(target.id)
    return (filled or assigned or [None])[0]


def _owners(tree: ast.Module) -> dict[int, tuple[str, bool]]:
    """Node id -> (owner, inside a method other than __init__): the top-level def or class
    it lies in, or the variable its top-level statement builds (``_builds``)."""
    owners: dict[int, tuple[str, bool]] = {}
    for top in tree.body:
        if not isinstance(top, ast.FunctionDef | ast.ClassDef):
            if (built := _builds(top)) is not None:
                for node in ast.walk(top):
                    owners[id(node)] = (built, False)
            continue
        for node in ast.walk(top):
            owners[id(node)] = (top.name, False)
        if isinstance(top, ast.ClassDef):
            for method in top.body:
                if isinstance(method, ast.FunctionDef) and method.name != "__init__":
                    for node in ast.walk(method):
                        owners[id(node)] = (top.name, True)
    return owners


def _variants(node: ast.AST, in_method: bool) -> Iterator[tuple[str, int]]:
    if isinstance(node, ast.BinOp):
        if type(node.op) in _SWAP_OPS:
            yield ("sign" if isinstance(node.op, ast.Add | ast.Sub) else "mul-div"), 0
        if isinstance(node.op, ast.Add | ast.Sub):
            yield "drop-term", 0
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        yield "sign", 1
    elif isinstance(node, ast.Attribute) and node.attr == "T":
        yield "transpose", 0
    elif isinstance(node, ast.Attribute) and node.attr in _REDUCE:
        yield "reduce", 0
    elif isinstance(node, ast.keyword) and node.arg == "axis" and _int(node.value) in (0, 1, -1):
        yield "axis", 0
    elif isinstance(node, ast.keyword) and node.arg == "keepdims" and _const(node.value) is True:
        yield "keepdims", 0
    elif isinstance(node, ast.Slice):
        for k, part in enumerate((node.lower, node.upper)):
            if _int(part) is not None:
                yield "off-by-one", k
    elif isinstance(node, ast.Subscript) and _int(node.slice) is not None:
        yield "off-by-one", 2
    elif isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _SWAP_CMP:
        for k in range(len(_SWAP_CMP[type(node.ops[0])])):
            yield "compare", k
    elif isinstance(node, ast.Assign) and len(node.targets) == 1:
        target = node.targets[0]
        if in_method and isinstance(target, ast.Attribute) and _is_self(target.value):
            yield "first-call-only", 0
            yield "state-dropped", 0
        elif isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
            yield "state-dropped", 0  # config['velocity'] = v: what the next call reads
    elif isinstance(node, ast.Return) and node.value is not None:
        yield "constant-return", 0


def _int(node: ast.AST | None) -> int | None:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _int(node.operand)
        return -inner if inner is not None else None
    value = _const(node)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _const(node: ast.AST | None) -> object:
    return node.value if isinstance(node, ast.Constant) else None


def _is_self(node: ast.AST) -> bool:
    return isinstance(node, ast.Name) and node.id == "self"


def sites(source: str, owners: set[str] | None = None) -> list[Site]:
    """Every mutation site in code owned by one of ``owners`` (all top-level code if None)."""
    tree = ast.parse(source)
    owned = _owners(tree)
    found = []
    for n, node in enumerate(ast.walk(tree)):
        if id(node) not in owned:
            continue
        owner, in_method = owned[id(node)]
        if owners is not None and owner not in owners:
            continue
        for operator, variant in _variants(node, in_method):
            found.append(Site(n, operator, variant, owner, getattr(node, "lineno", 0)))
    return found


def apply(source: str, site: Site) -> Mutant:
    tree = ast.parse(source)
    original = ast.unparse(tree)
    mutated = copy.deepcopy(tree)
    parents = {id(child): parent for parent in ast.walk(mutated)
               for child in ast.iter_child_nodes(parent)}
    node = next(n for k, n in enumerate(ast.walk(mutated)) if k == site.node)
    replacement = _mutate(node, site)
    if replacement is not node:
        _replace(parents[id(node)], node, replacement)
    ast.fix_missing_locations(mutated)
    text = ast.unparse(mutated)
    if site.operator == "constant-return":
        text = text + "\n" + ZEROS_HELPER  # after the code: a __future__ import stays first
    diff = "\n".join(line for line in difflib.unified_diff(
        original.splitlines(), ast.unparse(mutated).splitlines(), lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---")))
    return Mutant(site, text, diff)


def _mutate(node: ast.AST, site: Site) -> ast.AST:
    op, k = site.operator, site.variant
    if op in ("sign", "mul-div") and isinstance(node, ast.BinOp):
        node.op = _SWAP_OPS[type(node.op)]()
    elif op == "sign" and isinstance(node, ast.UnaryOp):
        return node.operand
    elif op == "drop-term" and isinstance(node, ast.BinOp):
        return node.left
    elif op == "transpose" and isinstance(node, ast.Attribute):
        return node.value
    elif op == "reduce" and isinstance(node, ast.Attribute):
        node.attr = _REDUCE[node.attr]
    elif op == "axis" and isinstance(node, ast.keyword):
        node.value = ast.Constant({0: 1, 1: 0, -1: 0}[_int(node.value)])  # type: ignore[index]
    elif op == "keepdims" and isinstance(node, ast.keyword):
        node.value = ast.Constant(False)
    elif op == "off-by-one" and isinstance(node, ast.Slice):
        field = ("lower", "upper")[k]
        setattr(node, field, ast.Constant(_int(getattr(node, field)) + 1))  # type: ignore[operator]
    elif op == "off-by-one" and isinstance(node, ast.Subscript):
        node.slice = ast.Constant(_int(node.slice) + 1)  # type: ignore[operator]
    elif op == "compare" and isinstance(node, ast.Compare):
        node.ops = [_SWAP_CMP[type(node.ops[0])][k]()]
    elif op == "first-call-only" and isinstance(node, ast.Assign):
        target = node.targets[0]
        assert isinstance(target, ast.Attribute)
        node.value = ast.Call(ast.Name("getattr", ast.Load()),
                              [ast.Name("self", ast.Load()), ast.Constant(target.attr),
                               node.value], [])
    elif op == "state-dropped" and isinstance(node, ast.Assign):
        return ast.Pass()
    elif op == "constant-return" and isinstance(node, ast.Return):
        assert node.value is not None
        node.value = ast.Call(ast.Name("_dlgrade_zeros", ast.Load()), [node.value], [])
    return node


def _replace(parent: ast.AST, old: ast.AST, new: ast.AST) -> None:
    for field, value in ast.iter_fields(parent):
        if value is old:
            setattr(parent, field, new)
            return
        if isinstance(value, list):
            for i, item in enumerate(value):
                if item is old:
                    value[i] = new
                    return
    raise ValueError("mutation site not found under its parent")
