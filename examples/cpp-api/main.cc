// Builds a small image from C++ with kiln's library: a greeting file made by
// a RUN step, an environment variable and a default command.
//
//   kiln-cpp-example [--root STORE] BASE IMAGE
//
// BASE is anything `FROM` takes (a name in the store, oci:DIR, oci-archive:FILE,
// a registry reference); IMAGE is the name to store the result under. Prints
// the image id. `kiln --root STORE from IMAGE` + `kiln run` then show the greeting.
#include <kiln/kiln.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

int fail(const kiln::Error& e) {
  std::fprintf(stderr, "kiln-cpp-example: %s\n", e.render().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string root;
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--root") == 0 && i + 1 < argc) {
      root = argv[++i];
    } else {
      args.emplace_back(argv[i]);
    }
  }
  if (args.size() != 2) {
    std::fprintf(stderr, "usage: kiln-cpp-example [--root STORE] BASE IMAGE\n");
    return 2;
  }
#ifdef KILN_SANDBOX_HELPER_PATH
  if (const char* h = std::getenv("KILN_SANDBOX_HELPER"); h == nullptr || *h == '\0') {
    ::setenv("KILN_SANDBOX_HELPER", KILN_SANDBOX_HELPER_PATH, 1);  // unless the caller chose one
  }
#endif
  // RUN steps and layer directories need kiln's user namespace: this
  // re-executes the program inside it (the outer process waits and exits
  // with the inner one's status) and opens the store there.
  auto store = kiln::open_store_in_namespace(root, argc, argv);
  if (!store) {
    return fail(store.error());
  }
  auto base = kiln::from(*store, args[0]);  // pulled or imported when the store lacks it
  if (!base) {
    return fail(base.error());
  }
  kiln::RunOptions greet;
  greet.args = {"/bin/sh", "-c", "echo \"$GREETING, built with kiln's C++ API\" > /greeting"};
  greet.created_by = "RUN echo greeting > /greeting";
  kiln::BuildState state = base->with_env("GREETING", "hello")
                               .add_history("ENV GREETING=hello")
                               .run(greet)
                               .with_cmd(std::vector<std::string>{"cat", "/greeting"})
                               .add_history("CMD [\"cat\",\"/greeting\"]");
  kiln::BuildConfig config;
  if (const char* epoch = std::getenv("SOURCE_DATE_EPOCH")) {
    config.source_date_epoch = std::atoll(epoch);
  }
  kiln::CommitOptions commit;
  commit.tags = {args[1]};
  auto image = kiln::commit(*store, state, config, commit);
  if (!image) {
    return fail(image.error());
  }
  std::printf("%s\n", image->id.c_str());
  return 0;
}
