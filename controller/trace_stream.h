// The traces of a distributed run. Every process runs some of the hosts, routers and
// link ends; what they report (segments, connection events, crashes, packet events)
// is recorded by one recorder, on rank 0, in the order one process would have reported
// it — so that events.jsonl, connections.csv, summary.json and the captures are the
// same bytes as a single process writes.
//
// Each process writes what its components report, as it happens, into a stream of
// records (a TraceShipper is its observer), each tagged with where one process would
// have reported it: the time and key of the event running (scheduler.h), the step
// within that event (engine.h), and its own count. Every process runs its events in
// that order, so each stream is sorted. After every window rank 0 gathers the streams
// and merges them (TraceMerger): everything earlier than the window's end has been
// reported by then, so what the merge hands on is final, and memory holds one window.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "controller/recorder.h"
#include "emulator/engine.h"
#include "emulator/packet.h"
#include "emulator/trace.h"
#include "nodes/observer.h"

namespace shakedown::controller {

class TraceShipper final : public Observer, public TcpObserver {
 public:
  // every_packet: all packet events (captures want them); otherwise only drops (what
  // the recorder wants), which is most of the saving on a busy run. `needs`: the
  // reports the recorder does something with (recorder.h); only those travel.
  TraceShipper(const Engine& engine, bool every_packet, ReportNeeds needs)
      : engine_(engine), every_packet_(every_packet), needs_(needs) {}

  void on_packet(const PacketEvent& e) override;
  void on_segment_sent(const Host& host, tcp::ConnId conn, const wire::Ipv4Header& ip, const wire::TcpHeader& tcp,
                       std::uint32_t payload) override;
  void on_segment_received(const Host& host, const tcp::Input& input, const wire::Ipv4Header& ip,
                           const wire::TcpHeader& tcp, std::uint32_t payload) override;
  void on_tcp_event(const Host& host, tcp::ConnId conn, const tcp::Event& event) override;
  void on_crash(const Host& host) override;

  // What was reported since the last take.
  std::string take() { return std::move(out_); }

 private:
  void header(std::uint8_t type, std::int64_t t);

  const Engine& engine_;
  bool every_packet_;
  ReportNeeds needs_;
  std::string out_;
};

// Recording where the hosts run, when no event or per-host "seen" is wanted (only the
// connection table): the sides of a host's connections are recorded by the process
// that runs the host, and only what rank 0 needs to make and pair the rows in the
// order of one process travels — a side's first report (which opens it), its end, a
// crash, and segments no connection owns (which find their row by the other end's
// four-tuple). A side's fields come only from its own host's reports, so the process
// that runs the host records them exactly; at the end they replace what rank 0's
// recorder made of the few reports it saw (Distributed::gather_sides), matched by the
// host's n-th connection. This moves the recording, most of the traces' cost, off
// rank 0 and the wire.
class LocalRecording final : public TcpObserver {
 public:
  // `local`: this process's recorder (keep_open_order()); `shipper` takes what travels
  // (made with every report needed: it filters nothing it is given).
  LocalRecording(Recorder& local, TraceShipper& shipper) : local_(local), shipper_(shipper) {}

  void on_segment_sent(const Host& host, tcp::ConnId conn, const wire::Ipv4Header& ip, const wire::TcpHeader& tcp,
                       std::uint32_t payload) override;
  void on_segment_received(const Host& host, const tcp::Input& input, const wire::Ipv4Header& ip,
                           const wire::TcpHeader& tcp, std::uint32_t payload) override;
  void on_tcp_event(const Host& host, tcp::ConnId conn, const tcp::Event& event) override;
  void on_crash(const Host& host) override;

 private:
  // Whether rank 0 must see a report of this connection: its side is new.
  bool opens(const Host& host, tcp::ConnId conn);

  Recorder& local_;
  TraceShipper& shipper_;
};

class TraceMerger {
 public:
  // `packets` receives the packet events (the recorder's drops, the captures).
  TraceMerger(Recorder& recorder, Observer& packets) : recorder_(recorder), packets_(packets) {}
  // Every rank's records of one window, one stream per rank: merged and handed on.
  // Throws std::runtime_error if two ranks report at the same place in the order —
  // which would make the order depend on the split.
  void merge(const std::vector<std::string_view>& streams);

 private:
  void replay(const char* p, std::uint8_t type, std::int64_t t);

  Recorder& recorder_;
  Observer& packets_;
  PacketPool pool_;
};

}  // namespace shakedown::controller
