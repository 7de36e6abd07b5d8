// The `shakedown` command as a user runs it: output, errors and exit codes.
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace {

struct Result {
  int code;
  std::string output;  // stdout and stderr together
};

Result run(const std::string& args) {
  const std::string cmd = std::string(SHAKEDOWN_BIN) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  const int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

const std::string kCatalog = SHAKEDOWN_CATALOG;

TEST(Cli, CompilePrintsTheCanonicalForm) {
  const Result r = run("compile " + kCatalog + "/two-hosts.yaml");
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("name: \"two-hosts\""), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("delay_ns: 10000000"), std::string::npos) << r.output;
  const Result j = run("compile --format json " + kCatalog + "/two-hosts.yaml");
  EXPECT_EQ(j.code, 0);
  EXPECT_NE(j.output.find("\"name\": \"two-hosts\""), std::string::npos) << j.output;
}

TEST(Cli, BadInputIsExitCodeTwoWithThePlace) {
  const auto dir = std::filesystem::temp_directory_path() / "shakedown_cli_test";
  std::filesystem::create_directories(dir);
  const auto file = dir / "bad.yaml";
  std::ofstream(file) << "hosts: [a]\nrouters: [r]\nlinks:\n  - {ends: [a, r], delya: 5ms}\n";
  const Result r = run("compile " + file.string());
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.output, file.string() + ":4:20: links[0].delya: unknown key; did you mean 'delay'?\n");
  EXPECT_EQ(run("compile /nonexistent/x.yaml").code, 2);
  EXPECT_EQ(run("compile").code, 2) << "a missing argument is a usage error";
  EXPECT_EQ(run("frobnicate").code, 2);
  EXPECT_EQ(run("compile --format xml " + kCatalog + "/two-hosts.yaml").code, 2);
}

TEST(Cli, HelpAndVersion) {
  const Result h = run("--help");
  EXPECT_EQ(h.code, 0);
  EXPECT_NE(h.output.find("compile"), std::string::npos);
  EXPECT_NE(h.output.find("Exit codes"), std::string::npos);
  const Result v = run("version");
  EXPECT_EQ(v.code, 0);
  EXPECT_EQ(v.output.rfind("shakedown ", 0), 0u);
}

}  // namespace
