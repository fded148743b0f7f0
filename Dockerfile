# Multi-stage build: a Rust builder, then a slim runtime with CA certificates
# (TLS targets) and git (documentation review dates), running as a non-root
# user. No HEALTHCHECK: orchestrators probe /-/healthy and /-/ready.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked && strip target/release/prodready-exporter

FROM debian:bookworm-slim
# OCI image annotations; CI passes the commit and date:
#   podman build --build-arg REVISION=$(git rev-parse HEAD) --build-arg CREATED=$(date -u +%FT%TZ) .
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="prodready-exporter" \
      org.opencontainers.image.description="Evaluates a production-readiness checklist against live systems and exposes it as Prometheus metrics" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.base.name="docker.io/library/debian:bookworm-slim"
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates git \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 65532 --no-create-home --shell /usr/sbin/nologin prodready
COPY --from=build /src/target/release/prodready-exporter /usr/local/bin/prodready-exporter
COPY config.yaml /etc/prodready/config.yaml
USER 65532:65532
EXPOSE 9718
ENTRYPOINT ["/usr/local/bin/prodready-exporter"]
CMD ["--config.file=/etc/prodready/config.yaml"]
