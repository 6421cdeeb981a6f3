# A Celery grading worker. It starts one bubblewrap sandbox per problem, which
# needs root inside the container, bubblewrap and util-linux (unshare,
# setpriv, prlimit, mount), libseccomp (the sandbox's syscall filter), and the
# container settings in docs/operations.md.
# Build from the repository root: docker build -f docker/worker.Dockerfile .
FROM python:3.11-slim

ARG WITH_TORCH=0
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    DLGRADE_STATE_DIR=/var/lib/dlgrade DLGRADE_DATA_DIR=/var/lib/dlgrade-datasets
RUN apt-get update \
 && apt-get install -y --no-install-recommends bubblewrap libseccomp2 util-linux \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app

COPY pyproject.toml README.md* alembic.ini ./
COPY graders graders
COPY reference reference
COPY service service
RUN if [ "$WITH_TORCH" = "1" ]; then pip install '.[torch]'; else pip install .; fi
COPY docker/worker-entrypoint.sh /usr/local/bin/dlgrade-worker-entrypoint

ENTRYPOINT ["/usr/local/bin/dlgrade-worker-entrypoint"]
CMD ["python", "-m", "service", "worker", "--queues", "grading,training,regrade"]
