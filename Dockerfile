# agentgauge: the dashboard, API and refresh scheduler (`agentgauge serve`) as a non-root container.
#
#   docker build -t agentgauge .
#   docker run -d --name agentgauge -p 127.0.0.1:8777:8777 -v agentgauge-data:/data agentgauge
#
# Build arguments:
#   BASE_IMAGE  any Debian-like image with python3 (3.11+) and its venv module (default python:3.12-slim)
#   EXTRAS      the package's extras to install ("postgres" by default; "" for SQLite only)
#   UID, GID    the user the server runs as (1000 by default: jlesage/firefox's default USER_ID, so a
#               Firefox profile shared read-only from that container is readable)
# Behind a TLS-intercepting proxy, hand its CA bundle to pip for the build only (never kept in the image):
#   docker build --secret id=pip_ca,src=/etc/ssl/certs/ca-certificates.crt -t agentgauge .
# Deploying (compose layouts, tokens, reverse proxy, backups): docs/deploy.md.

ARG BASE_IMAGE=python:3.12-slim

FROM ${BASE_IMAGE} AS build
ARG EXTRAS=postgres
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
# binutils only here: stripping the wheels' shared libraries saves ~50 MB in the final image.
RUN apt-get update \
 && apt-get install -y --no-install-recommends binutils \
 && rm -rf /var/lib/apt/lists/*
RUN python3 -m venv /opt/agentgauge
COPY pyproject.toml README.md /src/
COPY src/ /src/src/
RUN --mount=type=secret,id=pip_ca \
    if [ -s /run/secrets/pip_ca ]; then export PIP_CERT=/run/secrets/pip_ca; fi \
 && /opt/agentgauge/bin/pip install "/src${EXTRAS:+[$EXTRAS]}" \
 && /opt/agentgauge/bin/pip uninstall -y pip setuptools \
 && find /opt/agentgauge -type f -name '*.so*' -exec strip --strip-unneeded {} + \
 && /opt/agentgauge/bin/agentgauge --version

FROM ${BASE_IMAGE}
ARG UID=1000
ARG GID=1000
LABEL org.opencontainers.image.title="agentgauge" \
      org.opencontainers.image.description="One view of every AI coding agent's usage limits" \
      org.opencontainers.image.licenses="MIT"
RUN groupadd --gid "${GID}" agentgauge \
 && useradd --uid "${UID}" --gid "${GID}" --home-dir /home/agentgauge --create-home --shell /usr/sbin/nologin agentgauge \
 && mkdir -p /data /etc/agentgauge \
 && chown agentgauge:agentgauge /data \
 && echo '# agentgauge settings (README "Configuration"): mount your own file over this one, read-only.' \
      > /etc/agentgauge/config.toml
COPY --from=build /opt/agentgauge /opt/agentgauge
# /data holds the database, the secret store and its key file (XDG_DATA_HOME -> /data/agentgauge);
# an optional config file is mounted read-only at /etc/agentgauge/config.toml.
ENV PATH=/opt/agentgauge/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    XDG_DATA_HOME=/data \
    AGENTGAUGE_CONFIG=/etc/agentgauge/config.toml \
    AGENTGAUGE_HEALTHCHECK_URL=http://127.0.0.1:8777/api/ping
USER agentgauge
WORKDIR /home/agentgauge
VOLUME ["/data"]
EXPOSE 8777
# /api/ping is open (no token) and answers as soon as the server listens, with or without --root-path.
# Serving on another port (e.g. with --network host)? Set AGENTGAUGE_HEALTHCHECK_URL to match.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python3", "-c", "import os, urllib.request as r; r.urlopen(os.environ['AGENTGAUGE_HEALTHCHECK_URL'], timeout=4)"]
# serve stops cleanly on SIGTERM (docker stop) and exits 0. Binding every interface needs a token:
# AGENTGAUGE_SERVE_TOKEN in the environment, or serve_token in the config file.
STOPSIGNAL SIGTERM
ENTRYPOINT ["agentgauge"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8777"]
