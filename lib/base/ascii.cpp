// ASCII case folding.
#include "lib/base/ascii.hpp"

namespace hk::base {

std::string to_lower(std::string_view s) {
  std::string out(s);
  lower_in_place(out);
  return out;
}

std::string to_upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    c = to_upper(c);
  }
  return out;
}

void lower_in_place(std::string& s) {
  for (char& c : s) {
    c = to_lower(c);
  }
}

bool all_ascii(std::string_view s) {
  for (char c : s) {
    if (!is_ascii(c)) {
      return false;
    }
  }
  return true;
}

}  // namespace hk::base
