"""Assignment bundles: a course's spec, secret reference and provided code, with a manifest.

    my-course-hw2/
      dlgrade-bundle.toml   slug, title, version, the dlgrade versions it needs
      spec.py               defines ``assignment`` (trusted; runs only in the grader)
      reference/            the secret solution (never enters a sandbox)
      provided/             code the course hands out (runs beside the student's)

Bundles come from dlgrade itself (the seed assignments), from folders and
zips listed in ``DLGRADE_ASSIGNMENTS_PATH``, and from installed packages that
declare a ``dlgrade.assignments`` entry point; all load the same way.
"""

from .loading import load_assignment
from .manifest import MANIFEST_NAME, Manifest, read_manifest
from .registry import Registry
from .sources import ENTRY_POINT_GROUP, PATH_ENV, Bundle, discover

__all__ = ["ENTRY_POINT_GROUP", "MANIFEST_NAME", "PATH_ENV", "Bundle", "Manifest", "Registry",
           "discover", "load_assignment", "read_manifest"]
