# A Celery grading worker. It starts one bubblewrap sandbox per problem, which
# needs root inside the container, bubblewrap and util-linux (unshare,
# setpriv, prlimit, mount), libseccomp (the sandbox's syscall filter), and the
# container settings in docs/operations.md.
# Build from the repository root: docker build -f docker/worker.Dockerfile .
# BASE_IMAGE: any Debian-based image with Python 3.11 and its venv module (CI
# builds one without a registry: scripts/ci-containers.sh).
# WITH_TORCH=1 installs PyTorch for the PyTorch assignments. PIP_OPTIONS are added
# to `pip install` (CI: --no-index --find-links /wheels, a directory of wheels,
# torch's among them, bind-mounted into the build rather than downloaded).
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}

ARG WITH_TORCH=0
ARG PIP_OPTIONS=
# A venv: Debian's own python3 refuses `pip install` into the system (PEP 668). Not
# /opt/dlgrade: that path is the sandbox's own (graders/sandbox/bwrap.py).
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 PATH=/opt/venvs/dlgrade/bin:$PATH \
    DLGRADE_STATE_DIR=/var/lib/dlgrade DLGRADE_DATA_DIR=/var/lib/dlgrade-datasets
RUN apt-get update \
 && apt-get install -y --no-install-recommends bubblewrap libseccomp2 util-linux \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app

COPY pyproject.toml README.md* alembic.ini ./
COPY graders graders
COPY reference reference
COPY service service
RUN python3 -m venv /opt/venvs/dlgrade \
 && if [ "$WITH_TORCH" = "1" ]; then target='.[torch]'; else target=.; fi \
 && pip install $PIP_OPTIONS "$target"
COPY docker/worker-entrypoint.sh /usr/local/bin/dlgrade-worker-entrypoint

ENTRYPOINT ["/usr/local/bin/dlgrade-worker-entrypoint"]
CMD ["python", "-m", "service", "worker", "--queues", "grading,training,regrade"]
