# env-file: writes an env file into a volume from environment variables (literal
# values, Downward API fields, secretKeyRefs), quoted so that every value,
# including quotes, "$" and newlines, reads back exactly.
#   FETCH_DEST      directory the volume is mounted at
#   ENVFILE_PATH    file path in the volume
#   ENVFILE_FORMAT  "shell": export NAME='value' (sourceable by sh/bash), or
#                   "dotenv": NAME="value" with \\ \" \$ and \n escapes
#   ENVFILE_VARS    the variable names, space-separated, in order
#   ENVFILE_MODE    file mode
STEP=env-file

# A trailing newline is added so awk sees a value ending in a newline as a last, empty line.
write_var() {
  eval "value=\${$1-}"
  printf '%s\n' "$value" | awk -v name="$1" -v format="$ENVFILE_FORMAT" '
    BEGIN { ORS = "" }
    NR == 1 { if (format == "shell") printf "export %s=\047", name; else printf "%s=\"", name }
    {
      if (format == "shell") gsub(/\047/, "\047\\\047\047")
      else { gsub(/\\/, "\\\\"); gsub(/"/, "\\\""); gsub(/\$/, "\\$") }
      if (NR > 1) printf (format == "shell" ? "\n" : "\\n")
      printf "%s", $0
    }
    END { if (format == "shell") printf "\047\n"; else printf "\"\n" }
  ' >>"$tmp" || { rm -f "$tmp"; fail "cannot write $1"; }
}

main() {
  dest="$FETCH_DEST/$ENVFILE_PATH"
  # Unique per run: replicas sharing the volume must not write into one temp file.
  tmp="$dest.tmp.$RUN_ID"
  # `true`, not `:`: a failed redirection of a special builtin exits the shell
  # before `fail` could explain it.
  mkdir -p "$(dirname "$dest")" && true >"$tmp" || fail "cannot write $dest"
  count=0
  set -f
  for name in $ENVFILE_VARS; do
    write_var "$name"
    count=$(( count + 1 ))
  done
  install_file "$tmp" "$dest" "$ENVFILE_MODE" || { rm -f "$tmp"; fail "cannot install $dest${install_err:+: $install_err}"; }
  log "wrote $count variable(s) to $ENVFILE_PATH"
}

run_main main
