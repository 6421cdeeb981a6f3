# The HTTP API. It never runs student code, so it runs unprivileged.
# Build from the repository root: docker build -f docker/api.Dockerfile .
# BASE_IMAGE: any Debian-based image with Python 3.11 and its venv module (CI
# builds one without a registry: scripts/ci-containers.sh). PIP_OPTIONS are added
# to `pip install` (CI: --no-index --find-links /wheels, a bind-mounted wheel directory).
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}

ARG PIP_OPTIONS=

# A venv: Debian's own python3 refuses `pip install` into the system (PEP 668). Not
# /opt/dlgrade: that path is the sandbox's own (graders/sandbox/bwrap.py).
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 PATH=/opt/venvs/dlgrade/bin:$PATH \
    DLGRADE_STATE_DIR=/var/lib/dlgrade
WORKDIR /app

COPY pyproject.toml README.md* alembic.ini ./
COPY graders graders
COPY reference reference
COPY service service
RUN python3 -m venv /opt/venvs/dlgrade \
 && pip install $PIP_OPTIONS . \
 && useradd --system --uid 10001 --home-dir /var/lib/dlgrade dlgrade \
 && mkdir -p /var/lib/dlgrade/submissions /var/lib/dlgrade-bundles \
 && chown -R dlgrade /var/lib/dlgrade /var/lib/dlgrade-bundles

USER dlgrade
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=4)"]
# Migrates, creates the first admin on an empty database (printed to the log), serves.
CMD ["python", "-m", "service", "serve", "--host", "0.0.0.0", "--port", "8000"]
