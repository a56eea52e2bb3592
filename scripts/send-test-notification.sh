#!/usr/bin/env bash
# Sends a correctly signed Twilio Client Call Notification webhook to a running CallNotify.
#
# Usage: scripts/send-test-notification.sh [--url URL] [--account-sid AC...] [--auth-token TOKEN]
#                                          [--to IDENTITY] [--from IDENTITY] [--message-id WB...]
#
# The body is built the way Twilio builds it, its SHA-256 goes into the URL's query as bodySHA256,
# and the full URL is signed as Base64(HMAC-SHA1(auth token, URL)) in X-Twilio-Signature.
# Exits 0 when CallNotify answers 200, 1 otherwise.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: scripts/send-test-notification.sh [options]

Sends a signed Twilio Client Call Notification webhook to a running CallNotify.

Options (environment variable in brackets):
  --url URL            webhook URL [CALLNOTIFY_URL]
                       (default http://localhost:5080/calls/notificationWebhook)
  --account-sid SID    Twilio account SID [TWILIO_ACCOUNT_SID]
                       (default AC0123456789abcdef0123456789abcdef)
  --auth-token TOKEN   Twilio auth token used to sign [TWILIO_AUTH_TOKEN]
                       (default dev-auth-token-do-not-use-in-production)
  --to IDENTITY        callee client identity (default bob)
  --from IDENTITY      caller client identity (default alice)
  --message-id ID      twi_message_id (default WB + 32 random hex digits)
  -h, --help           show this help
EOF
}

die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

# Lower-case hex SHA-256 of stdin.
sha256_hex() {
  local out
  out="$(openssl dgst -sha256)"
  # openssl prints "SHA2-256(stdin)= <hex>" or "(stdin)= <hex>" depending on version.
  printf '%s\n' "${out##*= }" | tr 'A-F' 'a-f'
}

# Twilio's signature: Base64(HMAC-SHA1(key = auth token, message = full URL)).
twilio_signature() {
  local auth_token="$1" url="$2"
  printf '%s' "$url" | openssl dgst -sha1 -hmac "$auth_token" -binary | base64
}

# Appends bodySHA256=<hash> to the URL's query (before any #fragment).
url_with_body_hash() {
  local url="$1" hash="$2" fragment=""
  if [[ "$url" == *"#"* ]]; then
    fragment="#${url#*#}"
    url="${url%%#*}"
  fi
  if [[ "$url" == *"?"* ]]; then
    if [[ "$url" == *"?" || "$url" == *"&" ]]; then
      url="${url}bodySHA256=${hash}"
    else
      url="${url}&bodySHA256=${hash}"
    fi
  else
    url="${url}?bodySHA256=${hash}"
  fi
  printf '%s%s\n' "$url" "$fragment"
}

# JSON string literal (with quotes) for $1: escapes quote, backslash and control characters.
json_string() {
  local s="$1" out="" c i code
  local LC_ALL=C
  for ((i = 0; i < ${#s}; i++)); do
    c="${s:i:1}"
    case "$c" in
      '"') out+='\"' ;;
      "\\") out+="\\\\" ;;
      $'\n') out+='\n' ;;
      $'\r') out+='\r' ;;
      $'\t') out+='\t' ;;
      $'\b') out+='\b' ;;
      $'\f') out+='\f' ;;
      *)
        printf -v code '%d' "'$c"
        if ((code >= 0 && code < 32)) || ((code == 127)); then
          printf -v c '\\u%04x' "$code"
        fi
        out+="$c"
        ;;
    esac
  done
  printf '"%s"' "$out"
}

random_hex32() {
  openssl rand -hex 16
}

# Checks the signing against the vector from Twilio's C# helper library tests.
self_test() {
  local body='{"property": "value", "boolean": true}'
  local want_hash='0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620'
  local want_sig='a9nBmqA0ju/hNViExpshrM61xv4='
  local hash url sig ok=0
  hash="$(printf '%s' "$body" | sha256_hex)"
  url="$(url_with_body_hash 'https://mycompany.com/myapp.php?foo=1&bar=2' "$hash")"
  sig="$(twilio_signature 12345 "$url")"
  if [[ "$hash" != "$want_hash" ]]; then
    printf 'self-test: body SHA-256 %s, expected %s\n' "$hash" "$want_hash" >&2
    ok=1
  fi
  if [[ "$sig" != "$want_sig" ]]; then
    printf 'self-test: signature %s, expected %s (url %s)\n' "$sig" "$want_sig" "$url" >&2
    ok=1
  fi
  if ((ok == 0)); then
    echo "self-test: ok"
  fi
  return "$ok"
}

main() {
  local url="${CALLNOTIFY_URL:-http://localhost:5080/calls/notificationWebhook}"
  local account_sid="${TWILIO_ACCOUNT_SID:-AC0123456789abcdef0123456789abcdef}"
  local auth_token="${TWILIO_AUTH_TOKEN:-dev-auth-token-do-not-use-in-production}"
  local to="bob" from="alice" message_id=""

  while (($# > 0)); do
    case "$1" in
      --url) url="${2?--url needs a value}"; shift 2 ;;
      --account-sid) account_sid="${2?--account-sid needs a value}"; shift 2 ;;
      --auth-token) auth_token="${2?--auth-token needs a value}"; shift 2 ;;
      --to) to="${2?--to needs a value}"; shift 2 ;;
      --from) from="${2?--from needs a value}"; shift 2 ;;
      --message-id) message_id="${2?--message-id needs a value}"; shift 2 ;;
      --self-test) self_test; return ;;  # hidden: checks the signing against Twilio's vector
      -h | --help) usage; return 0 ;;
      *) usage >&2; die "unknown argument: $1" ;;
    esac
  done

  command -v openssl >/dev/null 2>&1 || die "openssl is required"
  command -v curl >/dev/null 2>&1 || die "curl is required"

  if [[ -z "$message_id" ]]; then
    message_id="WB$(random_hex32)"
  fi
  local call_sid
  call_sid="CA$(random_hex32)"
  # Any JWT-shaped dummy: CallNotify forwards it to the client SDK untouched.
  local bridge_token='eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJncmFudHMiOnsidm9pY2UiOnt9fX0.ZHVtbXktYnJpZGdlLXRva2Vu'

  local tmp
  tmp="$(mktemp -d "${TMPDIR:-/tmp}/callnotify-send.XXXXXX")"
  # shellcheck disable=SC2064 # expand $tmp now
  trap "rm -rf -- '$tmp'" EXIT

  # Compact JSON in Twilio's field order; written without a trailing newline so hash and POST see the same bytes.
  printf '{"twi_account_sid":%s,"twi_bridge_token":%s,"twi_call_sid":%s,"twi_from":%s,"twi_message_id":%s,"twi_message_type":%s,"twi_to":%s,"twi_params":%s}' \
    "$(json_string "$account_sid")" \
    "$(json_string "$bridge_token")" \
    "$(json_string "$call_sid")" \
    "$(json_string "client:$from")" \
    "$(json_string "$message_id")" \
    "$(json_string "twilio.voice.call")" \
    "$(json_string "client:$to")" \
    "$(json_string "k=v")" >"$tmp/body.json"

  local hash signed_url sig
  hash="$(sha256_hex <"$tmp/body.json")"
  signed_url="$(url_with_body_hash "$url" "$hash")"
  sig="$(twilio_signature "$auth_token" "$signed_url")"

  echo "POST $signed_url"
  echo "X-Twilio-Signature: $sig"
  echo "Body: $(cat "$tmp/body.json")"

  local status
  status="$(curl -sS -o "$tmp/response" -w '%{http_code}' \
    -H 'Content-Type: application/json' \
    -H "X-Twilio-Signature: $sig" \
    --data-binary @"$tmp/body.json" \
    "$signed_url")" || status="000"

  echo "HTTP $status"
  if [[ "$status" == "000" ]]; then
    echo "no answer from $url: is CallNotify running (dotnet run --project src/Api)?" >&2
  fi
  if [[ -s "$tmp/response" ]]; then
    cat "$tmp/response"
    echo
  fi
  [[ "$status" == "200" ]]
}

main "$@"
