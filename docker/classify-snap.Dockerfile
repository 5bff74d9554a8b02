# The `classify` step with ESA SNAP, for `engine: snap`: the classify image plus SNAP (its `gpt`),
# OpenJDK and esa-snappy. SNAP's installer comes only from ESA's download server, which these
# development machines cannot reach: scripts/docker-build-images.sh builds this image only when
# S1FLOOD_BUILD_SNAP=1 (the release workflow sets it) and says it skipped it otherwise.
# S1FLOOD_CLASSIFY: the classify image (docker/classify.Dockerfile) tagged with the version.
ARG S1FLOOD_CLASSIFY
FROM ${S1FLOOD_CLASSIFY}
ARG SNAP_VERSION=12.0.0
ARG SNAP_INSTALLER_URL=https://download.esa.int/step/snap/12.0/installers/esa-snap_sentinel_linux-12.0.0.sh
USER root
ENV SNAP_HOME=/opt/snap \
    S1FLOOD_SNAP_HOME=/opt/snap
RUN --mount=type=secret,id=ca --mount=type=secret,id=pipconf \
    set -eu; \
    if [ -s /run/secrets/ca ]; then export PIP_CERT=/run/secrets/ca CURL_CA_BUNDLE=/run/secrets/ca; fi; \
    if [ -s /run/secrets/pipconf ]; then export PIP_CONFIG_FILE=/run/secrets/pipconf; fi; \
    apt-get update -q \
    && apt-get install -y -q --no-install-recommends openjdk-17-jre-headless curl \
    && curl -fsSL -o /tmp/snap.sh "$SNAP_INSTALLER_URL" \
    && printf 'deleteAllSnapEngineDir$Boolean=false\ndeleteOnlySnapDesktopDir$Boolean=true\nexecuteLauncherWithPythonAction$Boolean=false\nforcePython$Boolean=false\npythonExecutable=/opt/s1flood/venv/bin/python\nsys.installationDir=/opt/snap\nsys.languageId=en\nsys.programGroupDisabled$Boolean=true\n' >/tmp/snap.varfile \
    && sh /tmp/snap.sh -q -varfile /tmp/snap.varfile \
    && rm -f /tmp/snap.sh /tmp/snap.varfile \
    && apt-get purge -y curl && rm -rf /var/lib/apt/lists/* \
    && pip install --no-cache-dir --quiet "esa-snappy>=1.1" \
    && /opt/snap/bin/gpt -h >/dev/null
USER s1flood
LABEL org.opencontainers.image.title="s1flood-classify-snap" \
      org.opencontainers.image.description="s1flood classify step with ESA SNAP ${SNAP_VERSION}"
