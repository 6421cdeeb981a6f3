"""``dlgrade assignment check``: does the grader catch the bugs students write?"""

from .check import StrengthReport, check_assignment, solution_files
from .report import print_report, to_markdown

__all__ = ["StrengthReport", "check_assignment", "print_report", "solution_files",
           "to_markdown"]
