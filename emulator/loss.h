// The loss stage: netem's three loss models (net/sched/sch_netem.c, loss_event), with
// the same draws compared against the same fixed-point thresholds.
#pragma once

#include <cstdint>

#include "emulator/link_params.h"
#include "emulator/random.h"

namespace shakedown {

class LossStage {
 public:
  LossStage(const LossModel& model, RandomStream rng);

  // True if this packet is lost. Advances the model's state.
  bool lose();

  // The Markov state, for tests: GE 1 = Good, 2 = Bad; 4-state 1..4 as in FourStateLoss.
  int state() const { return state_; }

 private:
  bool lose_gilbert_elliott();
  bool lose_four_state();

  enum class Kind : std::uint8_t { none, random, gilbert_elliott, four_state };
  Kind kind_ = Kind::none;
  RandomStream rng_;
  CorrelatedDraw random_;
  // netem's a1..a5: GE (p, r, h, 1-k, -), 4-state (p13, p31, p32, p14, p23).
  std::uint32_t a1_ = 0, a2_ = 0, a3_ = 0, a4_ = 0, a5_ = 0;
  std::uint32_t random_threshold_ = 0;
  int state_ = 1;
};

}  // namespace shakedown
