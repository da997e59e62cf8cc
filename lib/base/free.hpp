// Free<F>: the deleter for unique_ptr over a C library's object, so that raw pointers never own
// (`std::unique_ptr<SSL_CTX, Free<SSL_CTX_free>>`). One template for every C library we use.
#pragma once

namespace hk::base {

template <auto F>
struct Free {
  void operator()(auto* p) const noexcept { F(p); }
};

}  // namespace hk::base
