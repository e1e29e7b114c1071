#include "util/subprocess.h"

#include <gtest/gtest.h>

namespace kiln {
namespace {

TEST(SubprocessTest, CapturesOutputAndStatus) {
  ProgramOptions o;
  o.stdin_data = "hello";
  auto r = run_program({"sh", "-c", "cat; echo err >&2; exit 3"}, o);
  ASSERT_TRUE(r) << r.error().render();
  EXPECT_EQ(r->stdout_data, "hello");
  EXPECT_EQ(r->stderr_data, "err\n");
  EXPECT_EQ(r->exit_status, 3);
}

TEST(SubprocessTest, MissingProgramIsNotFound) {
  auto r = run_program({"kiln-no-such-program"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::not_found);
}

}  // namespace
}  // namespace kiln
