# salescdc programs in one image (multi-stage, Debian 12). Used by deploy/docker-compose.yml.
FROM debian:12 AS build
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config libpq-dev librdkafka-dev libavro-dev \
      libcurl4-openssl-dev libmicrohttpd-dev libjansson-dev libcmocka-dev libssl-dev zlib1g-dev libsnappy-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release \
    && cmake --build /build \
    && (cd /build && ctest -L 'unit|cli' --output-on-failure) \
    && cmake --install /build --prefix /opt/salescdc

FROM debian:12-slim
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libpq5 librdkafka1 libavro23 libcurl4 libmicrohttpd12 libjansson4 libssl3 zlib1g libsnappy1v5 ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/salescdc --create-home salescdc
COPY --from=build /opt/salescdc/bin/ /usr/local/bin/
USER salescdc
WORKDIR /var/lib/salescdc
CMD ["salescdc-connector", "--help"]
