# slotgate container image.
#   build stage:   Debian bookworm toolchain + the -dev packages CMakeLists.txt finds,
#                  Release build of the slotgate target only.
#   runtime stage: bookworm-slim with the shared libraries the binary links, the
#                  binary, and config/slotgate.k8s.yaml; runs as uid 10001.
# Works with Docker/BuildKit and with podman 4.3 / buildah (hence no COPY --link and
# no heredoc RUN). Build: docker build -t slotgate:0.1.0 .

FROM debian:bookworm-slim AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates cmake g++ make pkg-config \
      libuv1-dev libhiredis-dev libyaml-cpp-dev prometheus-cpp-dev \
      libspdlog-dev libfmt-dev libcli11-dev libssl-dev catch2 node-llhttp \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Only what the build reads (CMakeLists.txt globs tests/unit at configure time).
COPY CMakeLists.txt ./
COPY proxy ./proxy
COPY tests/unit ./tests/unit
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DSLOTGATE_WERROR=ON \
 && cmake --build build -j2 --target slotgate \
 && strip build/slotgate

FROM debian:bookworm-slim
# Runtime libraries only: keep this list in step with `ldd slotgate` (checked below).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libuv1 libhiredis0.14 libyaml-cpp0.7 libprometheus-cpp-core1.0 libspdlog1.10 libfmt9 libssl3 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 slotgate \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin slotgate
COPY --from=build /src/build/slotgate /usr/local/bin/slotgate
COPY config/slotgate.k8s.yaml /etc/slotgate/slotgate.yaml
# Fail the build, not the first start, when a shared library is missing.
RUN if ldd /usr/local/bin/slotgate | grep 'not found'; then exit 1; fi
# Numeric user: Kubernetes' runAsNonRoot can only verify a numeric USER.
USER 10001:10001
EXPOSE 6379 9121
# Docker/podman only (Kubernetes uses the probes in k8s/base): slim has no curl, so
# bash's /dev/tcp asks the admin port for /healthz.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/9121 && printf 'GET /healthz HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -n1 <&3 | grep -q ' 200'"]
ENTRYPOINT ["/usr/local/bin/slotgate"]
CMD ["--config", "/etc/slotgate/slotgate.yaml"]
