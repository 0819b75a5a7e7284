# onboard-bot: one image for every replica. Build: docker build -t onboard-bot .
# Settings come from the environment (see README, Configuration); nothing secret is baked in.

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY services ./services
# The installed package (not the source tree), into a prefix the final stage copies whole.
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin bot
COPY --from=build /install /usr/local
USER bot
# Writable by the bot: the SQLite file and the sandbox tenant when run without DATABASE_URL or
# Autotask credentials (a single container trying things out).
WORKDIR /home/bot
ENV HOST=0.0.0.0 PORT=3000
EXPOSE 3000
# Liveness only: /healthz answers while the process runs, draining or not. Load balancers that
# can probe should use /readyz.
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '3000'), timeout=2)"]
# SIGTERM starts the graceful shutdown (SHUTDOWN_TIMEOUT); exec form, so the bot is PID 1 and
# receives it directly.
STOPSIGNAL SIGTERM
ENTRYPOINT ["onboard-bot"]
CMD ["run"]
