// ConsoleBackend: the console's queue, delivery log, health, relay test and check-dns over the
// daemon's parts.
#include "daemon/server/console_backend.hpp"

#include <algorithm>
#include <boost/asio/this_coro.hpp>
#include <filesystem>
#include <system_error>

#include "daemon/queue/delivery_log.hpp"
#include "daemon/queue/queue.hpp"
#include "daemon/queue/queue_store.hpp"
#include "daemon/server/console_json.hpp"
#include "lib/base/log.hpp"
#include "lib/base/offload.hpp"
#include "lib/dkim/keyring.hpp"
#include "lib/dns/lookup.hpp"
#include "lib/dns_check/dns_check.hpp"
#include "lib/queue/queue_file.hpp"
#include "lib/relay_check/relay_check.hpp"

namespace hk::server {

namespace asio = boost::asio;

namespace {

// Each step of the relay test waits at most this long, as `hikyaku-util test-relay` by default.
constexpr std::chrono::seconds kRelayTimeout{10};

// Reads one page of the queue folder on the pool: the IDs (oldest first), then the envelopes and
// sizes of those in [offset, offset + limit). A message gone meanwhile (delivered) is skipped.
struct LoadPage {
  const queue::QueueStore* store;
  size_t offset;
  size_t limit;
  size_t* total;

  std::vector<QueuedMessage> operator()() const {
    std::vector<std::string> ids = store->list();
    *total = ids.size();
    std::vector<QueuedMessage> page;
    for (size_t i = offset; i < ids.size() && page.size() < limit; ++i) {
      QueuedMessage m;
      queue::MessageSizes sizes;
      if (store->view().load_envelope(ids[i], m.env, &sizes)) {
        continue;
      }
      m.size = sizes.message;
      page.push_back(std::move(m));
    }
    return page;
  }
};

}  // namespace

ConsoleBackend::ConsoleBackend(ConsoleBackendDeps deps) : deps_(std::move(deps)) {}

asio::awaitable<std::string> ConsoleBackend::queue_json(size_t offset, size_t limit) {
  size_t total = 0;
  std::vector<QueuedMessage> page =
      co_await base::offload(*deps_.pool, LoadPage{deps_.store, offset, limit, &total});
  co_return queue_page_json(total, offset, page);
}

bool ConsoleBackend::retry(const std::string& queue_id) {
  if (!queue_id.empty()) {
    // Queue::flush would schedule an unknown ID; one stat on the I/O thread, as the control
    // socket's flush does.
    std::error_code ec;
    if (!queue::valid_id(queue_id) ||
        !std::filesystem::exists(deps_.store->message_path(queue_id), ec)) {
      return false;
    }
  }
  deps_.queue->flush(queue_id);
  base::log_info() << "queue flush id=" << (queue_id.empty() ? "all" : queue_id) << " by=console";
  return true;
}

asio::awaitable<std::error_code> ConsoleBackend::remove(const std::string& queue_id) {
  std::error_code ec = co_await deps_.queue->remove(queue_id);
  co_return ec;
}

std::string ConsoleBackend::delivery_log_json(const std::string& queue_id, size_t limit) {
  return delivery_events_json(deps_.log->recent(queue_id, limit));
}

std::string ConsoleBackend::health_json() {
  std::vector<DkimKeyInfo> keys;
  if (deps_.dkim_keys != nullptr) {
    if (std::shared_ptr<const dkim::Keys> current = deps_.dkim_keys->current()) {
      for (const auto& [domain, list] : *current) {
        for (const dkim::DkimKey& k : list) {
          keys.push_back({domain, k.selector, std::string(dkim::algo_name(k.algo))});
        }
      }
    }
  }
  std::vector<std::string> console;
  if (deps_.console_addresses) {
    console = deps_.console_addresses();
  }
  std::vector<std::string> domains;
  if (deps_.local_domains) {
    domains = deps_.local_domains();
  }
  return health_page_json(deps_.status ? deps_.status() : std::string(), console, domains, keys,
                          cfg().relays);
}

size_t ConsoleBackend::relay_count() { return cfg().relays.size(); }

asio::awaitable<std::string> ConsoleBackend::relay_test_json(size_t relay, std::string send_to) {
  // Held for the whole test: a reload meanwhile does not pull the relay away.
  std::shared_ptr<const config::Config> held = *deps_.live_cfg;
  const config::Config& c = *held;
  if (relay >= c.relays.size()) {
    co_return relay_test_result_json(relay, config::Relay{}, {}, false, "no such [[relay]]");
  }
  const config::Relay& r = c.relays[relay];
  std::optional<delivery::ProbeMessage> message;
  if (!send_to.empty()) {
    const std::string sender = relay_check::test_sender(c, r, std::nullopt);
    std::string signed_with;
    std::vector<std::string> warnings;
    std::shared_ptr<const dkim::Keys> keys =
        deps_.dkim_keys != nullptr ? deps_.dkim_keys->current() : nullptr;
    std::string data = relay_check::test_message(c, r, relay + 1, sender, send_to, keys.get(),
                                                 signed_with, warnings);
    for (const std::string& w : warnings) {
      base::log_warn() << "relay_test relay=" << relay << " dkim_error=" << base::log_quote(w);
    }
    message = delivery::ProbeMessage{sender, {send_to}, std::move(data)};
  }
  const dns::AddressChoice choice{c.delivery.ip_version != config::IpVersion::V6,
                                  c.delivery.ip_version != config::IpVersion::V4,
                                  c.delivery.prefer == config::IpPrefer::V4};
  std::vector<delivery::ProbeStep> steps =
      co_await delivery::probe(deps_.ex, relay_check::client_options(c, r, kRelayTimeout),
                               *deps_.dns, choice, r.host, r.port, std::move(message));
  std::string why;
  const bool ok = relay_check::works(steps, why);
  // relay= counts from 0, as the URL does (hikyaku-util test-relay's --relay counts from 1).
  base::log_info() << "relay_test relay=" << relay << " host=" << base::log_quote(r.host)
                   << " send_to=" << base::log_quote(send_to.empty() ? "-" : send_to)
                   << " result=" << (ok ? "ok" : "failed")
                   << (ok ? "" : " error=" + base::log_quote(why));
  co_return relay_test_result_json(relay, r, steps, ok, why);
}

asio::awaitable<std::string> ConsoleBackend::check_dns_json(std::string domain) {
  std::shared_ptr<const config::Config> held = *deps_.live_cfg;
  dns_check::CheckInput in;
  in.domain = domain;
  in.hostname = held->hostname;
  if (deps_.dkim_keys != nullptr) {
    if (std::shared_ptr<const dkim::Keys> current = deps_.dkim_keys->current()) {
      if (auto it = current->find(domain); it != current->end()) {
        for (const dkim::DkimKey& k : it->second) {
          in.dkim.push_back({k.selector, k.public_b64});
        }
      }
    }
  }
  std::vector<dns_check::Row> rows = co_await dns_check::run_checks(*deps_.dns, std::move(in));
  co_return dns_rows_json(domain, rows);
}

}  // namespace hk::server
