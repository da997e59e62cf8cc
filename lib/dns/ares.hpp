// Ownership of c-ares objects: one unique_ptr type per C type, so raw pointers never own.
#pragma once

#include <ares.h>

#include <memory>

#include "lib/base/free.hpp"

namespace hk::dns {

using HostentPtr = std::unique_ptr<hostent, base::Free<ares_free_hostent>>;
using MxReplyPtr = std::unique_ptr<ares_mx_reply, base::Free<ares_free_data>>;
using TxtReplyPtr = std::unique_ptr<ares_txt_ext, base::Free<ares_free_data>>;

}  // namespace hk::dns
