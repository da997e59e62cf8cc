// PublicSuffixList: libpsl's list, loaded once, and §3.2 of RFC 7489 over it.
#include "lib/dmarc/org_domain.hpp"

#include "lib/base/ascii.hpp"

namespace hk::dmarc {

PublicSuffixList::PublicSuffixList(psl_ctx_t* owned, const psl_ctx_t* ctx, std::string source)
    : owned_(owned), ctx_(ctx), source_(std::move(source)) {}

PublicSuffixList PublicSuffixList::system() {
  if (psl_ctx_t* latest = psl_latest(nullptr)) {
    const char* dist = psl_dist_filename();
    std::string from =
        dist && *dist ? "newest of " + std::string(dist) + " and built-in" : "newest";
    return PublicSuffixList(latest, latest, std::move(from));
  }
  return PublicSuffixList(nullptr, psl_builtin(), "built-in");
}

std::unique_ptr<PublicSuffixList> PublicSuffixList::load_file(const std::string& path) {
  psl_ctx_t* ctx = psl_load_file(path.c_str());
  if (ctx == nullptr) {
    return nullptr;
  }
  return std::unique_ptr<PublicSuffixList>(new PublicSuffixList(ctx, ctx, path));
}

std::string PublicSuffixList::organizational_domain(std::string_view domain) const {
  std::string name = base::to_lower(domain);
  if (!name.empty() && name.back() == '.') {
    name.pop_back();
  }
  if (name.empty() || ctx_ == nullptr) {
    return name;
  }
  // A pointer into `name`: its registrable domain (public suffix + 1 label), or null when the
  // name is a public suffix itself.
  const char* org = psl_registrable_domain(ctx_, name.c_str());
  return org ? std::string(org) : name;
}

}  // namespace hk::dmarc
