// A file of records (pcap records, lines of events.jsonl) that only ever holds whole
// ones. Records collect in a buffer that goes to the file by write(2) only at a record
// boundary, so a process stopped at any moment — Ctrl-C, a crash, SIGKILL — leaves
// whole records: at worst the last buffer is missing (or, if the kill lands inside the
// write call itself, cut short). stdio would spill its buffer at any byte.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace shakedown {

class RecordFile {
 public:
  // Creates or truncates the file; throws std::runtime_error naming the path and the
  // system's reason if it cannot.
  explicit RecordFile(std::string path, std::size_t buffer_bytes = 1 << 20);
  RecordFile(const RecordFile&) = delete;
  RecordFile& operator=(const RecordFile&) = delete;
  ~RecordFile();  // flushes; errors then are lost (call flush() to see them)

  // Starts a record; its bytes follow with add(); end() closes it. Between end() and the
  // next begin() the buffer holds only whole records.
  void add(std::span<const std::uint8_t> bytes) {
    buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
  }
  void add(std::string_view text) { add(std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size())); }
  void end() {
    if (buffer_.size() >= capacity_) flush();
  }
  // Writes the whole records buffered; throws std::runtime_error on a write error.
  void flush();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
  std::size_t capacity_;
  std::vector<std::uint8_t> buffer_;
};

}  // namespace shakedown
