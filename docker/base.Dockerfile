# The shared base layer of every s1flood step image: Python 3.11 (Debian bookworm's), the project
# installed from its own files (pyproject.toml + src/) with the notebook extras, a Jupyter kernel
# named `s1flood`, a non-root user.
#
# Build (BuildKit, from the repository root; scripts/docker-build-images.sh does all of this):
#   DOCKER_BUILDKIT=1 docker build -f docker/base.Dockerfile -t ghcr.io/s1flood/s1flood-base:VERSION \
#     --secret id=ca,src=/etc/ssl/certs/ca-certificates.crt --secret id=pipconf,src=PIP_CONF .
# BASE_IMAGE defaults to Debian's official slim image pinned by its dated tag; where public
# registries cannot be reached, scripts/base-image.sh makes `local/debian:bookworm` with
# debootstrap and the build passes --build-arg BASE_IMAGE=local/debian:bookworm.
# The host's CA bundle and pip settings (index URL, which may hold a credential) arrive only as
# BuildKit secrets, mounted for the one RUN that needs them: nothing of them is in any layer.
ARG BASE_IMAGE=debian:bookworm-20250520-slim
FROM ${BASE_IMAGE}

ARG EXTRAS=notebooks,discovery
# scrapbook 0.5.0 imports six without declaring it (a venv made by `make install` has it by
# chance); drop this once the notebooks extra lists six.
ARG EXTRA_REQUIREMENTS=six
ENV DEBIAN_FRONTEND=noninteractive \
    LANG=C.UTF-8 \
    PATH=/opt/s1flood/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MPLBACKEND=Agg \
    S1FLOOD_PREBUILT_KERNELS=/opt/s1flood/kernels \
    S1FLOOD_NOTEBOOKS=/opt/s1flood/notebooks

RUN apt-get update -q \
    && apt-get install -y -q --no-install-recommends python3 python3-venv ca-certificates \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb \
    && python3 -m venv /opt/s1flood/venv \
    && useradd --create-home --uid 1000 --shell /bin/bash s1flood

# Dependencies first (cached while pyproject.toml is unchanged), then the project itself.
# (README.md is only metadata: a stub here, so editing it does not reinstall the stack)
COPY pyproject.toml /opt/s1flood/src/
COPY src/s1flood/_version.py /opt/s1flood/src/src/s1flood/_version.py
RUN --mount=type=secret,id=ca --mount=type=secret,id=pipconf \
    set -eu; \
    if [ -s /run/secrets/ca ]; then export PIP_CERT=/run/secrets/ca; fi; \
    if [ -s /run/secrets/pipconf ]; then export PIP_CONFIG_FILE=/run/secrets/pipconf; fi; \
    cd /opt/s1flood/src && touch README.md src/s1flood/__init__.py \
    && pip install --no-cache-dir --quiet --upgrade pip \
    && pip install --no-cache-dir --quiet ".[${EXTRAS}]" "${EXTRA_REQUIREMENTS}" \
    && pip uninstall --yes --quiet s1flood \
    && rm -rf src/s1flood build src/*.egg-info

COPY README.md /opt/s1flood/src/
COPY src /opt/s1flood/src/src
RUN --mount=type=secret,id=ca --mount=type=secret,id=pipconf \
    set -eu; \
    if [ -s /run/secrets/ca ]; then export PIP_CERT=/run/secrets/ca; fi; \
    if [ -s /run/secrets/pipconf ]; then export PIP_CONFIG_FILE=/run/secrets/pipconf; fi; \
    pip install --no-cache-dir --quiet --no-deps /opt/s1flood/src \
    && rm -rf /opt/s1flood/src/build /opt/s1flood/src/src/*.egg-info \
    && python -c "import s1flood; s1flood.discover" \
    && python -m ipykernel install --sys-prefix --name s1flood --display-name "s1flood (Python 3)" \
    && mkdir -p "$S1FLOOD_NOTEBOOKS" \
    && s1flood --help >/dev/null \
    && NUMBA_CACHE_DIR="$S1FLOOD_PREBUILT_KERNELS" s1flood -q demo --size tiny --scenes 2 \
       --out-dir /tmp/warm-kernels >/dev/null \
    && rm -rf /tmp/warm-kernels

USER s1flood
WORKDIR /home/s1flood
CMD ["s1flood", "--help"]
