# fsm — make targets. Node 22 is provisioned by the `node` devDependency: every target runs with
# node_modules/.bin first on PATH, so `node` below is the project's Node 22, not the machine's.
SHELL := /bin/bash
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)

.PHONY: all install tools build lint typecheck unit test run bench clean check-node

all: build

# npm itself runs on the machine's Node (it is what installs Node 22). Its EBADENGINE warnings say that
# this Node is older than what some packages need: they run under the project's Node, so the warning
# blocks are replaced by one line saying so. The project's own install script (node-gyp builds the
# sandbox probe agent's SO_ORIGINAL_DST addon, binding.gyp) is announced by npm as `> fsm@… install`:
# that banner is replaced by one line saying what it built. Every other message of npm is printed as is.
NPM_CI = npm ci --no-audit --no-fund 2>&1 | awk '/EBADENGINE/ { n++; next } \
  /^> fsm@[^ ]+ install$$/ { skip = 2 } skip > 0 { skip--; if (skip == 0) print "built the SO_ORIGINAL_DST addon of the sandbox'"'"'s probe agent (binding.gyp → build/Release/original_dst.node)"; next } \
  /^$$/ && !printed { next } { printed = 1; print } \
  END { if (n) print "note: npm ran on the machine'"'"'s Node (it installs Node 22 into node_modules/.bin); packages needing Node >= 22 run on that one"; }'; \
  exit $${PIPESTATUS[0]}

node_modules/.package-lock.json: package.json package-lock.json
	@$(NPM_CI)
	@touch $@

## install: npm ci (includes Node 22 via the `node` devDependency)
install:
	@$(NPM_CI)
	@$(MAKE) --no-print-directory check-node

check-node:
	@node -e 'const [M,m]=process.versions.node.split(".").map(Number); if (M<22||(M===22&&m<19)) { console.error("fsm needs Node >= 22.19, found " + process.version + " (is node_modules/.bin on PATH?)"); process.exit(1) }'
	@echo "node $$(node --version) from $$(command -v node)"

## tools: Debian packages the tests use: kubectl (kubernetes-client) talks to the sandbox API server;
## kubectl 1.20 (Debian bookworm's kubernetes-client, SPDY-only port-forward) goes to .tools/ beside
## the machine's kubectl, when apt can fetch it (its tests are skipped otherwise); as root, iproute2
## and iptables for the sandbox's namespace mode (pods in network namespaces with fsm-init's real
## rules; without root the sandbox runs in loopback mode and those tests say why they are skipped)
KUBECTL_120 := .tools/kubernetes-client/usr/bin/kubectl
tools:
	@if [ "$$(id -u)" = 0 ]; then \
	  missing=""; command -v ip >/dev/null 2>&1 || missing="iproute2"; \
	  command -v iptables-restore >/dev/null 2>&1 || missing="$$missing iptables"; \
	  if [ -n "$$missing" ]; then \
	    echo "installing$$missing (Debian) for the sandbox's namespace mode"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  fi; \
	fi
	@command -v kubectl >/dev/null 2>&1 || { \
	  echo "installing kubectl (Debian kubernetes-client)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq kubernetes-client >/dev/null; }
	@kubectl version --client 2>/dev/null | head -1
	@[ -x $(KUBECTL_120) ] || { \
	  mkdir -p .tools && cd .tools && rm -f kubernetes-client_*.deb && \
	  apt-get download kubernetes-client >/dev/null 2>&1 && \
	  dpkg-deb -x kubernetes-client_*.deb kubernetes-client && rm -f kubernetes-client_*.deb && \
	  echo "kubectl 1.20 (Debian kubernetes-client) in $(KUBECTL_120)"; } || \
	  echo "note: Debian's kubernetes-client (kubectl 1.20) cannot be fetched here: its tests are skipped"

## build: TypeScript → dist/ (dist/cmd/<binary>/main.js); nothing to do when dist/ is newer than every source
BUILD_INPUTS := $(shell find cmd pkg test/bench test/support -name '*.ts' 2>/dev/null) \
  tsconfig.json tsconfig.build.json package.json
dist/.build-stamp: node_modules/.package-lock.json $(BUILD_INPUTS)
	npm run build
	@touch $@

build: dist/.build-stamp

typecheck: node_modules/.package-lock.json
	npm run typecheck

## lint: typecheck everything (tests included), eslint, prettier
lint: typecheck
	npm run lint

## unit: jest (unit, integration and e2e tests; e2e spawns dist/ binaries, so build first)
unit: build
	npm test

## test: the whole gate, as CI runs it: install + build + lint + all tests
test: install tools build lint
	npm test

## run: the sandbox (see README)
run: node_modules/.package-lock.json tools build
	node dist/cmd/fsm/main.js sandbox run

## bench: every benchmark (each prints ours, the bare baseline of the same run, and the ratio)
bench: build
	npm run bench:healthcheck
	npm run bench:injector
	npm run bench:ads
	npm run bench:controller

clean:
	rm -rf dist coverage

## images: one Docker image per binary (deploy/docker/Dockerfile), only where a Docker engine answers
IMAGE_REGISTRY ?= flomesh
IMAGE_TAG ?= v$(shell node -p 'require("./package.json").version')
IMAGE_BINARIES := fsm-controller fsm-injector fsm-healthcheck fsm
.PHONY: images
images:
	@if ! docker info >/dev/null 2>&1; then \
	  echo "images: skipped (no Docker engine answers 'docker info')"; \
	else \
	  set -e; for b in $(IMAGE_BINARIES); do \
	    echo "docker build $(IMAGE_REGISTRY)/$$b:$(IMAGE_TAG)"; \
	    DOCKER_BUILDKIT=1 docker build -f deploy/docker/Dockerfile --build-arg BINARY=$$b \
	      -t $(IMAGE_REGISTRY)/$$b:$(IMAGE_TAG) . ; \
	  done; \
	fi
