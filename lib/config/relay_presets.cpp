// The presets' data, as each provider documents its submission service. Where a provider offers
// both, the port and TLS mode are the ones its own help page lists first: 587 with STARTTLS
// (RFC 6409, RFC 3207) or 465 with TLS from the first byte (RFC 8314 §3.3).
#include "lib/config/relay_presets.hpp"

#include <algorithm>
#include <span>
#include <vector>

namespace hk::config {
namespace {

struct Fixed {
  std::string_view name;
  std::string_view host;
  uint16_t port;
  RelayTls tls;
};

constexpr Fixed kFixed[] = {
    {"gmail", "smtp.gmail.com", 587, RelayTls::StartTls},
    {"outlook", "smtp-mail.outlook.com", 587, RelayTls::StartTls},  // Outlook.com, Hotmail, Live
    {"office365", "smtp.office365.com", 587, RelayTls::StartTls},   // Microsoft 365 mailboxes
    {"yahoo", "smtp.mail.yahoo.com", 465, RelayTls::Implicit},
    {"icloud", "smtp.mail.me.com", 587, RelayTls::StartTls},
    {"sendgrid", "smtp.sendgrid.net", 587, RelayTls::StartTls},
    {"fastmail", "smtp.fastmail.com", 465, RelayTls::Implicit},
};

// Mailgun runs separate US and EU regions; an account lives in one of them.
struct Region {
  std::string_view name;
  std::string_view suffix;
};
constexpr Region kMailgun[] = {{"us", "smtp.mailgun.org"}, {"eu", "smtp.eu.mailgun.org"}};

// Zoho's data centres, each with its own domain; "zoho" alone is the US one (zoho.com).
constexpr Region kZoho[] = {
    {"us", "zoho.com"}, {"eu", "zoho.eu"},      {"in", "zoho.in"}, {"au", "zoho.com.au"},
    {"jp", "zoho.jp"},  {"ca", "zohocloud.ca"}, {"sa", "zoho.sa"}, {"cn", "zoho.com.cn"},
};

std::string region_names(std::span<const Region> regions) {
  std::string out;
  for (const Region& r : regions) {
    out += (out.empty() ? "" : ", ") + std::string(r.name);
  }
  return out;
}

const Region* find_region(std::span<const Region> regions, std::string_view name) {
  for (const Region& r : regions) {
    if (r.name == name) {
      return &r;
    }
  }
  return nullptr;
}

// An AWS region name as AWS spells them: "us-east-1", "eu-central-2", "us-gov-west-1": two
// letters, one or more words, a number. Only the form is checked (SES runs in a subset of the
// regions, and new ones appear); a region without SES fails at the first connection.
bool is_aws_region(std::string_view r) {
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    const size_t dash = r.find('-', start);
    parts.push_back(r.substr(start, dash == std::string_view::npos ? dash : dash - start));
    if (dash == std::string_view::npos) {
      break;
    }
    start = dash + 1;
  }
  if (parts.size() < 3 || parts.front().size() != 2 || parts.back().empty() ||
      parts.back().size() > 2) {
    return false;
  }
  const auto letters = [](std::string_view w) {
    return !w.empty() &&
           std::all_of(w.begin(), w.end(), [](char c) { return c >= 'a' && c <= 'z'; });
  };
  const bool digits = std::all_of(parts.back().begin(), parts.back().end(),
                                  [](char c) { return c >= '0' && c <= '9'; });
  return digits && std::all_of(parts.begin(), parts.end() - 1, letters);
}

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

}  // namespace

const std::string& relay_preset_forms() {
  static const std::string forms = [] {
    std::string out;
    for (const Fixed& f : kFixed) {
      out += std::string(f.name) + ", ";
    }
    return out + "ses:REGION, mailgun, mailgun:eu, zoho[:REGION], zoho-pro[:REGION] (REGION: " +
           region_names(kZoho) + ")";
  }();
  return forms;
}

std::optional<RelayPreset> relay_preset(std::string_view name, std::string& why) {
  for (const Fixed& f : kFixed) {
    if (f.name == name) {
      return RelayPreset{std::string(f.host), f.port, f.tls};
    }
  }
  const size_t colon = name.find(':');
  const std::string_view provider = name.substr(0, colon);
  const std::string_view option =
      colon == std::string_view::npos ? std::string_view() : name.substr(colon + 1);
  const bool has_option = colon != std::string_view::npos;
  if (provider == "ses") {
    // Amazon SES: STARTTLS on 587 (465 and 2465 are its TLS-wrapper ports, 25 and 2587 more
    // STARTTLS ones).
    if (!has_option || !is_aws_region(option)) {
      why = "\"ses\" needs the AWS region, as in \"ses:eu-west-1\"" +
            (has_option ? ", got " + quoted(name) : std::string());
      return std::nullopt;
    }
    return RelayPreset{"email-smtp." + std::string(option) + ".amazonaws.com", 587,
                       RelayTls::StartTls};
  }
  if (provider == "mailgun") {
    const Region* r = find_region(kMailgun, has_option ? option : "us");
    if (r == nullptr) {
      why =
          "unknown Mailgun region in " + quoted(name) + "; use \"mailgun\" (US) or \"mailgun:eu\"";
      return std::nullopt;
    }
    return RelayPreset{std::string(r->suffix), 587, RelayTls::StartTls};
  }
  if (provider == "zoho" || provider == "zoho-pro") {
    // Zoho: smtp.<domain> for personal accounts, smtppro.<domain> for organisation accounts with
    // their own domain; SSL on 465 first in its help.
    const Region* r = find_region(kZoho, has_option ? option : "us");
    if (r == nullptr) {
      why = "unknown Zoho region in " + quoted(name) + "; regions: " + region_names(kZoho);
      return std::nullopt;
    }
    const std::string host = (provider == "zoho" ? "smtp." : "smtppro.") + std::string(r->suffix);
    return RelayPreset{host, 465, RelayTls::Implicit};
  }
  why = "unknown preset " + quoted(name) + "; valid: " + relay_preset_forms();
  return std::nullopt;
}

}  // namespace hk::config
