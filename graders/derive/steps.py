"""Optimiser updates in CS231n's form: ``next_w, config = sgd_momentum(w, dw, config)``.

The second and third steps take the config the student's code returned, so
state kept between steps (velocity, moment estimates, the step count) must
be carried in it and be right, not only the first update.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from ..engine.errors import WrongValue
from ..engine.proxy import Student
from ..results import CheckResult
from ..spec import Context
from .common import copies, same_as, untouched
from .inputs import Arg, draw, draw_dims, symbols

Checks = Iterator[CheckResult]
STEPS = 3


def step_checks(name: str, args: Mapping[str, Arg], config: Mapping[str, float],
                reference: Callable[..., Any], *, tol: float
                ) -> Callable[[Student, Context], Checks]:
    call = f"{name}({', '.join(args)}, config)"

    def problem(student: Student, ctx: Context) -> Checks:
        dims = draw_dims(symbols(args), ctx.rng)
        values = draw(args, dims, ctx.rng)
        w_name = next(iter(args))
        theirs: dict[str, Any] = dict(config)
        ours: dict[str, Any] = dict(config)
        w_theirs, w_ours = values[w_name], values[w_name].copy()
        verdicts = []
        for n in range(1, STEPS + 1):
            grads = {k: v for k, v in draw(args, dims, ctx.rng).items() if k != w_name}
            got, after = student.call_watching_args(name, w_theirs, *grads.values(), theirs)
            if not (isinstance(got, tuple | list) and len(got) == 2
                    and isinstance(got[1], dict)):
                raise WrongValue(f"{call} should return (next_{w_name}, config).")
            w_ours, ours = reference(w_ours.copy(), *copies(grads).values(), dict(ours))
            verdicts.append(same_as(f"{call}, step {n}", {f"next_{w_name}": got[0]},
                                    {f"next_{w_name}": w_ours}, tol=tol))
            if n == 1:
                first_after = after
                sent = (w_theirs, *grads.values())
            w_theirs, theirs = np.asarray(got[0]), dict(got[1])
            w_theirs = w_ours if not verdicts[-1].ok else w_theirs
        yield verdicts[0]
        later = next((v for v in verdicts[1:] if not v.ok), verdicts[-1])
        yield replace(later, name=f"{call}, later steps")
        yield untouched(f"{call} leaves its inputs unchanged",
                        ((f"its input {k}", v, a) for k, v, a in
                         zip(args, sent, first_after, strict=False)))

    return problem
