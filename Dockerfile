# CWTS Desk: one image for every process (web, matcher, celery worker and beat, simulator).
# docker-compose.yml picks each container's command; the default is the web tier.

# -- The desk's front end: TypeScript bundled by Vite into ../static/desk --------------------
FROM node:20-slim AS frontend
WORKDIR /src/frontend
# The lock file alone first, so that a source change reuses the installed node_modules layer.
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend/ ./
RUN npm run build

# -- The application ------------------------------------------------------------------------
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore
WORKDIR /app

# Dependencies before the code, so that a code change reuses this layer. constraints.txt pins
# the dev tools as well; pip installs only what base.txt asks for, at the pinned versions.
COPY requirements/ requirements/
RUN pip install -r requirements/base.txt -c requirements/constraints.txt

COPY . .
# var/ is not copied and this image has no C compiler, so there is no mypyc build of the
# engine here: apps/matching/engine/__init__.py finds none and runs the engine as plain Python.
# Served by whitenoise straight from static/ (no collectstatic step; see project/settings.py).
COPY --from=frontend /src/static/desk/ static/desk/

# The code stays root-owned and read-only to the process; var/ is its only writable place.
RUN useradd --system --user-group --uid 10001 --home-dir /app --no-create-home desk \
    && mkdir -p var \
    && chown desk:desk var
USER desk

ENV DJANGO_SETTINGS_MODULE=project.settings PYTHONUNBUFFERED=1
EXPOSE 8000
CMD ["daphne", "-b", "0.0.0.0", "-p", "8000", "project.asgi:application"]
