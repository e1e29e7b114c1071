#!/bin/sh
# examples/hello/Dockerfile, step by step: the image `kiln bud examples/hello`
# builds, made with kiln's stepwise commands (buildah's model) instead.
#
#   examples/stepwise/build.sh [IMAGE]      (default IMAGE: hello-stepwise:1)
#
# Environment: KILN (the kiln to run, default `kiln`), BASE (the base image,
# default busybox; anything `kiln from` takes, e.g. oci:DIR), plus kiln's own
# (KILN_ROOT, SOURCE_DATE_EPOCH, ...). Prints the image id. Then:
#   c=$(kiln from hello-stepwise:1); kiln run "$c" -- /hello.sh; kiln rm "$c"
set -eu

here=$(cd "$(dirname "$0")" && pwd)
kiln=${KILN:-kiln}
image=${1:-hello-stepwise:1}

c=$("$kiln" from "${BASE:-busybox}")
# On failure, do not leave the working container behind.
trap '"$kiln" rm "$c" >/dev/null 2>&1 || true' EXIT

# ARG GREETING=hello / ENV GREETING=${GREETING} / WORKDIR /srv
"$kiln" config --env GREETING=hello "$c"
"$kiln" run "$c" -- mkdir -p /srv
"$kiln" config --workingdir /srv "$c"
# COPY hello.sh /hello.sh
"$kiln" copy -q --contextdir "$here/../hello" "$c" hello.sh /hello.sh
# RUN chmod 0755 /hello.sh && echo "built by kiln" > /srv/built-by
"$kiln" run "$c" -- /bin/sh -c 'chmod 0755 /hello.sh && echo "built by kiln" > /srv/built-by'
# LABEL ... / CMD ["/hello.sh"]
"$kiln" config --label org.opencontainers.image.title="kiln stepwise example" --cmd '["/hello.sh"]' "$c"
# One new layer for all of it; the container goes away.
"$kiln" commit --rm "$c" "$image"
trap - EXIT
