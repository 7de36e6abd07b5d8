// What the picture files share inside controller/ (not part of pictures.h).
#pragma once

#include <string>
#include <string_view>

#include "controller/pictures.h"

namespace shakedown::controller {

// Whether a flags field ("SYN,ACK") has this flag.
bool has_flag(const std::string& flags, std::string_view f);
// "SYN seq=0", "SYN,ACK seq=0 ack=1", "ACK seq=1 ack=1", "PSH,ACK seq=1 ack=1 len=1000".
std::string label(const ConnectionTrace& c, const ConnectionTrace::Segment& s);
// " — refused" or " — not taken" for data the receiver's TCP did not take, else "".
std::string not_taken_note(const ConnectionTrace::Segment& s);

}  // namespace shakedown::controller
