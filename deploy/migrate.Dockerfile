# demeu/migrate — every service's migrations in one image, for the one-shot `migrate`
# step of docker-compose.yml. Build from the repository root:
#   docker build -f deploy/migrate.Dockerfile -t demeu/migrate:latest .
# (Kubernetes runs one Job per service from the service's own image instead.)
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DEMEU_VAR_DIR=/app/var

WORKDIR /app
RUN useradd --system --uid 10001 --home-dir /app demeu

COPY constraints.txt ./
COPY libs/common ./libs/common
RUN pip install -c constraints.txt setuptools -e ./libs/common

COPY services ./services
RUN pip install -c constraints.txt -e ./services/campaigns -e ./services/payments \
        -e ./services/notifications -e ./services/talent \
    && mkdir -p "$DEMEU_VAR_DIR" && chown demeu "$DEMEU_VAR_DIR"
USER demeu

CMD ["demeu-migrate", "campaigns", "payments", "notifications", "talent"]
