# syntax=docker/dockerfile:1
# Gatehouse with the demo connector: `make image`, then
#   docker run --rm -p 8080:8080 gatehouse:<version>
# The owner token is printed at the first start (or set GATEHOUSE_ADMIN_TOKEN);
# mount a volume on /home/node/data to keep state.
ARG GO_VERSION=1.26.8
ARG NODE_VERSION=22.12.0

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
# The built-in guards (WebAssembly) are embedded by the build.
RUN make guards && \
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/gatehouse ./cmd/gatehouse

# The demo connector: the MCP reference server, pinned as in test/tools.
FROM node:${NODE_VERSION}-bookworm-slim AS demo
WORKDIR /opt/demo
RUN npm install --omit=dev --no-audit --no-fund @modelcontextprotocol/server-everything@2026.8.31

FROM node:${NODE_VERSION}-bookworm-slim
COPY --from=build /out/gatehouse /usr/local/bin/gatehouse
COPY --from=demo /opt/demo/node_modules /opt/demo/node_modules
COPY cmd/gatehouse/demo-docker.yaml /etc/gatehouse/gatehouse.yaml
# The node image's unprivileged user; nothing runs as root.
USER node
WORKDIR /home/node
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s CMD ["node", "-e", "fetch('http://127.0.0.1:8080/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["gatehouse"]
CMD ["serve", "--config", "/etc/gatehouse/gatehouse.yaml"]
