#!/bin/sh
echo "$GREETING from a kiln-built image ($(cat /srv/built-by), running as $(id -un))"
