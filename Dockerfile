# syntax=docker/dockerfile:1
# promotebot's container image, after astral-sh/uv-docker-example's multistage.Dockerfile:
# a builder stage makes a virtualenv (dependencies in their own cached layer, then the
# project), and a slim runtime stage gets only that venv, git and a numeric non-root user.
# No token or secret is ever an ARG or ENV here: they come from the environment at run time
# (the Helm chart's Secret). Build: docker build -t promotebot .

# Both stages use the same image, so the venv's interpreter path is valid in the runtime.
# The Debian release is pinned in the tag so that a rebuild gets the same git and glibc.
FROM python:3.11-slim-trixie AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv
ENV PATH="/opt/venv/bin:$PATH"

WORKDIR /src

# 1. Dependencies only: this layer is rebuilt when pyproject.toml changes, not on every
#    source edit. The list is read from [project].dependencies (no lock file yet).
COPY pyproject.toml ./
RUN python -c "import tomllib; deps = tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']; open('/tmp/requirements.txt', 'w').write('\n'.join(deps) + '\n')" \
    && pip install --no-cache-dir -r /tmp/requirements.txt

# 2. The project itself, without touching the dependencies installed above.
COPY README.md ./
COPY slackbot ./slackbot
COPY handlers ./handlers
COPY sandbox ./sandbox
COPY promotebot ./promotebot
RUN pip install --no-cache-dir --no-deps . \
    && python -m compileall -q /opt/venv


FROM python:3.11-slim-trixie AS runtime

# GitPython shells out to git (reverts, cherry-picks, hotfix branches); ca-certificates for
# HTTPS to GitHub. Versions are not pinned on purpose: pins of Debian package versions break
# the build whenever the security archive moves on, and the tag above already fixes the release.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends git ca-certificates \
    && rm -rf /var/lib/apt/lists/*

# A numeric user: the kubelet's runAsNonRoot can only verify a number, not a name.
# Home in /tmp-like places is set by the chart (HOME=/tmp) when the root filesystem is read-only.
RUN groupadd --system --gid 10001 promotebot \
    && useradd --system --uid 10001 --gid 10001 --home-dir /home/promotebot --create-home \
       --shell /usr/sbin/nologin promotebot

COPY --from=builder /opt/venv /opt/venv

ENV PATH="/opt/venv/bin:$PATH" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PROMOTEBOT_HOST=0.0.0.0 \
    PROMOTEBOT_PORT=3000

USER 10001:10001
WORKDIR /home/promotebot

EXPOSE 3000

# Docker and Compose use this; Kubernetes ignores it and uses the chart's probes instead.
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PROMOTEBOT_PORT', '3000') + '/healthz', timeout=2).status == 200 else 1)"]

ENTRYPOINT ["promotebot"]
CMD ["serve"]
