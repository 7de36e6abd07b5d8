// Every knob of shakedown's TCP, with Linux's default beside the RFC's value. The
// defaults are Linux's, because the connections people study run on Linux; the RFC
// value is one setting away.
#pragma once

#include <cstdint>

#include "emulator/time.h"
#include "nodes/tcp/congestion.h"

namespace shakedown::tcp {

struct Config {
  // --- Retransmission timeout (RFC 6298) -----------------------------------------
  // Initial RTO before any RTT sample: 1 s (RFC 6298 2.1; Linux TCP_TIMEOUT_INIT).
  Duration initial_rto = Duration::seconds(1);
  // Lower bound. RFC 6298 2.4 says 1 s; Linux uses 200 ms (TCP_RTO_MIN).
  Duration min_rto = Duration::milliseconds(200);
  // Upper bound. RFC 6298 2.5 allows at least 60 s; Linux uses 120 s (TCP_RTO_MAX).
  Duration max_rto = Duration::seconds(120);

  // --- Retry limits ------------------------------------------------------------------
  // SYN retransmissions before connect() fails: Linux tcp_syn_retries = 6
  // (1+2+4+8+16+32+64 s: gives up after 127 s). RFC 9293 sets no number.
  int syn_retries = 6;
  // SYN-ACK retransmissions before a half-open connection is dropped: Linux
  // tcp_synack_retries = 5.
  int synack_retries = 5;
  // Data/FIN retransmissions before the connection is aborted: Linux tcp_retries2 = 15
  // (RFC 1122 4.2.3.5's R2, at least 100 s).
  int data_retries = 15;

  // --- Closing -----------------------------------------------------------------------
  // TIME_WAIT lasts 2 MSL (RFC 9293 3.6.1). RFC 793's MSL is 2 minutes (TIME_WAIT 4 min);
  // Linux fixes TIME_WAIT at 60 s (TCP_TIMEWAIT_LEN), i.e. MSL = 30 s.
  Duration msl = Duration::seconds(30);
  // Initial sequence numbers: random per connection (the default, what a run's
  // determinism needs nothing more than), or RFC 9293 3.4.1's clock — a counter that
  // ticks every 4 us, plus a hash of the four-tuple (RFC 6528) — under which a new
  // incarnation of a four-tuple starts just above the old one: what TIME_WAIT guards.
  bool isn_clock = false;
  // How long an orphaned FIN_WAIT_2 waits for the peer's FIN: Linux tcp_fin_timeout.
  Duration fin_wait_2_timeout = Duration::seconds(60);

  // --- Segments and windows ----------------------------------------------------------
  // MSS announced and used: 1460 for a 1500-byte MTU (RFC 9293 3.7.1: default 536
  // when none is announced).
  std::uint16_t mss = 1460;
  // Receive buffer: the window offered (before scaling). Linux starts at 131072 bytes
  // (tcp_rmem default) and autotunes; shakedown keeps it fixed.
  std::uint32_t receive_buffer = 131072;
  // Initial congestion window in segments: 10 (RFC 6928; Linux TCP_INIT_CWND).
  std::uint32_t initial_window = 10;
  // RFC 5681 3.1: if the SYN or SYN-ACK was lost, the initial window after the handshake
  // is one segment. Linux applies that only after more than one retransmission of the
  // SYN or SYN-ACK (tcp_init_transfer, because RFC 6298's 1 s initial RTO makes one
  // spurious retransmission likely): 2. The RFC's rule is 1; 0 never applies it.
  int syn_loss_window_after = 2;
  // Congestion control: CUBIC is Linux's default (RFC 9438); Reno and NewReno are the
  // RFC 5681 and RFC 6582 algorithms.
  CongestionAlgorithm congestion = CongestionAlgorithm::cubic;
  // Duplicate ACKs that trigger fast retransmit (RFC 5681 3.2: 3).
  int dupack_threshold = 3;

  // --- Options (all on in Linux) -----------------------------------------------------
  bool sack = true;            // RFC 2018
  bool timestamps = true;      // RFC 7323
  bool window_scaling = true;  // RFC 7323

  // PAWS (RFC 7323 5.3) drops any segment whose timestamp is older than the newest seen.
  // Linux spares a pure duplicate ACK that moves nothing (tcp_disordered_ack): under
  // ACK reordering it still counts toward fast retransmit. true is the strict RFC drop.
  bool strict_paws = false;

  // When false, received data counts as read the moment it arrives, so the window
  // never closes. When true, the application must call Connection::read(): data it
  // has not read fills the receive buffer and closes the window (flow control,
  // zero-window probing).
  bool application_reads = false;

  // --- Keepalive (RFC 1122 4.2.3.6: off by default, interval at least 2 hours) --------
  // Linux: SO_KEEPALIVE off; tcp_keepalive_time 7200 s, tcp_keepalive_intvl 75 s,
  // tcp_keepalive_probes 9 — a dead peer is declared after 7200 + 9 * 75 s of silence.
  bool keepalive = false;
  Duration keepalive_time = Duration::seconds(7200);
  Duration keepalive_interval = Duration::seconds(75);
  int keepalive_probes = 9;

  // --- Small segments -------------------------------------------------------------------
  // Nagle's algorithm (RFC 896, RFC 9293 3.7.4): at most one small segment in flight.
  // On in Linux unless TCP_NODELAY.
  bool nagle = true;

  // --- ACKs --------------------------------------------------------------------------
  // Delayed ACK: RFC 9293 3.8.6.3 allows up to 500 ms; Linux's minimum is 40 ms.
  Duration delayed_ack = Duration::milliseconds(40);

  // --- Tracing ------------------------------------------------------------------------
  // Report every timer armed as an event (timer_set). Off by default: an RTO re-armed
  // on every ACK is a lot of events; runs turn it on when their traces want them.
  bool report_timer_sets = false;

  // --- Teaching variants (off by default) ---------------------------------------------
  // A two-way handshake: the passive side is ESTABLISHED as soon as it sends SYN-ACK,
  // and an unexpected SYN-ACK is ignored instead of answered with RST — the textbook
  // argument for why TCP needs three steps.
  bool two_way_handshake = false;

  Duration time_wait() const { return msl * 2; }
  bool operator==(const Config&) const = default;
};

}  // namespace shakedown::tcp
