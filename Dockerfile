# Production image: gunicorn serves the web app; the same image runs the Celery worker and beat.
FROM python:3.13-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    STATIC_ROOT=/app/staticfiles MERIDIAN_VAR_DIR=/app/var

WORKDIR /app
COPY pyproject.toml README.md ./
COPY controlplane ./controlplane
COPY lib ./lib
COPY accounts ./accounts
COPY regions ./regions
COPY watch ./watch
COPY sandbox ./sandbox
COPY deployer ./deployer
COPY front ./front
RUN pip install --no-cache-dir . && python -m deployer.toolkit
COPY . .
RUN useradd --system --home /app meridian && mkdir -p /app/var && chown -R meridian /app/var \
    && SECRET_KEY=build-only DEBUG=0 python manage.py collectstatic --noinput -v 0
USER meridian
EXPOSE 8000
CMD ["gunicorn", "controlplane.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
