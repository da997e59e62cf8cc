// A small JSON reader (RFC 8259) for the request bodies of /api/v1: {"IDs": [...]},
// {"To": [...]}, {"Read": true, "Search": "..."}. Strict, bounded and exception-free: the input is
// anybody's request body (at most the console's 1 MiB), nesting deeper than a few levels is
// refused, and every error is a message for a 400 reply.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hk::console::json_in {

struct Value {
  enum class Kind { Null, Bool, Number, String, Array, Object };
  Kind kind = Kind::Null;
  bool boolean = false;
  double number = 0;
  std::string string;  // UTF-8 (\u escapes decoded, surrogate pairs joined)
  std::vector<Value> array;
  std::map<std::string, Value> object;  // a repeated name: the last one wins

  // The member `name` of an object; null when this is no object or it has none.
  const Value* get(std::string_view name) const;
};

// Parses one JSON text; nothing (and `error` set) when it is not valid JSON or nests deeper
// than `max_depth`.
std::optional<Value> parse(std::string_view text, std::string& error, size_t max_depth = 16);

// `v` as a list of strings (an array whose elements are all strings); nothing otherwise.
std::optional<std::vector<std::string>> string_list(const Value& v);

}  // namespace hk::console::json_in
