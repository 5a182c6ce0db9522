# shellcheck shell=bash
# tools/lib.sh: what tools/test and tools/devenv share: the one list of
# Debian packages banger needs to build and test, installed only when
# missing, and the meson build. Sourced, not run.

# Debian 12 package names. A fresh CI machine has none of the build tools:
# this list must be complete for `bash .ci/run` to pass there.
BANGER_PACKAGES=(
    # build
    meson ninja-build pkg-config gcc libc6-dev gettext
    libglib2.0-dev libglib2.0-bin libpolkit-gobject-1-dev libsqlite3-dev
    libsoup-3.0-dev libjson-glib-dev libdbus-1-dev
    # the helper's networking: rtnetlink (libmnl), NAT (libnftables)
    libmnl-dev libnftables-dev
    # tests: private buses (dbus-daemon, dbus-run-session, gdbus, busctl),
    # the real polkitd, test users (passwd), setpriv/unshare/flock/mount
    # (util-linux, mount), lint (xmllint, python3), later suites (iproute2,
    # sqlite3), nft to read back banger's NAT table (nftables)
    dbus-daemon dbus-bin systemd polkitd passwd util-linux mount
    libxml2-utils python3 iproute2 sqlite3 nftables
    # the fake Firecracker reads the API spec (tests/fake-firecracker)
    python3-yaml
    # bangerd makes each VM's disk with mkfs.ext4 -d; the tests read it
    # back with debugfs and e2fsck
    e2fsprogs
    # the reflink case of a VM's private image copy (tests/vm/root-copy.sh)
    xfsprogs
    # the libFuzzer target (tests/fuzz)
    clang libclang-rt-14-dev
    # real guests: the qemu driver and its tests; the guest kernel and
    # busybox come from apt (tests/guest/guest-assets.sh) and need depmod
    qemu-system-x86 kmod
    # the qemu driver's test packs its guest's initramfs (tests/vm/qemu-driver.sh)
    cpio
    # holds the helper inside a call so a test can cut in (tests/vm/start-failures.sh)
    strace
    # images: .deb and cpio (libarchive), ext4 ownership (libext2fs), the
    # ELF kernel inside a bzImage (lz4)
    libarchive-dev libext2fs-dev liblz4-dev
)

BANGER_ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)

banger_tools_log() {
    printf '%s: %s\n' "${0##*/}" "$*" >&2
}

# Prints the packages of BANGER_PACKAGES that are not installed.
banger_missing_packages() {
    local package status
    for package in "${BANGER_PACKAGES[@]}"; do
        status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$package" 2>/dev/null) || status=
        [[ $status == ii* ]] || printf '%s\n' "$package"
    done
}

# Installs what is missing; runs `apt-get update` only then.
banger_install_packages() {
    local missing
    mapfile -t missing < <(banger_missing_packages)
    ((${#missing[@]})) || return 0
    if ((EUID != 0)); then
        banger_tools_log "missing packages: ${missing[*]}; install them or run as root"
        return 1
    fi
    banger_tools_log "installing: ${missing[*]}"
    # Another apt run (unattended upgrades, a parallel job) holds the lock
    # for a while at most: wait for it instead of failing.
    local apt=(apt-get -q -o DPkg::Lock::Timeout=300)
    "${apt[@]}" update >/dev/null &&
        DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y \
            --no-install-recommends "${missing[@]}" >/dev/null
}

# banger_build DIR [MESON-OPTION...]: configures DIR if it is not yet a
# build dir (with the options), applies the options if it is, then builds;
# ninja decides what is stale, including re-running meson.
banger_build() {
    local dir=$1
    shift
    if [[ ! -e $dir/meson-private/coredata.dat ]]; then
        meson setup "$dir" "$BANGER_ROOT" "$@" || return
    elif (($#)) && ! meson configure "$dir" "$@" >/dev/null; then
        # A build dir from another meson version, or broken: start over.
        meson setup --wipe "$dir" "$BANGER_ROOT" "$@" || return
    fi
    meson compile -C "$dir"
}
