"""dlgrade's grading engine: load a submission, run probes in a sandbox, score outside it."""

__version__ = "0.4.0"
