#include "emulator/record_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

namespace shakedown {

RecordFile::RecordFile(std::string path, std::size_t buffer_bytes) : path_(std::move(path)), capacity_(buffer_bytes) {
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) throw std::runtime_error(fmt::format("cannot create {}: {}", path_, std::strerror(errno)));
  buffer_.reserve(capacity_ + 4096);
}

RecordFile::~RecordFile() {
  try {
    flush();
  } catch (const std::exception&) {
    // Nothing to tell from a destructor; flush() explicitly to hear of it.
  }
  if (fd_ >= 0) ::close(fd_);
}

void RecordFile::flush() {
  std::size_t done = 0;
  while (done < buffer_.size()) {
    const ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int e = errno;
      buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(done));
      throw std::runtime_error(fmt::format("cannot write {}: {}", path_, std::strerror(e)));
    }
    done += static_cast<std::size_t>(n);
  }
  buffer_.clear();
}

}  // namespace shakedown
