# render-template: renders templates into a volume, replacing ${NAME} (and
# ${NAME:-default}) only for the declared variable names; every other "$"
# (nginx's $host, undeclared ${OTHER}) is left as it is.
#   RENDER_SRC    directory the templates are mounted at (read-only)
#   FETCH_DEST    directory the output volume is mounted at
#   RENDER_FILES  one file per line: "TEMPLATE PATH MODE"
#   RENDER_VARS   declared variable names, space-separated; their values are env vars
STEP=config-render

render() {
  src="$RENDER_SRC/$1" dest="$FETCH_DEST/$2"
  [ -f "$src" ] || fail "template $1 not found in $RENDER_SRC"
  new_scratch "$dest" || fail "cannot create the directory of $2"
  # Whether the template ends in a newline ($(...) strips a trailing newline).
  if [ -z "$(tail -c 1 "$src")" ]; then final_newline=1; else final_newline=0; fi
  awk -v names="$RENDER_VARS" -v final_newline="$final_newline" '
    BEGIN { n = split(names, list, " "); for (i = 1; i <= n; i++) declared[list[i]] = 1 }
    {
      line = $0; out = ""
      while ((start = index(line, "${")) > 0) {
        rest = substr(line, start + 2)
        close_at = index(rest, "}")
        if (close_at == 0) break
        expr = substr(rest, 1, close_at - 1)
        name = expr; fallback = ""; has_default = 0
        if ((sep = index(expr, ":-")) > 0) { name = substr(expr, 1, sep - 1); fallback = substr(expr, sep + 2); has_default = 1 }
        if (name in declared) {
          value = ENVIRON[name]
          if (value == "" && has_default) value = fallback
          out = out substr(line, 1, start - 1) value
          line = substr(rest, close_at + 1)
        } else {
          out = out substr(line, 1, start + 1)
          line = rest
        }
      }
      printf "%s%s%s", (NR > 1 ? "\n" : ""), out, line
    }
    END { if (NR > 0 && final_newline) printf "\n" }
  ' "$src" >"$scratch/out" || abort "cannot render $1"
  install_file "$scratch/out" "$dest" "$3" || abort "cannot install $2${install_err:+: $install_err}"
  rm -rf "$scratch"
  log "rendered $1 -> $2"
  count=$(( count + 1 ))
}

main() {
  count=0
  each_line "$RENDER_FILES" render
  log "done: $count file(s) in $FETCH_DEST"
}

run_main main
