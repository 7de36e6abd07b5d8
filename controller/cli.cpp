#include "controller/cli.h"

#include <google/protobuf/text_format.h>
#include <google/protobuf/util/json_util.h>

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include <fmt/format.h>

#include "controller/run.h"
#include "emulator/units.h"
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

std::string command_line(int argc, char** argv) {
  std::string s;
  for (int i = 0; i < argc; ++i) {
    std::string a = i == 0 ? std::string("shakedown") : std::string(argv[i]);
    const bool plain = !a.empty() && a.find_first_of(" \t'\"$\\*?[]{}();&|<>") == std::string::npos;
    if (!s.empty()) s += ' ';
    if (plain) {
      s += a;
    } else {
      s += '\'';
      for (char c : a) s += c == '\'' ? std::string("'\\''") : std::string(1, c);
      s += '\'';
    }
  }
  return s;
}

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

  RunOptions ro;
  std::string until, seed;
  CLI::App* run_cmd = app.add_subcommand(
      "run", "Run an experiment: build the network a topology file describes, run it in virtual\n"
             "time, and write its traces (events, connections, summary, captures) to a folder.");
  run_cmd->add_option("FILE", ro.file, "the topology file (YAML), or a topology.txtpb a run left behind")->required();
  run_cmd->add_option("-o,--out", ro.out, "the folder for the traces (default: NAME-run, or NAME-run-2, ... if taken)");
  run_cmd->add_option("--seed", seed, "the run's seed, instead of the file's");
  run_cmd->add_option("--until", until, "stop at this simulated time, e.g. 30s (default: when nothing is left to do)");
  run_cmd->add_option("--events", ro.events,
                      "which events to write to events.jsonl: all, none, or a comma-separated list of state,\n"
                      "segment, retransmit, timer, rtt, recovery, drop, end")
      ->capture_default_str();
  run_cmd->add_option("--pcap", ro.pcap,
                      "captures: auto (one per host up to 64 hosts), hosts, links, none, or host names\n"
                      "separated by commas")
      ->capture_default_str();
  run_cmd->add_flag("-q,--quiet", ro.quiet, "no progress line and no summary; errors only");
  run_cmd->add_flag("--json", ro.json, "print the summary as JSON (what summary.json holds, and the folder)");
  run_cmd->footer(
      "Writes events.jsonl, connections.csv, summary.json, timing.json, pcap/, topology.txtpb and\n"
      "command.txt (docs/traces.md). Ctrl-C stops the run; the files then hold everything up to that\n"
      "moment. Exit codes: 0 done, 2 bad input, 3 the run failed or was interrupted.\n\n"
      "Examples:\n"
      "  shakedown run topologies/catalog/two-hosts.yaml\n"
      "  shakedown run topologies/catalog/dumbbell.yaml --out runs/dumbbell --seed 3 --events state,retransmit\n");

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
    if (run_cmd->parsed()) {
      if (!until.empty()) {
        try {
          ro.until_ns = parse_duration(until).ns();
        } catch (const UnitError& e) {
          std::fprintf(stderr, "shakedown run: --until: %s\n", e.what());
          return kBadInput;
        }
      }
      if (!seed.empty()) {
        std::uint64_t v = 0;
        const auto [end, ec] = std::from_chars(seed.data(), seed.data() + seed.size(), v);
        if (ec != std::errc() || end != seed.data() + seed.size()) {
          std::fprintf(stderr, "shakedown run: --seed: expected a whole number, got '%s'\n", seed.c_str());
          return kBadInput;
        }
        ro.seed = v;
      }
      ro.progress = isatty(STDERR_FILENO) != 0;
      ro.command = command_line(argc, argv);
      return run_experiment(ro);
    }
  } catch (const topology::LoadError& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return kBadInput;
  }
  return kSuccess;
}

}  // namespace shakedown::controller
