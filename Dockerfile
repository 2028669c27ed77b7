FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
RUN apt-get update && apt-get install -y --no-install-recommends gcc libpq-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY ccsync ccsync
COPY integrations integrations
COPY tenants tenants
COPY sandbox sandbox
COPY templates templates
COPY manage.py ./
# collectstatic runs only the static files checks: no secrets are needed at build time.
RUN pip install --no-cache-dir . && python manage.py collectstatic --noinput
RUN useradd --create-home ccsync && mkdir -p /app/var && chown ccsync /app/var
USER ccsync
EXPOSE 8000
# The config runs the settings checks first: the container exits on an unsafe configuration.
CMD ["gunicorn", "ccsync.wsgi", "-c", "python:ccsync.gunicorn_conf", "-b", "0.0.0.0:8000", "--workers", "3", "--threads", "4"]
