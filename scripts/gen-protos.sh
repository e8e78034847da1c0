#!/usr/bin/env bash
# Generates the Python stubs of protos/ into gen/ (never edited by hand, never committed).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
rm -rf gen && mkdir -p gen
"$PY" -m grpc_tools.protoc -Iprotos --python_out=gen --pyi_out=gen --grpc_python_out=gen \
  $(find protos -name '*.proto' | sort)
find gen -type d -exec touch {}/__init__.py \;
rm -f gen/__init__.py
echo "gen-protos: $(find gen -name '*_pb2.py' | wc -l) modules"
