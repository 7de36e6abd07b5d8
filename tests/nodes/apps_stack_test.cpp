// The socket API over a client -- router -- server line (5 ms per link, 20 ms RTT):
// which callbacks come, when, and that every connection ends exactly once.
#include "nodes/apps/stack.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "network_support.h"

namespace shakedown {
namespace {

using apps::Failure;
using apps::Socket;
using testing::build_line;
using testing::t;

// Records every callback as "time kind", and optionally acts on some.
class Recorder : public apps::Handler {
 public:
  void on_connected(Socket s) override {
    log("connected");
    last = s;
    if (send_on_connect > 0) sent += s.send(send_on_connect);
    if (close_on_connect) s.close();
  }
  void on_readable(Socket s, std::uint64_t bytes) override {
    received += bytes;
    s.read(bytes);
  }
  void on_writable(Socket s) override {
    ++writable;
    space_when_writable.push_back(s.send_space());
    if (sent < want) sent += s.send(want - sent);
    if (sent == want && close_when_sent) s.close();
  }
  void on_peer_closed(Socket s) override {
    log("peer_closed");
    if (close_on_peer_close) s.close();
  }
  void on_closed(Socket) override { end("closed"); }
  void on_reset(Socket) override { end("reset"); }
  void on_failed(Socket, Failure why) override {
    end(why == Failure::refused     ? "refused"
        : why == Failure::timed_out ? "timed_out"
                                    : "crashed");
  }
  void on_acceptable(apps::Stack& stack, std::uint16_t port) override {
    log("acceptable");
    if (accept_later) return;
    last = *stack.accept(port);
  }

  void log(const std::string& what) { events.push_back(std::to_string(clock->now().ns() / 1'000'000) + "ms " + what); }
  void end(const std::string& how) {
    ++ends;
    log(how);
  }

  const Engine* clock = nullptr;
  std::vector<std::string> events;
  std::optional<Socket> last;
  int ends = 0;
  std::uint64_t received = 0, sent = 0, want = 0, send_on_connect = 0;
  int writable = 0;
  std::vector<std::uint64_t> space_when_writable;
  bool close_on_connect = false, close_on_peer_close = false, close_when_sent = false, accept_later = false;
};

struct Line {
  explicit Line(const tcp::Config& config = {}, std::uint64_t send_buffer = apps::Stack::kDefaultSendBuffer)
      : net(engine, pool, 1) {
    const auto l = build_line(net, 5_ms, config);
    client = l.client;
    server = l.server;
    net.build();
    client_stack = std::make_unique<apps::Stack>(net.host(client), send_buffer);
    server_stack = std::make_unique<apps::Stack>(net.host(server), send_buffer);
    c.clock = &engine;
    s.clock = &engine;
  }
  void connect_at(TimePoint when, std::uint16_t port = 80) {
    engine.at(when, [this, port] { client_socket = client_stack->connect(net.address(server), port, c); });
  }
  Engine engine;
  PacketPool pool;
  Network net;
  std::uint32_t client = 0, server = 0;
  std::unique_ptr<apps::Stack> client_stack, server_stack;
  Recorder c, s;
  std::optional<Socket> client_socket;
};

TEST(Stack, OpenExchangeAndCloseCallbacksAtTheirTimes) {
  tcp::Config cfg;
  cfg.msl = 1_s;  // TIME_WAIT 2 s
  Line l(cfg);
  l.server_stack->listen(80, l.s);
  l.s.close_on_peer_close = true;
  l.c.send_on_connect = 5000;
  l.c.close_on_connect = true;
  l.connect_at(t(0_ms));
  l.engine.run_until(t(10_s));
  // Client ESTABLISHED after one RTT; the server after one and a half. The client's
  // FIN follows its data; the server closes at once on it (30 ms + ...), and the client
  // leaves TIME_WAIT 2 s after the server's FIN reached it.
  EXPECT_EQ(l.c.events, (std::vector<std::string>{"20ms connected", "40ms peer_closed", "2040ms closed"}));
  EXPECT_EQ(l.s.events, (std::vector<std::string>{"30ms connected", "30ms peer_closed", "50ms closed"}));
  EXPECT_EQ(l.s.received, 5000u);
  EXPECT_EQ(l.c.ends, 1);
  EXPECT_EQ(l.s.ends, 1);
  EXPECT_EQ(l.client_stack->open_sockets(), 0u);
  EXPECT_EQ(l.server_stack->open_sockets(), 0u);
  EXPECT_EQ(l.net.host(l.server).stats().payload_bytes_verified, 5000u);
  EXPECT_EQ(l.net.host(l.server).stats().payload_bytes_wrong, 0u);
}

TEST(Stack, NobodyListeningIsRefused) {
  Line l;
  l.connect_at(t(0_ms), 81);
  l.engine.run_until(t(1_s));
  EXPECT_EQ(l.c.events, (std::vector<std::string>{"20ms refused"}));
  EXPECT_EQ(l.client_stack->open_sockets(), 0u);
}

TEST(Stack, TheSendBufferBoundsSendAndWritableFollows) {
  tcp::Config cfg;
  cfg.msl = 1_s;
  Line l(cfg, /*send_buffer=*/30'000);
  l.server_stack->listen(80, l.s);
  l.s.close_on_peer_close = true;
  l.c.want = 1'000'000;
  l.c.send_on_connect = l.c.want;
  l.c.close_when_sent = true;
  l.connect_at(t(0_ms));
  l.engine.run_until(t(1_ms));
  ASSERT_TRUE(l.client_socket.has_value());
  EXPECT_EQ(l.client_socket->send_space(), 30'000u);
  l.engine.run_until(t(60_s));
  EXPECT_EQ(l.s.received, 1'000'000u) << "every byte arrived through a 30 KB buffer";
  // The first send took exactly the buffer; each wake-up came with at least a third free.
  EXPECT_GT(l.c.writable, 30);
  for (std::uint64_t space : l.c.space_when_writable) EXPECT_GE(space * 3, 30'000u);
  EXPECT_EQ(l.c.ends, 1);
  EXPECT_EQ(l.net.host(l.server).stats().payload_bytes_verified, 1'000'000u);
}

TEST(Stack, AbortResetsThePeerAndIsSilentLocally) {
  Line l;
  l.server_stack->listen(80, l.s);
  l.connect_at(t(0_ms));
  l.engine.at(t(100_ms), [&] { l.client_socket->abort(); });
  l.engine.run_until(t(1_s));
  EXPECT_EQ(l.c.events, (std::vector<std::string>{"20ms connected"}));
  EXPECT_EQ(l.s.events, (std::vector<std::string>{"30ms connected", "110ms reset"}));
  EXPECT_EQ(l.net.host(l.client).tcp().connections(), 0u);
  EXPECT_EQ(l.net.host(l.server).tcp().connections(), 0u);
}

TEST(Stack, ManualAcceptReportsBytesThatCameBefore) {
  Line l;
  apps::ListenOptions opts;
  opts.auto_accept = false;
  l.server_stack->listen(80, l.s, opts);
  l.s.accept_later = true;
  l.c.send_on_connect = 700;
  l.connect_at(t(0_ms));
  l.engine.run_until(t(200_ms));
  EXPECT_EQ(l.s.events, (std::vector<std::string>{"30ms acceptable"}));
  EXPECT_EQ(l.s.received, 0u);
  EXPECT_EQ(l.server_stack->open_sockets(), 0u);
  l.engine.at(t(300_ms), [&] { ASSERT_TRUE(l.server_stack->accept(80).has_value()); });
  l.engine.run_until(t(400_ms));
  EXPECT_EQ(l.s.received, 700u);
  EXPECT_EQ(l.server_stack->open_sockets(), 1u);
  EXPECT_FALSE(l.server_stack->accept(80).has_value()) << "the queue held one connection";
}

TEST(Stack, ACrashEndsEverySocketAndTheRestartedHostListensAgain) {
  Line l;
  l.server_stack->listen(80, l.s);
  l.connect_at(t(0_ms));
  l.engine.at(t(1_s), [&] { l.net.host(l.server).crash(); });
  l.engine.at(t(2_s), [&] { l.net.host(l.server).restart(); });
  l.connect_at(t(3_s));
  l.engine.run_until(t(4_s));
  EXPECT_EQ(l.s.events, (std::vector<std::string>{"30ms connected", "1000ms crashed", "3030ms connected"}));
  EXPECT_EQ(l.c.events, (std::vector<std::string>{"20ms connected", "3020ms connected"}));
  EXPECT_EQ(l.server_stack->open_sockets(), 1u);
  // The client's first connection still believes in a server that forgot it.
  EXPECT_EQ(l.client_stack->open_sockets(), 2u);
}

TEST(Stack, ACrashedHostRefusesCommands) {
  Line l;
  l.net.host(l.client).crash();
  EXPECT_FALSE(l.client_stack->connect(l.net.address(l.server), 80, l.c).has_value());
}

}  // namespace
}  // namespace shakedown
