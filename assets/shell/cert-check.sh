# cert-check: fails the pod before it starts if its certificate is unusable:
# unparsable, expired, expiring within MIN_DAYS days, missing an expected DNS
# name, or not chaining to the given CA. Needs openssl and a POSIX sh.
#   CERT_FILE        the PEM certificate (a leaf, optionally followed by intermediates)
#   CA_FILE          optional PEM CA bundle it must chain to
#   MIN_DAYS         days it must stay valid (0: only "not expired")
#   EXPECT_NAMES     optional space-separated DNS names it must cover
STEP=cert-check

main() {
  [ -r "$CERT_FILE" ] || fail "certificate $CERT_FILE not found or not readable"
  out=$(openssl x509 -in "$CERT_FILE" -noout -subject 2>&1) || fail "cannot parse certificate $CERT_FILE: $(printf '%s\n' "$out" | head -n 1)"
  subject=${out#subject=}
  subject=${subject# }
  not_after=$(openssl x509 -in "$CERT_FILE" -noout -enddate | sed 's/^notAfter=//')
  not_before=$(openssl x509 -in "$CERT_FILE" -noout -startdate | sed 's/^notBefore=//')
  what="certificate $CERT_FILE ($subject)"

  openssl x509 -in "$CERT_FILE" -noout -checkend 0 >/dev/null || fail "$what expired on $not_after"
  if [ "$MIN_DAYS" -gt 0 ] && ! openssl x509 -in "$CERT_FILE" -noout -checkend $(( MIN_DAYS * 86400 )) >/dev/null; then
    fail "$what expires on $not_after, within the required $MIN_DAYS days"
  fi

  if [ -n "${EXPECT_NAMES:-}" ]; then
    missing=
    set -f
    for name in $EXPECT_NAMES; do
      case "$(openssl x509 -in "$CERT_FILE" -noout -checkhost "$name" 2>&1)" in
        *"does match"*) ;;
        *) missing="$missing $name" ;;
      esac
    done
    if [ -n "$missing" ]; then
      has=$(openssl x509 -in "$CERT_FILE" -noout -ext subjectAltName 2>/dev/null | sed -n '2,$p' | tr -d ' ')
      fail "$what does not cover:$missing (its names: ${has:-none})"
    fi
  fi

  if [ -n "${CA_FILE:-}" ]; then
    [ -r "$CA_FILE" ] || fail "CA bundle $CA_FILE not found or not readable"
    out=$(openssl verify -CAfile "$CA_FILE" -untrusted "$CERT_FILE" "$CERT_FILE" 2>&1) ||
      fail "$what does not chain to the CA in $CA_FILE: $(printf '%s\n' "$out" | sed -n 's/^error [0-9]* at [0-9]* depth lookup: //p' | head -n 1)"
  fi

  log "$what is valid from $not_before until $not_after${EXPECT_NAMES:+, covers $EXPECT_NAMES}${CA_FILE:+, chains to $CA_FILE}"
}

run_main main
