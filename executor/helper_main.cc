// kiln-sandbox: the small, statically linked helper every RUN step starts in
// its new namespaces (DESIGN.md "The sandbox is a fresh, small process").
// Started only by run_sandbox: fd 3 is the sync socket, 0-2 the command's
// stdio, the environment is empty. Not a user-facing program.
#include <signal.h>
#include <unistd.h>
#include <fcntl.h>

#include <csignal>

#include "executor/sandbox_child.h"
#include "executor/spec_wire.h"

namespace {

constexpr int k_sync_fd = 3;

// Signal state is inherited through exec (ignored signals and the mask); the
// command gets the defaults, as if started by init.
void reset_signals() {
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) {
      ::sigaction(sig, &dfl, nullptr);
    }
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

}  // namespace

int main() {
  using namespace kiln::executor;
  if (::fcntl(k_sync_fd, F_SETFD, FD_CLOEXEC) != 0) {
    return 125;  // not started by run_sandbox
  }
  // Nothing but stdio and the sync socket may reach the steps (R1).
  ::close_range(k_sync_fd + 1, ~0U, 0);
  reset_signals();
  ::setsid();  // no controlling terminal: kiln alone decides when to stop us

  // sync 1: the spec. EOF means kiln died before sending it.
  auto message = receive_message(k_sync_fd);
  if (!message || message->empty() || (*message)[0] != static_cast<char>(MessageTag::spec)) {
    return 125;
  }
  auto spec = decode_child_spec(std::string_view(*message).substr(1));
  if (!spec) {
    (void)send_message(k_sync_fd, MessageTag::error, encode_error(spec.error()));
    return 125;
  }
  // Returns only on failure, after reporting it.
  (void)sandbox_child_main(*spec, k_sync_fd);
  return 125;
}
