// hikyaku-util commands for DKIM: dkim-keygen, dkim-dns, dkim-sign, dkim-verify.
// SECURITY: private keys are written mode 0600 in a 0700 dkim/ folder owned like the domain
// folder, and are never printed; an existing key file is never overwritten.
#include <sys/stat.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <stdexcept>

#include "lib/base/files.hpp"
#include "lib/config/config.hpp"
#include "lib/dkim/keys.hpp"
#include "lib/dkim/message.hpp"
#include "lib/dkim/signer.hpp"
#include "lib/dkim/verify.hpp"
#include "lib/dkim/verify_dns.hpp"
#include "lib/dns/resolver.hpp"
#include "util/args.hpp"
#include "util/command.hpp"
#include "util/dns_options.hpp"
#include "util/load_config.hpp"
#include "util/ownership.hpp"

namespace hk::util {
namespace {

namespace asio = boost::asio;

namespace fs = std::filesystem;

// RFC 6376 §3.1: a selector is a sub-domain: dot-separated labels of letters, digits and
// hyphens, each 1-63 octets (RFC 1035 §2.3.4). This also keeps it a safe file name.
std::string parse_selector(std::string_view text) {
  bool ok = !text.empty() && text.size() <= 253;
  size_t label = 0;
  for (size_t i = 0; ok && i <= text.size(); ++i) {
    char c = i < text.size() ? text[i] : '.';
    if (c == '.') {
      ok = label > 0 && label <= 63 && text[i - label] != '-' && text[i - 1] != '-';
      label = 0;
    } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-') {
      ++label;
    } else {
      ok = false;
    }
  }
  if (!ok) {
    throw UsageError("invalid selector '" + std::string(text) +
                     "' (letters, digits, hyphens and dots)");
  }
  return std::string(text);
}

fs::path local_domain_dir(const Context& ctx, const std::string& domain) {
  fs::path dir = ctx.domains_dir() / domain;
  if (!fs::is_directory(dir)) {
    throw std::runtime_error(domain + " is not a local domain (no " + dir.string() + ")");
  }
  return dir;
}

// The domain's keys, or only the one named by --selector. Throws when there is none.
std::vector<dkim::DkimKey> selected_keys(const Context& ctx, const std::string& domain,
                                         const Args& args) {
  local_domain_dir(ctx, domain);
  std::vector<dkim::DkimKey> keys = dkim::load_domain_keys(ctx.domains_dir(), domain);
  if (auto selector = args.value("selector")) {
    std::erase_if(keys, [&](const dkim::DkimKey& k) { return k.selector != *selector; });
    if (keys.empty()) {
      throw std::runtime_error("no key " + *selector + " for " + domain);
    }
  }
  if (keys.empty()) {
    throw std::runtime_error("no DKIM key for " + domain + " (create one with dkim-keygen)");
  }
  return keys;
}

std::string read_stdin() {
  std::cin >> std::noskipws;
  return std::string(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
}

int dkim_keygen(const Context& ctx, const std::vector<std::string>& words) {
  Args args(words, {}, {"selector", "algo"});
  args.expect(1, "DOMAIN");
  std::string domain = parse_domain(args.positional()[0]);
  dkim::DkimAlgo algo = dkim::DkimAlgo::Rsa2048;
  if (auto name = args.value("algo"); name && !dkim::parse_algo(*name, algo)) {
    throw UsageError("--algo must be rsa2048, rsa3072 or ed25519");
  }
  fs::path dkim_dir = local_domain_dir(ctx, domain) / "dkim";
  auto given = args.value("selector");
  std::string selector =
      given ? parse_selector(*given) : dkim::default_selector(std::time(nullptr), dkim_dir);
  fs::path file = dkim_dir / (selector + ".pem");
  if (fs::exists(file)) {
    std::cerr << "hikyaku-util: " << file.string()
              << " exists; refusing to overwrite a key (choose another --selector)\n";
    return kExitFailure;
  }
  if (fs::create_directory(dkim_dir)) {
    fs::permissions(dkim_dir, fs::perms::owner_all, fs::perm_options::replace);
    match_parent_owner(dkim_dir);
  }
  if (std::error_code ec = base::write_file_atomic(file, dkim::generate_key_pem(algo), 0600)) {
    throw std::runtime_error(file.string() + ": " + ec.message());
  }
  match_parent_owner(file);
  dkim::DkimKey key = dkim::load_key(file, domain);
  std::cerr << "wrote " << file.string() << " (" << dkim::algo_name(algo)
            << "); publish this DNS record:\n";
  std::cout << dkim::dns_record(key) << "\n";
  return kExitOk;
}

int dkim_dns(const Context& ctx, const std::vector<std::string>& words) {
  Args args(words, {}, {"selector"});
  args.expect(1, "DOMAIN");
  std::string domain = parse_domain(args.positional()[0]);
  for (const dkim::DkimKey& key : selected_keys(ctx, domain, args)) {
    std::cout << dkim::dns_record(key) << "\n";
  }
  return kExitOk;
}

int dkim_sign(const Context& ctx, const std::vector<std::string>& words) {
  Args args(words, {}, {"selector"});
  args.expect(1, "DOMAIN");
  std::string domain = parse_domain(args.positional()[0]);
  std::vector<dkim::DkimKey> keys = selected_keys(ctx, domain, args);
  std::string message = read_stdin();
  dkim::DkimSigner signer;
  std::vector<std::string> errors;
  std::string headers = dkim::sign_all(signer, message, keys, errors);
  for (const std::string& error : errors) {
    std::cerr << "hikyaku-util: " << error << "\n";
  }
  if (!errors.empty()) {
    return kExitFailure;
  }
  // Keep the input's line ends: a message piped in with LF gets LF-only headers.
  if (message.find("\r\n") == std::string::npos && message.find('\n') != std::string::npos) {
    std::erase(headers, '\r');
  }
  std::cout << headers << message;
  return kExitOk;
}

// The TXT value from either the bare value or a zone-file line with quoted strings.
std::string txt_value(std::string_view text) {
  if (text.find('"') == std::string_view::npos) {
    size_t b = text.find_first_not_of(" \t\r\n");
    size_t e = text.find_last_not_of(" \t\r\n");
    return b == std::string_view::npos ? "" : std::string(text.substr(b, e - b + 1));
  }
  std::string value;
  for (size_t pos = text.find('"'); pos != std::string_view::npos;) {
    size_t end = text.find('"', pos + 1);
    if (end == std::string_view::npos) {
      break;
    }
    value += text.substr(pos + 1, end - pos - 1);
    pos = text.find('"', end + 1);
  }
  return value;
}

// Every signature of the message, with keys fetched through the configured DNS servers.
int dkim_verify_dns(const Context& ctx) {
  config::Config cfg;
  if (!load_or_report(ctx, cfg)) {
    return kExitFailure;
  }
  std::string message = read_stdin();
  asio::io_context io;
  dns::Resolver resolver(io.get_executor(), resolver_options(cfg));
  auto fut = asio::co_spawn(io, dkim::verify_message(resolver, message), asio::use_future);
  io.run();
  std::vector<dkim::DkimVerifyResult> results = fut.get();
  bool all_pass = !results.empty();
  for (const auto& r : results) {
    std::cout << r.result;
    if (!r.domain.empty()) {
      std::cout << " d=" << r.domain << " s=" << r.selector;
    }
    std::cout << " (" << r.detail << ")\n";
    all_pass = all_pass && r.result == "pass";
  }
  return all_pass ? kExitOk : kExitFailure;
}

int dkim_verify(const Context& ctx, const std::vector<std::string>& words) {
  Args args(words, {}, {"key-file", "dns-record"});
  args.expect(0, "");
  auto key_file = args.value("key-file");
  auto record = args.value("dns-record");
  if (key_file && record) {
    throw UsageError("give --key-file=F or --dns-record=TXT, not both");
  }
  if (!key_file && !record) {
    return dkim_verify_dns(ctx);
  }
  std::string text;
  if (key_file) {
    if (std::error_code ec = base::read_file(*key_file, text)) {
      throw std::runtime_error(*key_file + ": " + ec.message());
    }
  } else {
    text = *record;
  }
  dkim::DkimVerifyResult r = dkim::verify_with_key(read_stdin(), txt_value(text));
  std::cout << r.result;
  if (!r.domain.empty()) {
    std::cout << " d=" << r.domain << " s=" << r.selector;
  }
  std::cout << " (" << r.detail << ")\n";
  return r.result == "pass" ? kExitOk : kExitFailure;
}

constexpr Command kCommands[] = {
    {"dkim-keygen", "DOMAIN [--selector=S] [--algo=rsa2048|rsa3072|ed25519]",
     "Make a DKIM key in domains/DOMAIN/dkim/S.pem (mode 0600) and print its DNS record.\n"
     "The selector defaults to hkYYYYMM (hkYYYYMMb... when taken); an existing key is never\n"
     "overwritten (exit 1). Default algorithm rsa2048.",
     dkim_keygen},
    {"dkim-dns", "DOMAIN [--selector=S]",
     "Print the DNS TXT record (zone-file line) of every DKIM key of DOMAIN, or of one.", dkim_dns},
    {"dkim-sign", "DOMAIN [--selector=S] < MESSAGE",
     "Print the message from stdin with a DKIM-Signature header per key (or for key S).",
     dkim_sign},
    {"dkim-verify", "[--key-file=F | --dns-record=TXT] < MESSAGE",
     "Verify the DKIM signatures of the message on stdin. Without options, every signature\n"
     "with its key from DNS ([dns] servers of hikyaku.toml); with a key (the TXT value\n"
     "\"v=DKIM1; k=...; p=...\", or a dkim-dns line), the first signature, offline.\n"
     "Prints pass/fail/neutral/none/temperror/permerror; exit 0 only when all pass.",
     dkim_verify},
};

}  // namespace

std::span<const Command> dkim_commands() { return kCommands; }

}  // namespace hk::util
