// Ownership of libopendkim objects: one unique_ptr type per C type, so raw pointers never own.
#pragma once

#include <memory>

#include "lib/base/free.hpp"

// dkim.h is C and spells bool `_Bool`, which C++ does not have; the two share one ABI on every
// platform we build for, so the prototypes are declared with bool.
#define _Bool bool
#include <opendkim/dkim.h>
#undef _Bool

namespace hk::dkim {

using DkimLibPtr = std::unique_ptr<DKIM_LIB, base::Free<dkim_close>>;
// dkim_free() returns a status; a handle is freed whatever it says.
using DkimPtr = std::unique_ptr<DKIM, base::Free<dkim_free>>;

}  // namespace hk::dkim
