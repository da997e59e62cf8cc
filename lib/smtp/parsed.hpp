// Parsed<T>: the outcome of parsing client input — either a value or the Reply that rejects it,
// ready to be sent as is.
#pragma once

#include <utility>

#include "lib/smtp/reply.hpp"

namespace hk::smtp {

template <class T>
struct Parsed {
  bool ok = false;
  T value{};
  Reply error;  // meaningful only when !ok

  explicit operator bool() const { return ok; }

  static Parsed success(T v) {
    Parsed p;
    p.ok = true;
    p.value = std::move(v);
    return p;
  }
  static Parsed failure(Reply r) {
    Parsed p;
    p.error = std::move(r);
    return p;
  }
};

}  // namespace hk::smtp
