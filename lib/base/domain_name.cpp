// Domain-name syntax.
#include "lib/base/domain_name.hpp"

#include "lib/base/ascii.hpp"

namespace hk::base {
namespace {

constexpr size_t kMaxLabel = 63;  // RFC 1035 §2.3.4

bool valid_label(std::string_view label, LabelChars chars) {
  if (label.empty() || label.size() > kMaxLabel) {
    return false;
  }
  if (chars == LabelChars::Any) {
    return true;
  }
  if (label.front() == '-' || label.back() == '-') {
    return false;
  }
  for (char c : label) {
    bool ok = is_lower(c) || is_digit(c) || c == '-' || (chars == LabelChars::Ldh && is_upper(c));
    if (!ok) {
      return false;
    }
  }
  return true;
}

bool all_digits(std::string_view label) {
  for (char c : label) {
    if (!is_digit(c)) {
      return false;
    }
  }
  return true;
}

}  // namespace

bool is_domain_name(std::string_view name, const DomainSyntax& syntax) {
  if (syntax.trailing_dot && !name.empty() && name.back() == '.') {
    name.remove_suffix(1);
  }
  if (name.empty() || name.size() > syntax.max_length) {
    return false;
  }
  size_t labels = 0;
  size_t start = 0;
  for (;;) {
    size_t dot = name.find('.', start);
    std::string_view label =
        name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (!valid_label(label, syntax.chars)) {
      return false;
    }
    ++labels;
    if (dot == std::string_view::npos) {
      return labels >= syntax.min_labels && (syntax.numeric_top_label || !all_digits(label));
    }
    start = dot + 1;
  }
}

}  // namespace hk::base
