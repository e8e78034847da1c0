#!/usr/bin/env bash
# Builds the Java examples (FilingSigner, ErpClient) into OUT with the JDK and Debian's jars, no Maven:
# the hub's protos through protoc and grpc-java's plugin, then javac. `make setup` installs the packages
# (Makefile, javakit). Writes OUT/classpath, the classpath to run them with:
#
#     examples/java/build.sh examples/java/build
#     java -cp "$(cat examples/java/build/classpath)" ErpClient CREDIT_CODE
#
# JAVA_JARS names another folder of jars (default /usr/share/java). An ERP's own build takes the same
# protos (protos/hub/v1) into Maven or Gradle with protobuf-java and grpc-java of matching versions.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${1:?usage: examples/java/build.sh OUT}"
jars="${JAVA_JARS:-/usr/share/java}"
plugin="$(command -v grpc_java_plugin || true)"

# grpc-java and protobuf-java, and what they need at run time (Debian's jar names)
needed=(grpc-api grpc-context grpc-core grpc-netty grpc-protobuf grpc-protobuf-lite grpc-stub protobuf
  proto-google-common-protos guava gson perfmark-api bcprov error_prone_annotations jsr305
  netty-buffer netty-codec netty-codec-http netty-codec-http2 netty-codec-socks netty-common netty-handler
  netty-handler-proxy netty-resolver netty-transport
  geronimo-annotation-1.3-spec)
classpath=()
for jar in "${needed[@]}"; do
  if [ ! -f "$jars/$jar.jar" ]; then
    echo "build.sh: $jars/$jar.jar is missing: run make setup (it installs Debian's Java packages)" >&2
    exit 2
  fi
  classpath+=("$jars/$jar.jar")
done
if ! command -v protoc >/dev/null || [ -z "$plugin" ] || [ ! -f /usr/include/google/protobuf/timestamp.proto ]; then
  echo "build.sh: protoc, grpc_java_plugin or the well-known protos are missing: run make setup" >&2
  exit 2
fi

rm -rf "$out/generated" "$out/classes"
mkdir -p "$out/generated" "$out/classes"
protoc -I "$root/protos" -I /usr/include --java_out="$out/generated" \
  --plugin=protoc-gen-grpc-java="$plugin" --grpc-java_out="$out/generated" "$root"/protos/hub/v1/*.proto
cp=$(IFS=:; echo "${classpath[*]}")
find "$out/generated" -name '*.java' > "$out/sources"
ls "$here"/*.java >> "$out/sources"
javac -nowarn -encoding UTF-8 -d "$out/classes" -cp "$cp" @"$out/sources"
echo "$(cd "$out/classes" && pwd):$cp" > "$out/classpath"
echo "build.sh: built into $out (run with: java -cp \"\$(cat $out/classpath)\" ErpClient)"
