# volume-permissions: makes a volume usable by the app's uid/gid.
#   TARGET        the volume's mount path
#   PERM_MODE     "chown": chown -R OWNER_UID:OWNER_GID and chmod DIR_MODE (runs as
#                 root with only CHOWN, FOWNER and DAC_READ_SEARCH, plus FSETID
#                 when DIR_MODE has a setuid/setgid bit); "check": verify that
#                 fsGroup took effect (the volume is writable and new files get FS_GROUP)
#   OWNER_UID, OWNER_GID, DIR_MODE, FS_GROUP
STEP=volume-permissions

# DAC_READ_SEARCH lets chown -R list and traverse directories it neither owns nor
# may read: the 0700 root left by the previous run, or existing PostgreSQL data.
chown_volume() {
  chown -R "$OWNER_UID:$OWNER_GID" "$TARGET" || fail "chown -R $OWNER_UID:$OWNER_GID $TARGET failed"
  chmod "$DIR_MODE" "$TARGET" || fail "chmod $DIR_MODE $TARGET failed"
  # Without FSETID the kernel silently drops a setgid bit; never report a mode not set.
  mode=$(stat -c %a "$TARGET")
  [ "$(( 0$mode ))" -eq "$(( 0$DIR_MODE ))" ] || fail "chmod $DIR_MODE $TARGET left mode $mode"
  log "$TARGET is owned by $OWNER_UID:$OWNER_GID, mode $DIR_MODE"
}

check_fs_group() {
  probe="$TARGET/.volume-permissions.$RUN_ID"
  # `true`, not `:`: a failed redirection of a special builtin exits the shell
  # before `fail` could explain it.
  true >"$probe" 2>/dev/null ||
    fail "$TARGET is not writable with fsGroup $FS_GROUP: the volume type ignores fsGroup (e.g. hostPath, some NFS); use VolumePermissionStrategy.CHOWN"
  group=$(stat -c %g "$probe")
  rm -f "$probe"
  [ "$group" = "$FS_GROUP" ] ||
    fail "new files in $TARGET get group $group, not fsGroup $FS_GROUP: the volume type ignores fsGroup; use VolumePermissionStrategy.CHOWN"
  log "$TARGET is writable by group $FS_GROUP (fsGroup)"
}

main() {
  [ -d "$TARGET" ] || fail "volume path $TARGET is not a directory"
  case "$PERM_MODE" in
    chown) chown_volume ;;
    check) check_fs_group ;;
    *) fail_config "unknown PERM_MODE $PERM_MODE" ;;
  esac
}

run_main main
