"""One exception tree for the whole engine.

    DlgradeError
    ├── SubmissionError          the student's upload cannot be graded as given
    │   ├── UnreadableNotebook   not JSON, not nbformat 4, not UTF-8
    │   ├── UnsafeArchive        zip slip, links, bombs, too many or too large files
    │   ├── CodeTooLarge         more code, or code more costly to parse, than the grader reads
    │   ├── NothingToGrade       no code file, or none of the files the assignment expects
    │   └── NameNotFound         a graded name is missing from the submission
    ├── SandboxError             the untrusted process did not finish normally
    │   ├── SandboxUnavailable   bubblewrap or cgroups missing: grading cannot run
    │   ├── TimeLimit            wall-clock or CPU budget exhausted
    │   ├── MemoryLimit          the memory cgroup killed the process tree
    │   ├── OutputLimit          too much data on the result channel
    │   ├── ProtocolError        the harness answered with something malformed
    │   └── SandboxCrashed       it exited or died mid-probe
    ├── ReadingFailed            the child process that reads code failed (not the code's fault)
    ├── SpecError                an assignment spec is wrong (an instructor's bug)
    │   └── BundleError          an assignment bundle cannot be loaded; names the file
    └── UnknownAssignment        no grader has this slug

Messages are written for the person who can act on them: the student for
``SubmissionError`` and ``SandboxError``, the instructor for the rest.
"""


class DlgradeError(Exception):
    """Base of every error the engine raises on purpose."""


class SubmissionError(DlgradeError):
    pass


class UnreadableNotebook(SubmissionError):
    pass


class UnsafeArchive(SubmissionError):
    pass


class CodeTooLarge(SubmissionError):
    pass


class NothingToGrade(SubmissionError):
    pass


class NameNotFound(SubmissionError):
    pass


class SandboxError(DlgradeError):
    pass


class SandboxUnavailable(SandboxError):
    pass


class TimeLimit(SandboxError):
    pass


class MemoryLimit(SandboxError):
    pass


class OutputLimit(SandboxError):
    pass


class ProtocolError(SandboxError):
    pass


class SandboxCrashed(SandboxError):
    pass


class ReadingFailed(DlgradeError):
    pass


class SpecError(DlgradeError):
    pass


class BundleError(SpecError):
    """A bundle that cannot be loaded; the message starts with the file to fix."""

    def __init__(self, path: object, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class UnknownAssignment(DlgradeError):
    pass
