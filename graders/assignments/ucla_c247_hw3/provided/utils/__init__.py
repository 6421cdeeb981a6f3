"""The course's ``utils`` package: the ``Solver`` training class and finite-difference checks."""
