#include "emulator/loss.h"

#include <limits>
#include <type_traits>

namespace shakedown {

LossStage::LossStage(const LossModel& model, RandomStream rng) : rng_(rng) {
  std::visit(
      [this](const auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, RandomLoss>) {
          kind_ = Kind::random;
          random_threshold_ = m.probability.threshold();
          random_ = CorrelatedDraw(m.correlation.threshold(), rng_);
        } else if constexpr (std::is_same_v<T, GilbertElliottLoss>) {
          kind_ = Kind::gilbert_elliott;
          a1_ = m.p.threshold();
          a2_ = m.r.threshold();
          // The kernel keeps h, not the 1-h users write (tc converts it).
          a3_ = std::numeric_limits<std::uint32_t>::max() - m.one_minus_h.threshold();
          a4_ = m.one_minus_k.threshold();
        } else if constexpr (std::is_same_v<T, FourStateLoss>) {
          kind_ = Kind::four_state;
          a1_ = m.p13.threshold();
          a2_ = m.p31.threshold();
          a3_ = m.p32.threshold();
          a4_ = m.p14.threshold();
          a5_ = m.p23.threshold();
        }
      },
      model);
}

bool LossStage::lose() {
  switch (kind_) {
    case Kind::none:
      return false;
    // "Random packet drop 0 => none, ~0 => all".
    case Kind::random:
      return random_threshold_ != 0 && random_threshold_ >= random_.next(rng_);
    case Kind::gilbert_elliott:
      return lose_gilbert_elliott();
    case Kind::four_state:
      return lose_four_state();
  }
  return false;
}

// The state changes first; the loss is then drawn with the probability of the state
// the packet arrived in, exactly as netem's loss_gilb_ell does.
bool LossStage::lose_gilbert_elliott() {
  if (state_ == 1) {
    if (rng_.next_u32() < a1_) state_ = 2;
    return rng_.next_u32() < a4_;
  }
  if (rng_.next_u32() < a2_) state_ = 1;
  return rng_.next_u32() > a3_;
}

// One draw per packet, compared with the cumulative transition probabilities leaving
// the current state, as netem's loss_4state does. Entering state 3 or 4 is a loss.
bool LossStage::lose_four_state() {
  const std::uint32_t rnd = rng_.next_u32();
  // Sums of two thresholds can exceed 32 bits; the kernel's u32 sum would wrap, which
  // only happens for probabilities that add up to more than 100%, and the loader
  // rejects those. Compare in 64 bits all the same.
  const std::uint64_t r = rnd;
  switch (state_) {
    case 1:  // transmitted, in a gap
      if (r < a4_) {
        state_ = 4;
        return true;
      }
      if (r < std::uint64_t{a1_} + a4_) {
        state_ = 3;
        return true;
      }
      return false;
    case 2:  // transmitted, in a burst
      if (r < a5_) {
        state_ = 3;
        return true;
      }
      return false;
    case 3:  // lost, in a burst
      if (r < a3_) {
        state_ = 2;
        return false;
      }
      if (r < std::uint64_t{a2_} + a3_) {
        state_ = 1;
        return false;
      }
      return true;
    case 4:  // isolated loss
      state_ = 1;
      return false;
  }
  return false;
}

}  // namespace shakedown
