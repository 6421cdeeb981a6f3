"""Reference solutions for ucla-c247-hw3 (secret: never mounted in a sandbox).

The modules mirror the student's ``nndl`` package: ``neural_net``,
``layers`` and ``fc_net``. ``fc_net`` imports ``.layer_utils`` as a
student's file does; here that is the course's provided copy, loaded as a
submodule of this package.
"""

from graders.assignments.ucla_c247_hw3.provided import install_nndl_files

install_nndl_files(__name__)
