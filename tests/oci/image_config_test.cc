#include "oci/image_config.h"

#include <gtest/gtest.h>

namespace kiln::oci {
namespace {

TEST(ImageConfigTest, RoundTripKeepsNullVersusEmpty) {
  const char* text = R"({"architecture":"amd64","os":"linux","created":"2024-01-01T00:00:00Z",
    "config":{"Env":["PATH=/bin"],"Entrypoint":[],"ExposedPorts":{"80/tcp":{}},
              "Healthcheck":{"Test":["CMD-SHELL","true"],"Interval":30000000000,"Retries":3},
              "OnBuild":["RUN x"],"Shell":["/bin/sh","-c"],"Hostname":"keep"},
    "rootfs":{"type":"layers","diff_ids":["sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"]},
    "history":[{"created_by":"x","empty_layer":true,"custom":1}]})";
  auto c = parse_image_config(text);
  ASSERT_TRUE(c) << c.error().render();
  EXPECT_TRUE(c->config.entrypoint.has_value());
  EXPECT_TRUE(c->config.entrypoint->empty());
  EXPECT_FALSE(c->config.cmd.has_value());
  EXPECT_EQ(c->config.healthcheck->retries, 3);
  EXPECT_EQ(image_config_to_json(*c), Json::parse(text));
}

TEST(ImageConfigTest, EnvHelpers) {
  ContainerConfig c;
  c.setenv("A", "1");
  c.setenv("B", "2");
  c.setenv("A", "3");
  EXPECT_EQ(c.env, (std::vector<std::string>{"A=3", "B=2"}));
  EXPECT_EQ(*c.getenv("B"), "2");
  c.unsetenv("A");
  EXPECT_FALSE(c.getenv("A"));
}

}  // namespace
}  // namespace kiln::oci
