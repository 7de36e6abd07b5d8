#include "controller/cli.h"

#include <google/protobuf/text_format.h>
#include <google/protobuf/util/json_util.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include <fmt/format.h>

#include "topologies/loader.h"

namespace shakedown::controller {

namespace {

constexpr const char* kVersion = "0.1.0";

constexpr const char* kFooter = R"(Exit codes: 0 success, 1 an expectation failed, 2 bad input or usage,
3 the run itself failed.

Documentation: docs/topology-format.md (the file format), docs/workloads.md,
docs/links.md, docs/tcp.md.)";

struct CompileOptions {
  std::string file;
  std::string format = "text";
  std::string out;
};

int compile(const CompileOptions& o) {
  const topology::Topology t = topology::load_file(o.file);
  std::string text;
  if (o.format == "json") {
    google::protobuf::util::JsonPrintOptions opts;
    opts.add_whitespace = true;
    opts.preserve_proto_field_names = true;
    if (!google::protobuf::util::MessageToJsonString(t, &text, opts).ok()) {
      std::fprintf(stderr, "shakedown: could not render the topology as JSON\n");
      return kRunFailed;
    }
  } else if (o.format == "binary") {
    text = t.SerializeAsString();
  } else {
    google::protobuf::TextFormat::PrintToString(t, &text);
  }
  if (o.out.empty() || o.out == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
    return kSuccess;
  }
  std::ofstream f(o.out, std::ios::binary);
  f.write(text.data(), static_cast<std::streamsize>(text.size()));
  f.close();
  if (!f) {
    std::fprintf(stderr, "shakedown: cannot write %s\n", o.out.c_str());
    return kRunFailed;
  }
  return kSuccess;
}

}  // namespace

int cli_main(int argc, char** argv) {
  CLI::App app{"shakedown: a network emulator for studying how TCP connections behave.\n"
               "Describe a network, a workload and faults in a topology file; every host runs\n"
               "shakedown's own TCP; the run leaves timing traces, captures and pictures.",
               "shakedown"};
  app.footer(kFooter);
  app.require_subcommand(1);
  app.set_version_flag("--version", kVersion);

  CompileOptions co;
  CLI::App* compile_cmd = app.add_subcommand(
      "compile", "Load a topology file and print its canonical form: every range, group, default and\n"
                 "generator expanded, every value in base units (ns, bit/s, bytes).");
  compile_cmd->add_option("FILE", co.file, "the topology file (YAML)")->required();
  compile_cmd->add_option("--format", co.format, "text (Protobuf text format), json, or binary")
      ->check(CLI::IsMember({"text", "json", "binary"}))
      ->capture_default_str();
  compile_cmd->add_option("-o,--out", co.out, "write to this file instead of standard output");
  compile_cmd->footer(
      "Example:\n  shakedown compile topologies/catalog/dumbbell.yaml --format json");

  app.add_subcommand("version", "Print shakedown's version.")->callback([] { std::printf("shakedown %s\n", kVersion); });

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kBadInput;
  }

  try {
    if (compile_cmd->parsed()) return compile(co);
  } catch (const topology::LoadError& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return kBadInput;
  }
  return kSuccess;
}

}  // namespace shakedown::controller
