// Offline DKIM verification: libopendkim with a key-lookup callback that answers from memory.
#include "lib/dkim/verify.hpp"

#include <cstring>

#include "lib/dkim/message.hpp"
#include "lib/dkim/opendkim.hpp"

namespace hk::dkim {
namespace {

// Every signature is evaluated (the one-key form), or only the one at this position.
constexpr std::size_t kAllSignatures = static_cast<std::size_t>(-1);

// What one verification hands to the callbacks through the handle's user context.
struct VerifyContext {
  std::string record;
  std::size_t index = kAllSignatures;
};

// libopendkim calls this instead of querying DNS; the record comes from the per-handle user
// context. It must not throw: it runs inside C code.
DKIM_CBSTAT lookup_given_key(DKIM* dkim, DKIM_SIGINFO* /*sig*/, u_char* buf,
                             size_t buflen) noexcept {
  const auto* ctx = static_cast<const VerifyContext*>(dkim_get_user_context(dkim));
  if (ctx == nullptr || buflen == 0 || ctx->record.size() >= buflen) {
    return DKIM_CBSTAT_ERROR;
  }
  std::memcpy(buf, ctx->record.data(), ctx->record.size());
  buf[ctx->record.size()] = '\0';
  return DKIM_CBSTAT_CONTINUE;
}

// Called once the headers are read: when one signature is wanted, the others are ignored so that
// neither their keys are asked for nor their hashes computed.
DKIM_CBSTAT prescreen(DKIM* dkim, DKIM_SIGINFO** sigs, int nsigs) noexcept {
  const auto* ctx = static_cast<const VerifyContext*>(dkim_get_user_context(dkim));
  if (ctx == nullptr || ctx->index == kAllSignatures) {
    return DKIM_CBSTAT_CONTINUE;
  }
  for (int i = 0; i < nsigs; ++i) {
    if (static_cast<std::size_t>(i) != ctx->index) {
      dkim_sig_ignore(sigs[i]);
    }
  }
  return DKIM_CBSTAT_CONTINUE;
}

// The signature at `index` after dkim_eom, or null.
DKIM_SIGINFO* signature_at(DKIM* dkim, std::size_t index) {
  DKIM_SIGINFO** sigs = nullptr;
  int nsigs = 0;
  if (dkim_getsiglist(dkim, &sigs, &nsigs) != DKIM_STAT_OK || sigs == nullptr ||
      index >= static_cast<std::size_t>(nsigs)) {
    return nullptr;
  }
  return sigs[index];
}

// One library handle for all verifications; it is configured once here (thread-safe static
// initialisation) and only read afterwards. Null when libopendkim could not start.
DKIM_LIB* verify_lib() {
  static DkimLibPtr lib = [] {
    DkimLibPtr made(dkim_init(nullptr, nullptr));
    if (made) {
      dkim_set_key_lookup(made.get(), lookup_given_key);
      dkim_set_prescreen(made.get(), prescreen);
    }
    return made;
  }();
  return lib.get();
}

std::string text_of(const unsigned char* s) {
  return s == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(s));
}

u_char* bytes(std::string& s) { return reinterpret_cast<u_char*>(s.data()); }

DkimVerifyResult error_result(std::string result, DKIM* dkim, DKIM_STAT status) {
  std::string detail = dkim_getresultstr(status);
  const char* more = dkim != nullptr ? dkim_geterror(dkim) : nullptr;
  if (more != nullptr && *more != '\0') {
    detail += std::string(": ") + more;
  }
  return {std::move(result), "", "", std::move(detail)};
}

// RFC 8601 §2.7.1: a key or signature that can never verify is permerror; a resource or lookup
// problem that may go away is temperror.
std::string result_for(DKIM_STAT status) {
  switch (status) {
    case DKIM_STAT_BADSIG:
      return "fail";
    case DKIM_STAT_NOSIG:
      return "none";
    case DKIM_STAT_NORESOURCE:
    case DKIM_STAT_INTERNAL:
    case DKIM_STAT_CBTRYAGAIN:
    case DKIM_STAT_CANTVRFY:
      return "temperror";
    default:
      return "permerror";
  }
}

DkimVerifyResult verify_one(const MessageSource& message, const std::string& txt_record_value,
                            std::size_t index) {
  DKIM_LIB* lib = verify_lib();
  if (lib == nullptr) {
    return {"temperror", "", "", "libopendkim: dkim_init failed"};
  }
  DKIM_STAT status = DKIM_STAT_OK;
  DkimPtr dkim(dkim_verify(lib, reinterpret_cast<const u_char*>("hikyaku"), nullptr, &status));
  if (!dkim) {
    return error_result("temperror", nullptr, status);
  }
  VerifyContext ctx{txt_record_value, index};
  dkim_set_user_context(dkim.get(), &ctx);

  SplitMessage split = split_message(message.header_section());
  for (std::string& field : split.fields) {
    status = dkim_header(dkim.get(), bytes(field), field.size());
    if (status != DKIM_STAT_OK) {
      return error_result("permerror", dkim.get(), status);
    }
  }
  status = dkim_eoh(dkim.get());
  if (status == DKIM_STAT_OK) {
    // libopendkim canonicalizes and hashes each piece as it comes (it keeps only held-back
    // trailing empty lines), so the body is never whole in memory here.
    bool read = message.read_body([&](std::string_view piece) {
      // dkim_body takes a non-const pointer but only reads the buffer.
      status = dkim_body(dkim.get(), reinterpret_cast<u_char*>(const_cast<char*>(piece.data())),
                         piece.size());
      return status == DKIM_STAT_OK;
    });
    if (!read && status == DKIM_STAT_OK) {
      return {"temperror", "", "", "the message could not be read back"};
    }
  }
  if (status == DKIM_STAT_OK) {
    status = dkim_eom(dkim.get(), nullptr);
  }
  DKIM_SIGINFO* sig =
      index == kAllSignatures ? dkim_getsignature(dkim.get()) : signature_at(dkim.get(), index);
  if (sig == nullptr && index != kAllSignatures) {
    return {"none", "", "", "no DKIM-Signature at position " + std::to_string(index)};
  }
  if (sig == nullptr) {
    return error_result(result_for(status), dkim.get(), status);
  }
  DkimVerifyResult out;
  out.domain = text_of(dkim_sig_getdomain(sig));
  out.selector = text_of(dkim_sig_getselector(sig));
  if (index != kAllSignatures && status == DKIM_STAT_NOSIG) {
    status = DKIM_STAT_OK;  // the other signatures were ignored on purpose; judge this one
  }
  if (status == DKIM_STAT_OK && DKIM_SIG_CHECK(sig)) {
    out.result = "pass";
    out.detail = "signature verified";
    return out;
  }
  int err = dkim_sig_geterror(sig);
  out.detail = err != DKIM_SIGERROR_OK ? dkim_sig_geterrorstr(err) : dkim_getresultstr(status);
  if (dkim_sig_getbh(sig) == DKIM_SIGBH_MISMATCH) {
    out.result = "fail";
    out.detail = "body hash mismatch";
  } else if (err == DKIM_SIGERROR_BADSIG || status == DKIM_STAT_BADSIG) {
    out.result = "fail";
  } else if (err == DKIM_SIGERROR_KEYFAIL || err == DKIM_SIGERROR_MULTIREPLY) {
    out.result = "temperror";  // the key lookup failed; it may work later
  } else if (status == DKIM_STAT_NORESOURCE || status == DKIM_STAT_INTERNAL) {
    out.result = "temperror";
  } else {
    // RFC 6376 §6.1.1-6.1.2: a malformed signature or key record is a permanent failure.
    out.result = "permerror";
  }
  return out;
}

}  // namespace

StringMessage::StringMessage(std::string_view message) {
  HeaderAndBody parts = header_and_body(message);
  header_ = parts.header;
  body_ = parts.body;
}

bool StringMessage::read_body(const std::function<bool(std::string_view)>& piece) const {
  if (body_.empty()) {
    return true;
  }
  piece(to_crlf(body_));
  return true;
}

DkimVerifyResult verify_with_key(const std::string& message, const std::string& txt_record_value) {
  return verify_one(StringMessage(message), txt_record_value, kAllSignatures);
}

DkimVerifyResult verify_with_key(const std::string& message, const std::string& txt_record_value,
                                 std::size_t index) {
  return verify_with_key(StringMessage(message), txt_record_value, index);
}

DkimVerifyResult verify_with_key(const MessageSource& message, const std::string& txt_record_value,
                                 std::size_t index) {
  if (index == kAllSignatures) {
    return {"none", "", "", "no such DKIM-Signature"};
  }
  return verify_one(message, txt_record_value, index);
}

}  // namespace hk::dkim
