# syntax=docker/dockerfile:1
# One image for every FrameForge process (docs/deploy.md):
#   API            uvicorn frameforge_api.main:app --host 0.0.0.0 --port 8000   (the default)
#   worker         frameforge worker
#   migrations     frameforge migrate
#   code server    dagster api grpc -h 0.0.0.0 -p 3030 -m frameforge_pipeline.definitions
#   Dagster runs   dagster api execute_run ...   (K8sRunLauncher sets the arguments)
# The entrypoint is only tini (signals, zombie reaping): Kubernetes `args`, which the Dagster
# chart and the run launcher set, and compose `command` replace CMD and run as they are.

# --- builder: the project's wheel and a wheel of each dependency --------------------------------
# The full Debian image has a compiler and headers, should a dependency have no wheel.
FROM python:3.11-bookworm AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /src
# pyproject.toml, README.md (the package's readme) and the packages; .dockerignore keeps out
# tests, virtualenvs, caches, data dirs and anything secret.
COPY . .
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

# --- runtime --------------------------------------------------------------------------------------
FROM python:3.11-slim-bookworm AS runtime

# tini as PID 1. Pinned to Debian 12's build; the base image is pinned to Debian 12 for that.
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini=0.19.0-1+b3 \
    && rm -rf /var/lib/apt/lists/*

# An unprivileged user with a numeric id (Kubernetes' runAsNonRoot can check it), and the dirs
# that volumes are mounted on: the Dagster instance dir, its local storage, the data dir.
RUN groupadd --system --gid 10001 frameforge \
    && useradd --system --uid 10001 --gid frameforge --home-dir /home/frameforge \
        --create-home --shell /usr/sbin/nologin frameforge \
    && mkdir -p /opt/dagster/dagster_home /opt/dagster/storage /var/lib/frameforge \
    && chown -R frameforge:frameforge /opt/dagster /var/lib/frameforge

# The wheels are bind-mounted from the builder, so they are not a layer of this image; nothing
# is compiled here, and no build tool, source tree or pip cache is left behind.
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index --find-links=/wheels --root-user-action=ignore \
        /wheels/frameforge-*.whl

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    FRAMEFORGE_HOME=/var/lib/frameforge

USER 10001:10001
WORKDIR /home/frameforge

EXPOSE 8000 3030

# The API's liveness; other roles set their own check (compose) or probes (Kubernetes, which
# ignores HEALTHCHECK).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(os.environ.get('FRAMEFORGE_HEALTHCHECK_URL', 'http://127.0.0.1:8000/health'), timeout=4)"]

ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["uvicorn", "frameforge_api.main:app", "--host", "0.0.0.0", "--port", "8000"]
