#!/bin/sh
# The dependency rules of STYLE.md section 2, checked on #include lines (the
# CMake link lists enforce them too). Also the file-length rule (N3): warn
# above 500 lines, fail above 1,000. Runs in well under a second.
set -u
cd "$(dirname "$0")/.."
status=0

# folder: the kiln folders its sources may include.
allowed() {
  case "$1" in
    util) echo "util" ;;
    oci) echo "util oci" ;;
    parser) echo "util parser" ;;
    cache) echo "util oci cache" ;;
    layers) echo "util oci cache layers" ;;
    registry) echo "util oci cache registry" ;;
    executor) echo "util executor" ;;
    solver) echo "util oci cache solver" ;;
    solver/ops) echo "util oci cache solver solver/ops layers registry executor" ;;
    frontend/api) echo "util oci cache solver solver/ops layers registry executor frontend/api" ;;
    frontend/dockerfile) echo "util oci parser frontend/api frontend/dockerfile" ;;
    frontend/cli) echo "util frontend/api frontend/dockerfile frontend/cli" ;;
  esac
}

for folder in util oci parser cache layers registry executor solver solver/ops frontend/api frontend/dockerfile frontend/cli; do
  [ -d "$folder" ] || continue
  ok=$(allowed "$folder")
  for f in $(git ls-files "$folder/*.h" "$folder/*.cc" "$folder/*.c"); do
    # solver/ files belong to solver/ops when they live there.
    case "$folder:$f" in solver:solver/ops/*) continue ;; esac
    grep -o '^#include "[a-z_]*\(/[a-z_]*\)\?/' "$f" | sed 's/#include "//; s/\/$//' | sort -u | while read -r inc; do
      top=${inc%%/*}
      case "$inc" in frontend/*|solver/ops) dep=$inc ;; *) dep=$top ;; esac
      # parser/ignore.h is the one parser header solver/ops may use (kiln_ignore).
      if [ "$folder" = solver/ops ] && [ "$dep" = parser ] && grep -q '#include "parser/ignore.h"' "$f" &&
         [ "$(grep -c '#include "parser/' "$f")" -eq 1 ]; then
        continue
      fi
      case " $ok " in *" $dep "*) ;; *) echo "check_layers: $f includes $inc/ (not allowed for $folder/)"; echo x >/tmp/kiln-layers-bad.$$ ;; esac
    done
  done
done
[ -f /tmp/kiln-layers-bad.$$ ] && { rm -f /tmp/kiln-layers-bad.$$; status=1; }

for f in $(git ls-files '*.cc' '*.h' '*.c' | grep -v -E '^(tests|testdata|bench|fuzz)/'); do
  n=$(wc -l < "$f")
  if [ "$n" -gt 1000 ]; then
    echo "check_layers: $f has $n lines (ceiling 1000, STYLE.md N3)"; status=1
  elif [ "$n" -gt 500 ]; then
    echo "check_layers: note: $f has $n lines (aim < 500)" >&2
  fi
done
exit $status
