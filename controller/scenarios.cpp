#include "controller/scenarios.h"

#include <fnmatch.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "controller/cli.h"
#include "controller/run.h"
#include "controller/text.h"

namespace shakedown::controller {

namespace fs = std::filesystem;

namespace {

std::string failure_text(const ScenarioResult& r) {
  std::string text;
  for (const auto& e : r.expectations) {
    if (e.passed) continue;
    text += fmt::format("{}: {}\n  actual: {}\n", e.where, e.text, e.actual);
    if (!e.detail.empty()) text += fmt::format("  look at: {}\n", e.detail);
    if (!r.kept && e.detail.starts_with("shakedown inspect "))
      text += "  (shakedown test removes its runs: add --keep FOLDER to keep them)\n";
  }
  if (text.empty()) text = r.output;
  return text;
}



}  // namespace

void run_isolated(const std::string& file, const std::string& dir, std::int64_t timeout_ns, std::uint32_t ranks,
                  const std::string& engine, ScenarioResult& r) {
  std::FILE* sink = std::tmpfile();
  std::FILE* errors = std::tmpfile();
  if (sink == nullptr || errors == nullptr) {
    if (sink != nullptr) std::fclose(sink);
    if (errors != nullptr) std::fclose(errors);
    r.code = kRunFailed;
    r.output = fmt::format("cannot create a temporary file: {}", std::strerror(errno));
    return;
  }
  std::vector<std::string> args = {"shakedown", "run",    file,   "--out",  dir, "--quiet",
                                   "--json",    "--pcap", "none", "--events", "none"};
  if (engine != "shakedown") {
    args.emplace_back("--engine");
    args.push_back(engine);
  }
  if (ranks > 0) {
    args.emplace_back("--ranks");
    args.push_back(std::to_string(ranks));
  }
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fileno(sink), 1);
  posix_spawn_file_actions_adddup2(&actions, fileno(errors), 2);
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, "/proc/self/exe", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    r.code = kRunFailed;
    r.output = fmt::format("cannot start the run: {}", std::strerror(spawned));
  } else {
    const auto start = std::chrono::steady_clock::now();
    bool timed_out = false, interrupted = false;
    int status = 0;
    for (;;) {
      const pid_t done = waitpid(pid, &status, WNOHANG);
      if (done == pid || (done < 0 && errno != EINTR)) break;
      const auto waited = std::chrono::steady_clock::now() - start;
      const auto waited_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(waited).count();
      if (!timed_out && timeout_ns > 0 && waited_ns > timeout_ns) {
        timed_out = true;
        // Across processes, mpirun passes SIGTERM on to every rank, which stop; a
        // SIGKILL would leave them without it. Then SIGKILL after a grace period.
        kill(pid, ranks > 0 ? SIGTERM : SIGKILL);
      }
      if (timed_out && ranks > 0 && waited_ns > timeout_ns + 5'000'000'000) kill(pid, SIGKILL);
      if (!interrupted && InterruptHandler::interrupted()) {
        interrupted = true;  // the run stops itself and writes what it has
        kill(pid, SIGINT);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    const std::string said = read_back(errors);
    if (timed_out) {
      r.code = kRunFailed;
      r.output = fmt::format("timed out: still running after {} (--timeout)", to_string(Duration::nanoseconds(timeout_ns)));
    } else if (WIFSIGNALED(status)) {
      r.code = kRunFailed;
      r.output = fmt::format("the run crashed: {} ({}){}{}", strsignal(WTERMSIG(status)), WTERMSIG(status),
                             said.empty() ? "" : "\n", said);
    } else {
      r.code = WIFEXITED(status) ? WEXITSTATUS(status) : kRunFailed;
      r.output = said;
      const std::string json = read_back(sink);
      const auto summary = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
      if (!summary.is_discarded() && summary.contains("expectations"))
        r.expectations = expectations_from_json(summary["expectations"]);
    }
  }
  std::fclose(sink);
  std::fclose(errors);
}

std::vector<std::string> find_scenarios(const std::vector<std::string>& paths, const std::string& filter) {
  std::vector<std::string> files;
  for (const auto& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      std::vector<std::string> found;
      for (const auto& e : fs::recursive_directory_iterator(p, ec))
        // *.template.yaml are sweep templates (${NAME} in them), not scenarios.
        if (e.is_regular_file() && (e.path().extension() == ".yaml" || e.path().extension() == ".yml") &&
            !e.path().stem().string().ends_with(".template"))
          found.push_back(e.path().string());
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else if (fs::is_regular_file(p, ec)) {
      files.push_back(p);
    } else {
      throw std::invalid_argument(fmt::format("{}: no such file or folder", p));
    }
  }
  if (filter.empty()) return files;
  std::vector<std::string> kept;
  for (const auto& f : files) {
    const std::string name = fs::path(f).stem().string();
    if (fnmatch(filter.c_str(), name.c_str(), 0) == 0 || fnmatch(filter.c_str(), f.c_str(), 0) == 0) kept.push_back(f);
  }
  return kept;
}

std::vector<ScenarioResult> run_scenarios(const std::vector<std::string>& files, const TestOptions& o,
                                          std::FILE* out) {
  std::vector<ScenarioResult> results(files.size());
  const unsigned jobs = std::max(1u, std::min<unsigned>(o.jobs != 0 ? o.jobs : std::thread::hardware_concurrency(),
                                                        static_cast<unsigned>(files.size())));
  const fs::path scratch =
      o.keep.empty() ? fs::temp_directory_path() / fmt::format("shakedown-test-{}", getpid()) : fs::path(o.keep);
  std::atomic<std::size_t> next{0};
  std::mutex print;
  std::vector<bool> done(files.size(), false);
  std::size_t printed = 0;
  const auto print_result = [&](const ScenarioResult& r) {
    if (r.passed() && o.quiet) return;
    const char* verdict = r.code == 0 ? "PASS" : r.code == kExpectationFailed ? "FAIL" : "ERROR";
    std::fprintf(out, "%-5s %s  (%.2fs, %zu expectation%s)\n", verdict, r.path.c_str(), r.seconds,
                 r.expectations.size(), r.expectations.size() == 1 ? "" : "s");
    if (!r.passed()) {
      const std::string text = failure_text(r);
      std::string indented;
      for (std::size_t p = 0; p < text.size();) {
        const std::size_t nl = text.find('\n', p);
        indented += "      " + text.substr(p, nl == std::string::npos ? std::string::npos : nl - p + 1);
        if (nl == std::string::npos) {
          indented += '\n';
          break;
        }
        p = nl + 1;
      }
      std::fputs(indented.c_str(), out);
    }
    std::fflush(out);
  };
  const auto worker = [&] {
    for (std::size_t i = next++; i < files.size(); i = next++) {
      ScenarioResult& r = results[i];
      r.path = files[i];
      r.name = fs::path(files[i]).stem().string();
      r.kept = !o.keep.empty();
      // Folders named after the position keep two scenarios of the same name apart.
      const std::string run_dir = (scratch / fmt::format("{:03}-{}", i + 1, r.name)).string();
      const auto t = std::chrono::steady_clock::now();
      run_isolated(files[i], run_dir, o.timeout_ns, o.ranks, o.engine, r);
      r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
      // A run folder that is about to be removed is no place to send anyone.
      if (!r.kept)
        for (auto& e : r.expectations)
          if (const auto at = e.detail.find(run_dir); at != std::string::npos)
            e.detail.replace(at, run_dir.size(), "RUN_FOLDER");
      // Lines in the order of the files, whatever order the runs finish in: each
      // finished run prints itself and any finished ones after it that waited.
      std::lock_guard lock(print);
      done[i] = true;
      while (printed < files.size() && done[printed]) print_result(results[printed++]);
    }
  };
  {
    InterruptHandler handler;
    std::vector<std::thread> threads;
    for (unsigned j = 0; j < jobs; ++j) threads.emplace_back(worker);
    for (auto& th : threads) th.join();
  }
  if (o.keep.empty()) {
    std::error_code ec;
    fs::remove_all(scratch, ec);
  }
  return results;
}

std::string junit_xml(const std::vector<ScenarioResult>& results) {
  std::size_t failures = 0, errors = 0;
  double total = 0;
  for (const auto& r : results) {
    failures += r.code == kExpectationFailed ? 1 : 0;
    errors += r.code != 0 && r.code != kExpectationFailed ? 1 : 0;
    total += r.seconds;
  }
  std::string x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  x += fmt::format("<testsuites name=\"shakedown\" tests=\"{}\" failures=\"{}\" errors=\"{}\" time=\"{:.3f}\">\n",
                   results.size(), failures, errors, total);
  x += fmt::format("  <testsuite name=\"shakedown scenarios\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"0\" "
                   "time=\"{:.3f}\">\n",
                   results.size(), failures, errors, total);
  for (const auto& r : results) {
    const std::string classname = fs::path(r.path).parent_path().string();
    x += fmt::format("    <testcase name=\"{}\" classname=\"{}\" file=\"{}\" time=\"{:.3f}\"", xml_escape(r.name),
                     xml_escape(classname.empty() ? "scenarios" : classname), xml_escape(r.path), r.seconds);
    if (r.passed()) {
      x += "/>\n";
      continue;
    }
    x += ">\n";
    const std::string text = failure_text(r);
    if (r.code == kExpectationFailed) {
      std::size_t failed = 0;
      for (const auto& e : r.expectations) failed += e.passed ? 0 : 1;
      x += fmt::format("      <failure message=\"{} of {} expectations failed\" type=\"expectation\">{}</failure>\n",
                       failed, r.expectations.size(), xml_escape(text));
    } else {
      const std::string first_line = text.substr(0, text.find('\n'));
      x += fmt::format("      <error message=\"{}\" type=\"{}\">{}</error>\n", xml_escape(first_line),
                       r.code == kBadInput ? "bad input" : "run failed", xml_escape(text));
    }
    x += "    </testcase>\n";
  }
  x += "  </testsuite>\n</testsuites>\n";
  return x;
}

int test_main(const TestOptions& o, std::FILE* out, std::FILE* err) {
  std::vector<std::string> files;
  try {
    files = find_scenarios(o.paths, o.filter);
  } catch (const std::invalid_argument& e) {
    std::fprintf(err, "shakedown test: %s\n", e.what());
    return kBadInput;
  }
  if (files.empty()) {
    std::fprintf(err, "shakedown test: no scenario files (*.yaml) %s\n",
                 o.filter.empty() ? "under the paths given" : "match the filter");
    return kBadInput;
  }
  const auto t = std::chrono::steady_clock::now();
  const auto results = run_scenarios(files, o, out);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  std::size_t passed = 0, failed = 0, errors = 0;
  for (const auto& r : results) {
    passed += r.passed() ? 1 : 0;
    failed += r.code == kExpectationFailed ? 1 : 0;
    errors += r.code != 0 && r.code != kExpectationFailed ? 1 : 0;
  }
  std::fprintf(out, "%zu scenario%s: %zu passed, %zu failed, %zu could not run (%.2fs)\n", results.size(),
               results.size() == 1 ? "" : "s", passed, failed, errors, wall);
  if (!o.junit.empty()) {
    std::ofstream f(o.junit, std::ios::binary);
    f << junit_xml(results);
    f.close();
    if (!f) {
      std::fprintf(err, "shakedown test: cannot write %s\n", o.junit.c_str());
      return kRunFailed;
    }
  }
  if (InterruptHandler::interrupted()) return kRunFailed;
  return failed + errors == 0 ? kSuccess : kExpectationFailed;
}

}  // namespace shakedown::controller
