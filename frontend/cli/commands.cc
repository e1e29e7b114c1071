#include "frontend/cli/command.h"

namespace kiln::cli {

const std::vector<Command>& commands() {
  static const std::vector<Command> table = {
#ifdef KILN_HAVE_BUD
      {"bud", "Build an image from a Dockerfile",
       "  kiln bud -t app:1 .\n  kiln bud -f Containerfile --build-arg VERSION=2 -t app:2 ctx/\n"
       "  kiln bud --target build -o type=local,dest=out .\n  bud -t app:1 .            # through the bud symlink\n",
       setup_bud, {"build"}},
      {"from", "Create a working container from an image (or scratch)",
       "  c=$(kiln from busybox)\n  kiln from --name web --pull=never localhost/base:1\n  kiln from scratch\n", setup_from},
      {"run", "Run a command in a working container (its changes stay in the container)",
       "  kiln run $c -- sh -c 'echo hi > /hi'\n  kiln run --user 1000 --workingdir /src -e CC=gcc $c -- make\n",
       setup_run},
      {"copy", "Copy files into a working container",
       "  kiln copy $c ./site /srv/www\n  kiln copy --chown 1000:1000 --contextdir ctx $c app.conf /etc/\n"
       "  kiln copy --from builder-working-container $c /out/app /usr/bin/\n",
       setup_copy},
      {"add", "Copy files into a working container, extracting local tar archives",
       "  kiln add $c rootfs.tar.gz /\n", setup_add},
      {"config", "Change a working container's image config",
       "  kiln config --env PORT=8080 --port 8080 --cmd '[\"/srv/app\"]' $c\n  kiln config --label version=1 --env DEBUG- $c\n",
       setup_config},
      {"commit", "Commit a working container as an image (one new layer)",
       "  kiln commit $c web:1\n  kiln commit --rm --iidfile id.txt $c web:1\n"
       "  kiln commit --push $c registry.example:5000/team/web:1\n",
       setup_commit},
      {"containers", "List working containers", "  kiln containers\n  kiln containers --json\n", setup_containers},
      {"rm", "Remove working containers", "  kiln rm $c\n  kiln rm --all\n", setup_rm},
      {"mount", "Mount a working container's filesystem (read-only; inside `kiln unshare`)",
       "  kiln unshare -- sh -c 'ls \"$(kiln mount web)\"/etc'\n  kiln unshare --mount DIR=web -- sh -c 'ls \"$DIR\"'\n",
       setup_mount},
      {"umount", "Unmount working containers", "  kiln umount web\n  kiln umount --all\n", setup_umount},
      {"unshare", "Run a command (default: a shell) inside kiln's user namespace",
       "  kiln unshare\n  kiln unshare -- id\n  kiln unshare --mount web -- sh -c 'ls $web'\n", setup_unshare},
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
