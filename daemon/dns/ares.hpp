// Ownership of c-ares objects: one unique_ptr type per C type, so raw pointers never own.
#pragma once

#include <ares.h>

#include <memory>

namespace hk::dns {

template <auto F>
struct AresFree {
  void operator()(auto* p) const noexcept { F(p); }
};

using HostentPtr = std::unique_ptr<hostent, AresFree<ares_free_hostent>>;
using MxReplyPtr = std::unique_ptr<ares_mx_reply, AresFree<ares_free_data>>;
using TxtReplyPtr = std::unique_ptr<ares_txt_ext, AresFree<ares_free_data>>;

}  // namespace hk::dns
