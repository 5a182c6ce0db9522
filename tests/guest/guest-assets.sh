# shellcheck shell=bash
# tests/guest/guest-assets.sh: the Debian packages real-guest tests boot:
# the cloud kernel (with its modules, depmod'ed) and busybox-static, fetched
# once with `apt-get download` into a cache and unpacked with dpkg-deb.
# Sourced, not run.
#
#   guest_assets_fetch     fills GUEST_KERNEL (bzImage), GUEST_KERNEL_VERSION,
#                          GUEST_MODULES (the tree holding lib/modules/VER),
#                          GUEST_BUSYBOX (static binary); returns 1 and says
#                          why when it cannot
#   guest_tsc_khz          the host TSC rate for `tsc_early_khz=` (without it
#                          some TCG boots hang calibrating the TSC)
#
# The cache is $BANGER_GUEST_CACHE, else /var/cache/banger-test (root) or
# $XDG_CACHE_HOME/banger-test. A lock keeps parallel tests from fetching twice.

guest_assets_cache_dir() {
    if [[ -n ${BANGER_GUEST_CACHE:-} ]]; then
        printf '%s\n' "$BANGER_GUEST_CACHE"
    elif ((EUID == 0)); then
        printf '%s\n' /var/cache/banger-test
    else
        printf '%s\n' "${XDG_CACHE_HOME:-$HOME/.cache}/banger-test"
    fi
}

# Downloads PACKAGE's .deb into DIR unless one is there; prints its path.
guest_assets_download() {
    local dir=$1 package=$2 deb errors attempt
    deb=$(compgen -G "$dir/${package}_*.deb" | head -n 1) || true
    if [[ -z $deb ]]; then
        # A mirror's hiccup should not fail a whole test run: three tries,
        # and apt's own errors when all of them fail.
        for attempt in 1 2 3; do
            errors=$(cd "$dir" && apt-get -q download "$package" 2>&1 >/dev/null) && break
            rm -f "$dir/${package}"_*.deb
            ((attempt == 3)) || sleep "$attempt"
        done
        deb=$(compgen -G "$dir/${package}_*.deb" | head -n 1) || true
        if [[ -z $deb ]]; then
            echo "guest-assets: apt-get download $package failed:" >&2
            grep -E '^(E|Err):' <<<"$errors" | sed 's/^/  /' >&2 || true
            return 1
        fi
    fi
    printf '%s\n' "$deb"
}

guest_assets_fetch_locked() {
    local cache=$1 kernel_pkg deb
    # The metapackage names the versioned kernel package it depends on.
    kernel_pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
        sed -n 's/^ *Depends: \(linux-image-[0-9].*-cloud-amd64\)$/\1/p' | head -n 1)
    [[ -n $kernel_pkg ]] ||
        { echo "guest-assets: apt knows no linux-image-cloud-amd64 (apt-get update?)" >&2; return 1; }
    if [[ ! -e $cache/kernel/.done-$kernel_pkg ]]; then
        deb=$(guest_assets_download "$cache/debs" "$kernel_pkg") || return 1
        rm -rf "$cache/kernel"
        mkdir -p "$cache/kernel"
        dpkg-deb -x "$deb" "$cache/kernel"
        local version
        version=$(basename "$(compgen -G "$cache/kernel/lib/modules/*" | head -n 1)")
        depmod -b "$cache/kernel" "$version"
        touch "$cache/kernel/.done-$kernel_pkg"
    fi
    if [[ ! -x $cache/busybox/bin/busybox ]]; then
        deb=$(guest_assets_download "$cache/debs" busybox-static) || return 1
        rm -rf "$cache/busybox"
        mkdir -p "$cache/busybox"
        dpkg-deb -x "$deb" "$cache/busybox"
    fi
}

guest_assets_fetch() {
    command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null && command -v depmod >/dev/null ||
        { echo "guest-assets: needs apt-get, dpkg-deb and depmod (kmod)" >&2; return 1; }
    local cache
    cache=$(guest_assets_cache_dir)
    mkdir -p "$cache/debs"
    (
        flock 9
        guest_assets_fetch_locked "$cache"
    ) 9>"$cache/.lock" || return 1
    GUEST_KERNEL_VERSION=$(basename "$(compgen -G "$cache/kernel/lib/modules/*" | head -n 1)")
    GUEST_KERNEL=$cache/kernel/boot/vmlinuz-$GUEST_KERNEL_VERSION
    GUEST_MODULES=$cache/kernel
    GUEST_BUSYBOX=$cache/busybox/bin/busybox
    [[ -r $GUEST_KERNEL && -x $GUEST_BUSYBOX ]]
}

guest_tsc_khz() {
    local mhz
    mhz=$(sed -n 's/^cpu MHz[[:space:]]*: *\([0-9.]*\)$/\1/p' /proc/cpuinfo | head -n 1)
    [[ -n $mhz ]] || return 1
    awk -v m="$mhz" 'BEGIN { printf "%d\n", m * 1000 }'
}
