// The eleven states of RFC 9293 section 3.3.2, with the names textbooks and ss(8) use.
#pragma once

#include <cstdint>
#include <string_view>

namespace shakedown::tcp {

enum class State : std::uint8_t {
  closed,
  listen,
  syn_sent,
  syn_received,
  established,
  fin_wait_1,
  fin_wait_2,
  close_wait,
  closing,
  last_ack,
  time_wait,
};
inline constexpr int kStateCount = 11;

// "SYN_SENT", "ESTABLISHED", ...
constexpr std::string_view to_string(State s) {
  switch (s) {
    case State::closed:
      return "CLOSED";
    case State::listen:
      return "LISTEN";
    case State::syn_sent:
      return "SYN_SENT";
    case State::syn_received:
      return "SYN_RECEIVED";
    case State::established:
      return "ESTABLISHED";
    case State::fin_wait_1:
      return "FIN_WAIT_1";
    case State::fin_wait_2:
      return "FIN_WAIT_2";
    case State::close_wait:
      return "CLOSE_WAIT";
    case State::closing:
      return "CLOSING";
    case State::last_ack:
      return "LAST_ACK";
    case State::time_wait:
      return "TIME_WAIT";
  }
  return "?";
}

// RFC 9293 3.3.2: the states in which both sides' initial sequence numbers are known.
constexpr bool synchronized(State s) {
  return s != State::closed && s != State::listen && s != State::syn_sent && s != State::syn_received;
}

}  // namespace shakedown::tcp
