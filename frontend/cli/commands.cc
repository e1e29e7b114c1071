#include "frontend/cli/command.h"

namespace kiln::cli {

const std::vector<Command>& commands() {
  static const std::vector<Command> table = {
#ifdef KILN_HAVE_BUD
      {"bud", "Build an image from a Dockerfile",
       "  kiln bud -t app:1 .\n  kiln bud -f Containerfile --build-arg VERSION=2 -t app:2 ctx/\n"
       "  kiln bud --target build -o type=local,dest=out .\n  bud -t app:1 .            # through the bud symlink\n",
       setup_bud, {"build"}},
#endif
      {"parse", "Parse a Dockerfile and print its instructions",
       "  kiln parse -f Dockerfile\n  kiln parse --json --validate -f Dockerfile | jq .instructions[0]\n", setup_parse},
      {"images", "List images in the local store", "  kiln images\n  kiln images --json\n", setup_images},
      {"tag", "Add names to an image", "  kiln tag busybox mybox:1 registry.example:5000/team/mybox:1\n", setup_tag},
      {"rmi", "Remove images (by name or id)", "  kiln rmi app:1\n  kiln rmi 3f2a1b4c5d6e\n  kiln rmi --force app:1\n",
       setup_rmi},
      {"inspect", "Show an image's manifest and config as JSON",
       "  kiln inspect busybox\n  kiln inspect sha256:3f2a... | jq .config.config.Cmd\n", setup_inspect},
      {"pull", "Copy an image into the store (from a registry, or a local layout or archive)",
       "  kiln pull busybox\n  kiln pull docker://registry.example:5000/team/app:1\n"
       "  kiln pull --tls-verify=false 127.0.0.1:5000/app:1\n  kiln pull --platform linux/arm64 alpine\n"
       "  kiln pull oci:./layout\n  kiln pull oci-archive:busybox.tar\n  kiln pull docker-archive:saved.tar\n",
       setup_pull},
      {"push", "Copy an image out of the store (to a registry, or a local layout or archive)",
       "  kiln push registry.example:5000/team/app:1\n  kiln push app:1 docker://registry.example:5000/team/app:1\n"
       "  kiln push app:1 oci:/tmp/layout:app\n  kiln push app:1 oci-archive:app.tar\n"
       "  kiln push app:1 docker-archive:app.tar   # then: podman load -i app.tar\n",
       setup_push},
      {"login", "Log in to a registry (writes the auth file as podman does)",
       "  kiln login -u alice registry.example:5000\n  echo \"$TOKEN\" | kiln login -u alice --password-stdin ghcr.io\n",
       setup_login},
      {"logout", "Remove a registry's credentials from the auth file",
       "  kiln logout registry.example:5000\n  kiln logout --all\n", setup_logout},
      {"prune", "Remove unreferenced blobs, layer directories and temp files",
       "  kiln prune\n  kiln prune --build-cache\n", setup_prune},
      {"fsck", "Verify every blob and reference in the store", "  kiln fsck\n", setup_fsck},
  };
  return table;
}

}  // namespace kiln::cli
