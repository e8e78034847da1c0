# The hub's two commands are `make run` and `make test`; both set up what they need first.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
GEN_STAMP := gen/.stamp
TOOLS_STAMP := tools/node_modules/.installed
NODE_EXAMPLE_STAMP := examples/node/node_modules/.installed
export PYTHONWARNINGS ?= ignore::DeprecationWarning
export HUB_RUNTIME_DIR ?= var


.PHONY: setup fonts pdftools javakit browser signer run test test-unit test-integration lint bench chaos scale fuzz services clean lock

setup: $(STAMP) $(GEN_STAMP) $(TOOLS_STAMP) $(NODE_EXAMPLE_STAMP) fonts pdftools javakit browser

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip==25.3
	$(VENV)/bin/pip install --quiet -r requirements.lock
	$(VENV)/bin/pip install --quiet --no-deps -e .
	echo "$(CURDIR)/gen" > $$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/riskhub-gen.pth
	touch $@

$(GEN_STAMP): $(STAMP) $(shell find protos -name '*.proto')
	PY=$(PY) scripts/gen-protos.sh
	touch $@

$(TOOLS_STAMP): tools/package.json tools/package-lock.json
	npm ci --prefix tools --no-audit --no-fund --loglevel=error
	touch $@

# The Node.js ERP example (sm-crypto, @grpc/grpc-js) that the ERP kit's tests run against a hub.
$(NODE_EXAMPLE_STAMP): examples/node/package.json examples/node/package-lock.json
	npm ci --prefix examples/node --no-audit --no-fund --loglevel=error
	touch $@

# PDF warning cards need a font with Chinese glyphs; Debian's fonts-wqy-microhei when none is there.
fonts:
	@fc-list :lang=zh 2>/dev/null | grep -q . || { \
	  echo "setup: installing fonts-wqy-microhei (CJK font for PDF warning cards)"; \
	  apt-get install -y -qq --no-install-recommends fontconfig fonts-wqy-microhei >/dev/null 2>&1 || \
	  { apt-get update -qq && apt-get install -y -qq --no-install-recommends fontconfig fonts-wqy-microhei; }; }

# The monthly report's tests turn PDF pages into images (pdftoppm) and text (pdftotext): poppler-utils.
pdftools:
	@command -v pdftoppm >/dev/null 2>&1 || { \
	  echo "setup: installing poppler-utils (pdftoppm, pdftotext for the report tests)"; \
	  apt-get install -y -qq --no-install-recommends poppler-utils >/dev/null 2>&1 || \
	  { apt-get update -qq && apt-get install -y -qq --no-install-recommends poppler-utils; }; }

# The Java examples: the signer with BouncyCastle (Debian's libbcprov-java), the ERP client with grpc-java
# and protobuf-java (Debian's jars, protoc and grpc-java's plugin: examples/java/build.sh), no Maven.
JAVA_PACKAGES = default-jdk-headless libbcprov-java libgrpc-java libprotobuf-java libnetty-java \
  libperfmark-java libgoogle-gson-java libgoogle-common-protos-java libgeronimo-annotation-1.3-spec-java \
  protobuf-compiler protobuf-compiler-grpc-java-plugin libprotobuf-dev
javakit:
	@{ command -v javac && command -v protoc && command -v grpc_java_plugin \
	   && test -f /usr/share/java/bcprov.jar && test -f /usr/share/java/grpc-netty.jar \
	   && test -f /usr/share/java/perfmark-api.jar && test -f /usr/share/java/proto-google-common-protos.jar \
	   && test -f /usr/share/java/geronimo-annotation-1.3-spec.jar \
	   && test -f /usr/include/google/protobuf/timestamp.proto; } >/dev/null 2>&1 || { \
	  echo "setup: installing the JDK, BouncyCastle, grpc-java and protobuf-java (the Java examples)"; \
	  apt-get install -y -qq --no-install-recommends $(JAVA_PACKAGES) >/dev/null 2>&1 || \
	  { apt-get update -qq && apt-get install -y -qq --no-install-recommends $(JAVA_PACKAGES); }; }

# The console's browser tests drive Debian's chromium with its own chromedriver (never a downloaded browser).
browser:
	@{ command -v chromium && command -v chromedriver; } >/dev/null 2>&1 || { \
	  echo "setup: installing chromium and chromium-driver (the console's browser tests)"; \
	  apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null 2>&1 || \
	  { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium chromium-driver; }; }

services:
	scripts/ensure-services.sh --postgres

run: setup
	scripts/ensure-services.sh
	$(VENV)/bin/honcho -f infra/Procfile -d . start

test: setup services
	$(VENV)/bin/pytest -q tests

test-unit: setup
	$(VENV)/bin/pytest -q tests/unit

test-integration: setup services
	$(VENV)/bin/pytest -q tests/integration tests/e2e

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	bash scripts/lint-protos.sh
	$(PY) scripts/gen_asyncapi.py --check
	node scripts/check_asyncapi.mjs contracts/asyncapi.yaml

bench: setup services
	$(PY) -m bench.run

# A province-sized data set (100k enterprises, 2M risk points, 200k dangers); SCALE=0.01 for 1% of it.
# PostgreSQL gets the settings of infra/postgres/province.conf first (a restart, once).
scale: setup
	scripts/ensure-services.sh --province
	$(PY) -m bench.scale --fraction $(or $(SCALE),1)

# Hostile input at length: every field of every method at and beyond its edges, and thousands of random
# strings (make test runs the short version of the same sweep); prints how many requests were sent.
fuzz: setup services
	HUB_FUZZ=1 $(VENV)/bin/pytest -q -s tests/e2e/test_field_sweep.py tests/e2e/test_hostile_input.py

# Faults under an ERP load at half the hub's capacity, measured first (restarts RabbitMQ and PostgreSQL):
# a report, then exit 1 if anything was lost or applied twice.
chaos: setup services
	$(PY) -m bench.chaos

lock:
	$(VENV)/bin/pip freeze --exclude-editable > requirements.lock

clean:
	rm -rf $(VENV) gen var dist tools/node_modules examples/node/node_modules examples/java/build .pytest_cache
