// Pictures of a run, drawn from the files it left (docs/traces.md, "Pictures"):
//  - the ladder (message-sequence) diagram of one connection, as SVG and as a Mermaid
//    sequence diagram: two time lines, an arrow per segment labelled with its flags,
//    relative seq and ack and length, each side's state where it changes, lost
//    segments ending in a cross;
//  - the time-sequence graph of one side of a connection (sequence number against
//    time, retransmissions in red, the peer's ACKs as a line);
//  - the CDF of the run's handshake times.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace shakedown::controller {

class PictureError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A span of a run's time [from, to], in ns.
struct TimeWindow {
  std::int64_t from = 0;
  std::int64_t to = INT64_MAX;
  bool all() const { return from == 0 && to == INT64_MAX; }
};

// One connection as the pictures need it, read from a run's folder.
struct ConnectionTrace {
  std::uint64_t id = 0;
  std::string run_name;
  std::string name[2];     // client, server host names
  std::string address[2];  // "198.18.0.1:32768"
  std::optional<std::uint32_t> isn[2];
  std::string outcome;
  // A real host's end (docs/realtime.md): Linux's TCP, whose states and sends the run
  // does not see — only what crossed its link.
  bool real[2] = {false, false};

  struct Segment {
    int from = 0;                       // side that sent it
    std::optional<std::int64_t> sent;   // ns; missing when the send belongs to no trace we have
    std::vector<std::int64_t> received;  // ns, one per copy that arrived (duplicates)
    // Data the receiving TCP did not take when it first arrived: a duplicate of what
    // it had, or a segment refused (PAWS, outside the window).
    bool not_taken = false;
    std::optional<std::int64_t> dropped;
    std::string drop_reason;
    std::string flags;  // "SYN,ACK"
    std::uint32_t seq = 0, ack = 0, len = 0;
    bool retransmission = false;
    // The other end belongs to another connection's trace: sent by an earlier
    // incarnation of the four-tuple, or received by a later one.
    std::optional<std::uint64_t> sent_by, received_by;
  };
  struct StateChange {
    int side = 0;
    std::int64_t t = 0;
    std::string from, to;
  };
  std::vector<Segment> segments;  // in order of sending (or of arrival, when the send is unknown)
  std::vector<StateChange> states;

  std::uint32_t relative_seq(int side, std::uint32_t seq) const;
  std::uint32_t relative_ack(int side, std::uint32_t ack) const;  // an ack sent by `side`
};

// Reads connection `id` from DIR/connections.csv and DIR/events.jsonl. Throws
// PictureError naming the file and what is missing.
ConnectionTrace read_connection(const std::string& dir, std::uint64_t id);

// The part of a connection that happened in a window: the segments sent, received or
// lost in it (a segment keeps both ends even if one is outside) and its state changes.
ConnectionTrace within(const ConnectionTrace& c, TimeWindow window);

std::string ladder_svg(const ConnectionTrace& c);
std::string ladder_mermaid(const ConnectionTrace& c);
// side: 0 client, 1 server; nullopt: whichever sent more bytes. A time window zooms in
// on part of a long transfer.
std::string time_sequence_svg(const ConnectionTrace& c, std::optional<int> side = std::nullopt, TimeWindow window = {});

// Lines over a shared x axis (a parameter swept), one per series; points with no
// value (NaN) are skipped. With log_x the x axis is logarithmic, ticked at powers of
// ten (every x must then be positive).
struct Series {
  std::string name;
  std::vector<double> ys;
};
std::string line_chart_svg(const std::string& title, const std::string& xlabel, const std::string& ylabel,
                           const std::vector<double>& xs, const std::vector<Series>& series, bool log_x = false);

// Handshake times (ns) of every connection that completed its handshake, from
// DIR/connections.csv.
std::vector<std::int64_t> read_handshakes(const std::string& dir);
std::string cdf_svg(const std::vector<std::int64_t>& values_ns, const std::string& title);

}  // namespace shakedown::controller
