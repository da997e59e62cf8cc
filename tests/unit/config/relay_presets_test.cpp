// Tests for [[relay]] preset: every provider's host, port and TLS mode, the regions, explicit keys
// over the preset, the errors, and print-config showing what the preset resolved to.
#include "lib/config/relay_presets.hpp"

#include <gtest/gtest.h>

#include "lib/base/ascii.hpp"
#include "lib/config/config.hpp"
#include "tests/unit/config/parse_helpers.hpp"

namespace hk::config {
namespace {

using test::error_of;
using test::kFile;
using test::parse;

Relay relay_of(const std::string& body) {
  const Config c = parse("[[relay]]\n" + body);
  EXPECT_EQ(c.relays.size(), 1u);
  return c.relays.empty() ? Relay{} : c.relays.front();
}

TEST(RelayPreset, EveryProvider) {
  const struct {
    const char* preset;
    const char* host;
    uint16_t port;
    RelayTls tls;
  } cases[] = {
      {"gmail", "smtp.gmail.com", 587, RelayTls::StartTls},
      {"outlook", "smtp-mail.outlook.com", 587, RelayTls::StartTls},
      {"office365", "smtp.office365.com", 587, RelayTls::StartTls},
      {"yahoo", "smtp.mail.yahoo.com", 465, RelayTls::Implicit},
      {"icloud", "smtp.mail.me.com", 587, RelayTls::StartTls},
      {"sendgrid", "smtp.sendgrid.net", 587, RelayTls::StartTls},
      {"fastmail", "smtp.fastmail.com", 465, RelayTls::Implicit},
      {"ses:us-east-1", "email-smtp.us-east-1.amazonaws.com", 587, RelayTls::StartTls},
      {"ses:eu-west-1", "email-smtp.eu-west-1.amazonaws.com", 587, RelayTls::StartTls},
      {"ses:ap-southeast-2", "email-smtp.ap-southeast-2.amazonaws.com", 587, RelayTls::StartTls},
      {"ses:us-gov-west-1", "email-smtp.us-gov-west-1.amazonaws.com", 587, RelayTls::StartTls},
      {"mailgun", "smtp.mailgun.org", 587, RelayTls::StartTls},
      {"mailgun:us", "smtp.mailgun.org", 587, RelayTls::StartTls},
      {"mailgun:eu", "smtp.eu.mailgun.org", 587, RelayTls::StartTls},
      {"zoho", "smtp.zoho.com", 465, RelayTls::Implicit},
      {"zoho:us", "smtp.zoho.com", 465, RelayTls::Implicit},
      {"zoho:eu", "smtp.zoho.eu", 465, RelayTls::Implicit},
      {"zoho:in", "smtp.zoho.in", 465, RelayTls::Implicit},
      {"zoho:au", "smtp.zoho.com.au", 465, RelayTls::Implicit},
      {"zoho:jp", "smtp.zoho.jp", 465, RelayTls::Implicit},
      {"zoho:ca", "smtp.zohocloud.ca", 465, RelayTls::Implicit},
      {"zoho:sa", "smtp.zoho.sa", 465, RelayTls::Implicit},
      {"zoho:cn", "smtp.zoho.com.cn", 465, RelayTls::Implicit},
      {"zoho-pro", "smtppro.zoho.com", 465, RelayTls::Implicit},
      {"zoho-pro:eu", "smtppro.zoho.eu", 465, RelayTls::Implicit},
      {"Gmail", "smtp.gmail.com", 587, RelayTls::StartTls},  // names are lower-cased
  };
  for (const auto& c : cases) {
    const Relay r = relay_of(std::string("preset = '") + c.preset + "'\n");
    EXPECT_EQ(r.host, c.host) << c.preset;
    EXPECT_EQ(r.port, c.port) << c.preset;
    EXPECT_EQ(r.tls, c.tls) << c.preset;
    EXPECT_TRUE(r.username.empty());
  }
}

TEST(RelayPreset, ExplicitKeysOverride) {
  // A written host, port or tls wins; an unwritten port follows a written tls that differs from
  // the preset's, and stays the preset's when the tls is the same.
  const struct {
    const char* body;
    const char* host;
    uint16_t port;
    RelayTls tls;
  } cases[] = {
      {"preset = 'gmail'\nport = 2525", "smtp.gmail.com", 2525, RelayTls::StartTls},
      {"preset = 'gmail'\ntls = 'implicit'", "smtp.gmail.com", 465, RelayTls::Implicit},
      {"preset = 'gmail'\ntls = 'starttls'", "smtp.gmail.com", 587, RelayTls::StartTls},
      {"preset = 'fastmail'\ntls = 'starttls'", "smtp.fastmail.com", 587, RelayTls::StartTls},
      {"preset = 'fastmail'\ntls = 'implicit'", "smtp.fastmail.com", 465, RelayTls::Implicit},
      {"preset = 'sendgrid'\nport = 2525", "smtp.sendgrid.net", 2525, RelayTls::StartTls},
      {"preset = 'ses:eu-west-1'\ntls = 'implicit'\nport = 2465",
       "email-smtp.eu-west-1.amazonaws.com", 2465, RelayTls::Implicit},
      {"preset = 'gmail'\nhost = 'smtp-relay.gmail.com'", "smtp-relay.gmail.com", 587,
       RelayTls::StartTls},
      {"host = 'smtp.example.net'\npreset = 'yahoo'", "smtp.example.net", 465, RelayTls::Implicit},
  };
  for (const auto& c : cases) {
    const Relay r = relay_of(c.body);
    EXPECT_EQ(r.host, c.host) << c.body;
    EXPECT_EQ(r.port, c.port) << c.body;
    EXPECT_EQ(r.tls, c.tls) << c.body;
  }
  const Relay full = relay_of(
      "preset = 'mailgun:eu'\nusername = 'postmaster@mg.example.com'\npassword = 's3cret'\n"
      "domains = ['example.org']");
  EXPECT_EQ(full.preset, "mailgun:eu");
  EXPECT_EQ(full.host, "smtp.eu.mailgun.org");
  EXPECT_EQ(full.username, "postmaster@mg.example.com");
  EXPECT_EQ(full.password, "s3cret");
  EXPECT_EQ(full.domains, std::vector<std::string>{"example.org"});
}

TEST(RelayPreset, Errors) {
  const std::string f = kFile.string();
  const std::string valid =
      "valid: gmail, outlook, office365, yahoo, icloud, sendgrid, fastmail, ses:REGION, mailgun, "
      "mailgun:eu, zoho[:REGION], zoho-pro[:REGION] (REGION: us, eu, in, au, jp, ca, sa, cn)";
  EXPECT_EQ(error_of("[[relay]]\npreset = 'gmial'"),
            f + ":2: relay[0].preset: unknown preset \"gmial\"; " + valid);
  EXPECT_EQ(error_of("[[relay]]\npreset = 'mailgun:eu'\n[[relay]]\n\npreset = 'hotmail'"),
            f + ":5: relay[1].preset: unknown preset \"hotmail\"; " + valid);
  EXPECT_EQ(error_of("[[relay]]\npreset = 'ses'"),
            f + ":2: relay[0].preset: \"ses\" needs the AWS region, as in \"ses:eu-west-1\"");
  for (const char* bad : {"ses:", "ses:eu", "ses:eu-west", "ses:eu_west_1", "ses:EU-WEST-1x",
                          "ses:eu-west-1.evil.example", "ses:e-west-1", "ses:eu-west-123",
                          "ses:eu--1", "ses:eu-west-1-"}) {
    EXPECT_EQ(error_of(std::string("[[relay]]\npreset = '") + bad + "'"),
              f + ":2: relay[0].preset: \"ses\" needs the AWS region, as in \"ses:eu-west-1\", " +
                  "got \"" + base::to_lower(bad) + "\"")
        << bad;
  }
  EXPECT_EQ(error_of("[[relay]]\npreset = 'mailgun:de'"),
            f + ":2: relay[0].preset: unknown Mailgun region in \"mailgun:de\"; use \"mailgun\" "
                "(US) or \"mailgun:eu\"");
  EXPECT_EQ(error_of("[[relay]]\npreset = 'zoho:uk'"),
            f + ":2: relay[0].preset: unknown Zoho region in \"zoho:uk\"; regions: us, eu, in, "
                "au, jp, ca, sa, cn");
  EXPECT_EQ(error_of("[[relay]]\npreset = 'gmail:eu'"),
            f + ":2: relay[0].preset: unknown preset \"gmail:eu\"; " + valid);
  EXPECT_EQ(error_of("[[relay]]\npreset = 1"),
            f + ":2: relay[0].preset: must be a string, not an integer");
  // A preset is no AUTH: the username and password rules still hold.
  EXPECT_EQ(error_of("[[relay]]\npreset = 'gmail'\nusername = 'me@gmail.com'"),
            f + ":3: relay[0].password: required when username is set");
  // An empty preset is no preset.
  EXPECT_EQ(error_of("[[relay]]\npreset = ''"),
            f + ":1: relay[0].host: required unless preset is set");
}

// print-config shows the preset and what it resolved to; what it prints reads back the same.
TEST(RelayPreset, PrintConfigShowsTheResult) {
  const Config c = parse(
      "[[relay]]\npreset = 'ses:eu-central-1'\nusername = 'AKIAEXAMPLE'\npassword = 'pw'\n"
      "[[relay]]\npreset = 'fastmail'\ntls = 'starttls'\n");
  const std::string printed = to_toml(c);
  EXPECT_NE(printed.find("[[relay]]\npreset = \"ses:eu-central-1\"\n"
                         "host = \"email-smtp.eu-central-1.amazonaws.com\"\nport = 587\n"
                         "tls = \"starttls\"\nusername = \"AKIAEXAMPLE\"\npassword = \"***\"\n"),
            std::string::npos)
      << printed;
  EXPECT_NE(printed.find("[[relay]]\npreset = \"fastmail\"\nhost = \"smtp.fastmail.com\"\n"
                         "port = 587\ntls = \"starttls\"\n"),
            std::string::npos)
      << printed;
  Config back = parse(printed);
  back.relays[0].password = "pw";
  EXPECT_EQ(back.relays, c.relays);
  // Without a preset nothing about presets is printed.
  EXPECT_EQ(to_toml(parse("[[relay]]\nhost = 'smtp.example.net'")).find("preset"),
            std::string::npos);
}

TEST(RelayPreset, FormsListEveryPreset) {
  std::string why;
  EXPECT_FALSE(relay_preset("nope", why));
  EXPECT_NE(why.find(relay_preset_forms()), std::string::npos);
  for (const char* name : {"gmail", "outlook", "office365", "yahoo", "icloud", "sendgrid",
                           "fastmail", "mailgun", "zoho", "zoho-pro"}) {
    EXPECT_NE(relay_preset_forms().find(name), std::string::npos) << name;
    EXPECT_TRUE(relay_preset(name, why)) << name;
  }
}

}  // namespace
}  // namespace hk::config
