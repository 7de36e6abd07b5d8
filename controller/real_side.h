// A real host's side of its connections, inferred from what crosses its device.
//
// Linux's TCP on a real host reports nothing; but every segment it sends and every one
// the emulated network hands it passes the bridge, at the run's clock. RealSide follows
// each four-tuple through RFC 9293's state diagram (3.3.2, figure 5) from those
// segments alone and reports to the recorder exactly what an emulated host's TCP would
// — state changes, retransmissions, bytes taken, segments sent and received — so the
// real side has a timeline in events.jsonl, columns in connections.csv and states in
// the ladder like any other.
//
// What is inferred, and from what (docs/realtime.md):
//   SYN_SENT            its SYN leaves; a SYN sent again with the same ISN is a retransmission
//   SYN_RECEIVED        its SYN-ACK leaves, answering a SYN it was handed
//   ESTABLISHED         its ACK of the SYN-ACK leaves (active open); the ACK of its
//                       SYN-ACK is handed to it (passive open)
//   FIN_WAIT_1/LAST_ACK its FIN leaves (from ESTABLISHED / CLOSE_WAIT)
//   CLOSE_WAIT/CLOSING/ the peer's FIN is handed to it with everything before it, or
//   TIME_WAIT           (beyond a hole) its ACK covering the FIN leaves (from
//                       ESTABLISHED / FIN_WAIT_1 / FIN_WAIT_2)
//   FIN_WAIT_2/TIME_WAIT/ a segment acknowledging its FIN is handed to it (from
//   CLOSED              FIN_WAIT_1 / CLOSING / LAST_ACK)
//   CLOSED (reset)      it sends a RST, or is handed one at the sequence number it
//                       expects next; refused: a RST answering its SYN
//   bytes received      its cumulative ACK (what it has taken in order)
// Deciding by what is handed to it, in the order it is handed, keeps a simultaneous
// close a simultaneous close even when its own segments are read from the device a
// little late. A side in TIME_WAIT counts as completed: its exchange of FINs is done, and Linux's
// 60 s wait (TCP_TIMEWAIT_LEN) is not seen end. Segments with a bad checksum are what
// Linux drops unread: they change nothing.
#pragma once

#include <cstdint>
#include <span>
#include <unordered_map>

#include "controller/recorder.h"

namespace shakedown::controller {

class RealSide {
 public:
  explicit RealSide(Recorder& recorder) : recorder_(recorder) {}
  // A stack that reports its own ends (ns-3's, through ended_by_timer): a RST handed to
  // it ends a connection only when the stack says the connection ended, at that same
  // instant (ns-3 3.37 ignores a RST in SYN_SENT and goes on sending its SYN); the end
  // is then `refused` or `reset`, as the RST says.
  void ends_reported_by_the_stack() { ends_reported_ = true; }

  // The real host `host` sent this IPv4 packet (into the emulated network) at `t` ns.
  void sent(std::uint32_t host, std::int64_t t, std::span<const std::uint8_t> packet);
  // The emulated network handed this IPv4 packet to the real host `host` at `t` ns.
  void delivered(std::uint32_t host, std::int64_t t, std::span<const std::uint8_t> packet);
  // The host's own stack says the connection ended where no segment shows it: a timer
  // (TIME_WAIT's 2 MSL run out: `closed`; the SYN's or the data's retransmissions ran
  // out: `timed_out`). For a stack that reports its states (ns-3's); a real host's
  // timers are not seen.
  void ended_by_timer(std::uint32_t host, std::int64_t t, wire::Ipv4Address remote, std::uint16_t local_port,
                      std::uint16_t remote_port, tcp::EventKind why);

 private:
  struct Key {
    std::uint32_t host, remote;
    std::uint16_t local_port, remote_port;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const;
  };
  // One four-tuple's connection as the segments show it.
  struct Shadow {
    tcp::ConnId id;
    bool opened = false;  // reported: the table has a side for it
    tcp::State state = tcp::State::listen;
    std::uint32_t iss = 0, irs = 0;
    bool have_irs = false;
    std::int64_t syn_arrived = kNever;
    std::uint32_t snd_max = 0;     // one past the highest sequence number it sent
    std::uint32_t rcv_acked = 0;   // the highest ACK it sent: its RCV.NXT as last seen
    std::uint32_t handed_max = 0;  // one past the highest sequence number handed to it
    std::uint32_t handed_in_order = 0;  // one past what it was handed without a hole
    std::uint64_t taken = 0;       // in-order bytes its ACKs cover
    bool fin_sent = false, peer_fin = false, peer_fin_taken = false;
    std::uint32_t fin_seq = 0, peer_fin_seq = 0;
    std::int64_t rst_at = kNever;  // an acceptable RST handed to it (ends_reported_)
    tcp::EventKind rst_means = tcp::EventKind::reset;
  };

  ConnFacts facts(const Key& k, const Shadow& s) const;
  void change(std::uint32_t host, std::int64_t t, const Key& k, Shadow& s, tcp::State to);
  void retransmitted(std::uint32_t host, std::int64_t t, const Key& k, const Shadow& s, tcp::SegmentKind kind,
                     std::uint32_t seq);
  void ended(std::uint32_t host, std::int64_t t, const Key& k, Shadow& s, tcp::EventKind why);
  void take_peer_fin(std::uint32_t host, std::int64_t t, const Key& k, Shadow& s);

  Recorder& recorder_;
  bool ends_reported_ = false;
  std::unordered_map<Key, Shadow, KeyHash> shadows_;
  std::uint32_t next_slot_ = 0;
};

}  // namespace shakedown::controller
