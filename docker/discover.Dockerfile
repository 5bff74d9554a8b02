# The `discover` step: the shared base layer plus notebooks/01-discover.ipynb, run by papermill with the
# `s1flood` kernel. Build: scripts/docker-build-images.sh (or `make images`).
# S1FLOOD_BASE: the base image built from docker/base.Dockerfile, tagged with the version.
ARG S1FLOOD_BASE
FROM ${S1FLOOD_BASE}
COPY notebooks/01-discover.ipynb /opt/s1flood/notebooks/
LABEL org.opencontainers.image.title="s1flood-discover" \
      org.opencontainers.image.source="https://github.com/s1flood/s1flood" \
      org.opencontainers.image.licenses="Apache-2.0"
