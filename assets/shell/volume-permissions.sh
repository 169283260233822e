# volume-permissions: makes a volume usable by the app's uid/gid.
#   TARGET        the volume's mount path
#   PERM_MODE     "chown": chown -R OWNER_UID:OWNER_GID and chmod DIR_MODE (runs as
#                 root with only CHOWN and FOWNER); "check": verify that fsGroup
#                 took effect (the volume is writable and new files get FS_GROUP)
#   OWNER_UID, OWNER_GID, DIR_MODE, FS_GROUP
STEP=volume-permissions

[ -d "$TARGET" ] || fail "volume path $TARGET is not a directory"
case "$PERM_MODE" in
  chown)
    chown -R "$OWNER_UID:$OWNER_GID" "$TARGET" || fail "chown -R $OWNER_UID:$OWNER_GID $TARGET failed"
    chmod "$DIR_MODE" "$TARGET" || fail "chmod $DIR_MODE $TARGET failed"
    log "$TARGET is owned by $OWNER_UID:$OWNER_GID, mode $DIR_MODE"
    ;;
  check)
    probe="$TARGET/.volume-permissions.$$"
    : >"$probe" 2>/dev/null ||
      fail "$TARGET is not writable with fsGroup $FS_GROUP: the volume type ignores fsGroup (e.g. hostPath, some NFS); use VolumePermissionStrategy.CHOWN"
    group=$(stat -c %g "$probe")
    rm -f "$probe"
    [ "$group" = "$FS_GROUP" ] ||
      fail "new files in $TARGET get group $group, not fsGroup $FS_GROUP: the volume type ignores fsGroup; use VolumePermissionStrategy.CHOWN"
    log "$TARGET is writable by group $FS_GROUP (fsGroup)"
    ;;
  *) fail "unknown PERM_MODE $PERM_MODE" ;;
esac
