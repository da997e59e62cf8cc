// The SRS secret file: parse, create, reload.
#include "lib/srs/secret_file.hpp"

#include <openssl/rand.h>

#include <array>
#include <stdexcept>
#include <system_error>

#include "lib/base/base64.hpp"
#include "lib/base/files.hpp"
#include "lib/base/private_file.hpp"

namespace hk::srs {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

std::vector<std::string> parse_secrets(std::string_view text, const std::string& file) {
  std::vector<std::string> out;
  size_t line_no = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    if (line.empty() || line.front() == '#') {
      continue;
    }
    if (line.size() < kMinSecretLength) {
      // The secret itself is never part of a message.
      throw std::runtime_error(file + ":" + std::to_string(line_no) + ": SRS secret shorter than " +
                               std::to_string(kMinSecretLength) + " characters");
    }
    out.emplace_back(line);
  }
  if (out.empty()) {
    throw std::runtime_error(file +
                             ": no SRS secret in the file (remove it to have a new one made)");
  }
  return out;
}

bool create_secret_file(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::exists(std::filesystem::symlink_status(path, ec))) {
    return false;
  }
  std::array<unsigned char, 32> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    throw std::runtime_error("cannot make an SRS secret for " + path.string() +
                             ": no randomness from OpenSSL");
  }
  std::string text =
      "# hikyaku SRS secrets (docs/srs.md): the first line signs, every line "
      "verifies.\n" +
      base::base64_encode(std::span<const unsigned char>(bytes)) + "\n";
  if (std::error_code wec = base::write_file_atomic(path, text, 0600)) {
    throw std::runtime_error("cannot create " + path.string() + ": " + wec.message());
  }
  return true;
}

SecretFile::SecretFile(std::filesystem::path path)
    : path_(std::move(path)),
      created_(create_secret_file(path_)),
      codec_(
          [this] {
            base::Fingerprint f;
            f.add_file(path_);
            return f;
          },
          [this](const std::shared_ptr<const Codec>&) { return load(); }) {
  codec_.load();
}

std::shared_ptr<const Codec> SecretFile::load() const {
  if (std::string problem = base::private_file_problem(path_); !problem.empty()) {
    throw std::runtime_error(problem);
  }
  std::string text;
  if (std::error_code ec = base::read_file(path_, text)) {
    throw std::runtime_error("cannot read " + path_.string() + ": " + ec.message());
  }
  return std::make_shared<const Codec>(parse_secrets(text, path_.string()));
}

}  // namespace hk::srs
