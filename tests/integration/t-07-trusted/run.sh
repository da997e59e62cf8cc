#!/usr/bin/env bash
# The developer's setup: a web app on a trusted network sends without AUTH to any recipient,
# and trusted_sender_domains limits the senders it may use.
source "$(dirname "$0")/../lib.sh"
TRUSTED='["127.0.0.0/8", "::1/128"]' write_config
sed -i 's/^trusted_networks = .*/&\ntrusted_sender_domains = ["app.test"]/' "$ETC/hikyaku.toml"
setup_domains
start_daemon

cat >"$T/trusted.smtp" <<'DIALOG'
<- 220
-> EHLO webapp.test
<- 250
-> MAIL FROM:<noreply@other.test>
<- 553 5.7.1
-> MAIL FROM:<noreply@app.test>
<- 250
-> RCPT TO:<customer@remote.test>
<- 250
-> RCPT TO:<alice@example.test>
<- 250
-> DATA
<- 354
-> Subject: order confirmation
->
-> thanks
-> .
<- 250 queued as
-> QUIT
<- 221
DIALOG
check "trusted network relays without AUTH, only from allowed sender domains" dialog "$T/trusted.smtp"
check "submission port accepts the trusted app without AUTH too" \
  swaks --server 127.0.0.1:"$SUB_PORT" --from noreply@app.test --to customer@remote.test --silent 2
check "local copy delivered" wait_for 1 maildir_count example.test alice
check "remote copies queued" wait_for 2 queue_count
finish
