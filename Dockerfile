# syntax=docker/dockerfile:1
# Production image of codesign-playground: the API (default command) and the job worker
# (command: python -m codesign_playground.worker) from one image.
#   docker build -t codesign-playground:0.1.0 .
# Runs as uid 1000 with a read-only root file system; the only writable paths are the
# volumes /tmp and /app/cache (CODESIGN_DATA_DIR: the embedded SQLite database and caches).

# ---- build: a virtual environment with the package and its [service] extra ----------------
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY pyproject.toml README.md LICENSE ./
COPY src ./src
# a non-editable install, byte-compiled now because the root file system is read-only later
RUN pip install --no-cache-dir "/src[service]" \
    && python -m compileall -q /opt/venv/lib

# ---- runtime ---------------------------------------------------------------------------------
FROM python:3.11-slim AS runtime
LABEL org.opencontainers.image.title="codesign-playground" \
      org.opencontainers.image.description="AI hardware co-design playground: API and job worker" \
      org.opencontainers.image.licenses="MIT"
RUN groupadd --gid 1000 codesign \
    && useradd --uid 1000 --gid 1000 --home-dir /app --no-create-home --shell /usr/sbin/nologin codesign \
    && mkdir -p /app/cache /app/config \
    && chown 1000:1000 /app/cache
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
# migrations run with: python scripts/init_db.py (an init container in Kubernetes)
COPY scripts/init_db.py scripts/init_db.sql /app/scripts/
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    CODESIGN_ENV=production \
    CODESIGN_DATA_DIR=/app/cache \
    API_HOST=0.0.0.0 \
    API_PORT=8000 \
    API_WORKERS=1 \
    AUTH_MODE=api-key \
    FORWARDED_ALLOW_IPS=""
USER 1000:1000
EXPOSE 8000
VOLUME ["/tmp", "/app/cache"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('API_PORT', '8000'), timeout=4).read()"]
# X-Forwarded-For is believed only from FORWARDED_ALLOW_IPS (the ingress; empty: nobody), so a
# client cannot pick its own rate-limit bucket; uvicorn and the app read the same variable.
# several uvicorn processes share their Prometheus metrics through PROMETHEUS_MULTIPROC_DIR
CMD ["sh", "-c", "if [ \"${API_WORKERS}\" -gt 1 ]; then export PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus-multiproc; rm -rf \"$PROMETHEUS_MULTIPROC_DIR\"; mkdir -p \"$PROMETHEUS_MULTIPROC_DIR\"; fi; exec uvicorn codesign_playground.server:app --host \"$API_HOST\" --port \"$API_PORT\" --workers \"$API_WORKERS\" --proxy-headers --forwarded-allow-ips \"$FORWARDED_ALLOW_IPS\" --no-server-header"]
