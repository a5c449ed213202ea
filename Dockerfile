# syntax=docker/dockerfile:1
# One image for every FrameForge process (docs/deploy.md):
#   API            uvicorn frameforge_api.main:app --host 0.0.0.0 --port 8000   (the default)
#   worker         frameforge worker
#   migrations     frameforge migrate
#   code server    dagster api grpc -h 0.0.0.0 -p 3030 -m frameforge_pipeline.definitions --log-format json
#   webserver      dagster-webserver -w WORKSPACE --log-format json
#   daemon         frameforge daemon -w WORKSPACE --log-format json   (compose: dagster-daemon run
#                  under the heartbeat watch; the chart runs dagster-daemon with a liveness probe)
#   Dagster runs   dagster api execute_run ...   (K8sRunLauncher sets the arguments)
# The entrypoint is only tini (signals, zombie reaping): Kubernetes `args`, which the Dagster
# chart and the run launcher set, and compose `command` replace CMD and run as they are.
#
# Build: `docker build .` (or `podman build --format docker .`, which keeps the HEALTHCHECK).
# Behind a TLS-intercepting proxy, give pip its CA certificate as a build secret; it is mounted
# only while pip runs and is in no layer: `--secret id=pip-ca,src=/path/to/ca.crt`.
#
# Layers, from the least to the most often changed: Debian's tini and the user; the locked
# dependencies (requirements/runtime.txt, ~1 GB: rebuilt only when the lock changes); the
# project itself (a few hundred kB: what a code change rebuilds). Nothing is bind-mounted from
# another stage: podman 4.3 / buildah 1.28 take such a RUN from their cache after the other
# stage changed, and the image keeps the old code. COPY --from is keyed on what it copies.

# --- builder: the project's wheel, installed into a staging root ----------------------------------
FROM docker.io/library/python:3.11-slim-bookworm AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

WORKDIR /src
# pyproject.toml, README.md (the package's readme) and the packages; .dockerignore keeps out
# tests, virtualenvs, caches, data dirs and anything secret.
COPY . .
# The build backend (hatchling, pinned in pyproject.toml) comes from the index; the wheel is
# installed without its dependencies (the runtime stage has them) under /staging, byte-compiled
# for the paths it will have at run time.
RUN --mount=type=secret,id=pip-ca \
    if [ -s /run/secrets/pip-ca ]; then export PIP_CERT=/run/secrets/pip-ca; fi \
    && python -m venv --without-pip /opt/frameforge \
    && pip wheel --no-cache-dir --no-deps --wheel-dir /wheels . \
    && pip --python /opt/frameforge/bin/python install --no-cache-dir --no-deps --no-compile \
        --no-warn-script-location --root /staging /wheels/frameforge-*.whl \
    && python -m compileall -q --invalidation-mode unchecked-hash -s /staging -p / \
        /staging/opt/frameforge/lib

# --- runtime --------------------------------------------------------------------------------------
FROM docker.io/library/python:3.11-slim-bookworm AS runtime

# tini as PID 1; `-e 143`: a process that stopped on SIGTERM after a clean shutdown (uvicorn
# re-raises the signal) exits 0, not 143, which `ps` and monitoring read as a crash.
# Pinned to Debian 12's build; the base image is pinned to Debian 12 for that.
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini=0.19.0-1+b3 \
    && rm -rf /var/lib/apt/lists/*

# An unprivileged user with a numeric id (Kubernetes' runAsNonRoot can check it), and the dirs
# that volumes are mounted on: the Dagster instance dir, its local storage, the data dir.
# A regular (not --system) account: 10001 is in the range of regular ids, so useradd has
# nothing to warn about.
RUN groupadd --gid 10001 frameforge \
    && useradd --uid 10001 --gid frameforge --no-log-init --home-dir /home/frameforge \
        --create-home --shell /usr/sbin/nologin frameforge \
    && mkdir -p /opt/dagster/dagster_home /opt/dagster/storage /var/lib/frameforge \
    && chown -R frameforge:frameforge /opt/dagster /var/lib/frameforge

# The locked dependencies, in a venv of their own (the same paths on every base image), from
# wheels only (no compiler here), every file checked against the lock's hashes; the lock is
# complete (uv resolved it), so pip resolves nothing (--no-deps) and `pip check` confirms it.
# The wheels are downloaded into a build cache first (pip skips those already there; its own
# HTTP cache stays empty behind a proxy that forbids caching), so they are in no layer and a
# change of the lock downloads only what changed; pip itself is not in the venv. Then what no
# process of the image runs is removed (docs/deploy.md, "What is in the image").
ENV VIRTUAL_ENV=/opt/frameforge \
    PATH=/opt/frameforge/bin:$PATH
COPY requirements/runtime.txt /opt/frameforge/requirements.txt
RUN --mount=type=cache,id=frameforge-wheels,target=/var/cache/frameforge-wheels \
    --mount=type=secret,id=pip-ca \
    if [ -s /run/secrets/pip-ca ]; then export PIP_CERT=/run/secrets/pip-ca; fi \
    && export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore \
    && wheels=/var/cache/frameforge-wheels lock=/opt/frameforge/requirements.txt \
    && pip download --no-cache-dir --quiet --only-binary=:all: --require-hashes --no-deps \
        -r "$lock" --dest "$wheels" \
    && python -m venv --without-pip /opt/frameforge \
    && pip --python /opt/frameforge/bin/python install --no-cache-dir --no-index \
        --find-links "$wheels" --only-binary=:all: --require-hashes --no-deps -r "$lock" \
    && pip --python /opt/frameforge/bin/python check \
    && site=/opt/frameforge/lib/python3.11/site-packages \
    && rm -rf "$site"/pyarrow/include "$site"/pyarrow/src "$site"/pyarrow/tests \
        "$site"/pyarrow/_pyarrow_cpp_tests* "$site"/websocket/tests \
    && find "$site"/numpy -depth -type d -name tests -exec rm -rf {} + \
    && find "$site"/pyarrow -name '*.pyx' -delete -o -name '*.pxd' -delete -o -name '*.pxi' -delete

# The project: its own files only (the wheel's contents and the `frameforge` command).
COPY --from=builder /staging/opt/frameforge/ /opt/frameforge/

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    FRAMEFORGE_HOME=/var/lib/frameforge

USER 10001:10001
WORKDIR /home/frameforge

EXPOSE 8000 3030

# The API's liveness, on the port the container's own process listens on (whatever --port it
# was given, with host networking too); other roles set their own check (compose) or probes
# (Kubernetes, which ignores HEALTHCHECK).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-m", "frameforge.healthcheck"]

ENTRYPOINT ["/usr/bin/tini", "-e", "143", "--"]
CMD ["uvicorn", "frameforge_api.main:app", "--host", "0.0.0.0", "--port", "8000"]
