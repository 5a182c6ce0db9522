# shellcheck shell=bash
# tests/harness/harness.sh: private D-Bus buses, a real polkitd, test users
# and TAP output for banger's bus/host/vm tests and for tools/devenv.
#
# Source it from bash (set -euo pipefail is fine), then call harness_start.
# Everything it starts runs below tests/harness/reaper processes and is torn
# down on exit, on SIGINT/SIGTERM/SIGHUP and (via PR_SET_PDEATHSIG) even when
# the test is SIGKILLed, $HARNESS_DIR included. Several tests may run at
# once: each gets its own dir, buses and polkitd; only the test users are
# shared (created under a lock).
#
# Lifecycle
#   harness_start            root only. Creates $HARNESS_DIR (0755) and starts
#                            a private SYSTEM bus (strict policy, the helper's
#                            bus policy, activation of dev.banger.Helper1 and of
#                            a real polkitd seeing only banger's actions and
#                            rules), then a private SESSION bus for root with
#                            dev.banger.Daemon1 activatable. Waits until polkitd
#                            answers. Registers harness_stop on EXIT.
#   harness_stop             Runs harness_on_exit commands (last first), stops
#                            every process started, fails the test if a service
#                            log holds a sanitizer report, shows the logs if the
#                            test failed, removes $HARNESS_DIR. Called by the
#                            EXIT trap; calling it again does nothing.
#   harness_on_exit CMD...   Registers cleanup to run (LIFO) before the buses
#                            stop, e.g. deleting a network namespace.
#
# Environment read by harness_start
#   BANGER_SOURCE_DIR, BANGER_BUILD_DIR  default: this repo, $repo/build
#   BANGER_HELPER_IDLE_TIMEOUT           helper --idle-timeout (default 30)
#   BANGER_HELPER_CONFIG                 helper --config FILE (default: the
#                                        helper's own default path)
#   BANGER_HELPER_VERBOSE                1 (default): helper gets --verbose
#   BANGER_DAEMON_VERBOSE                1 (default): bangerd gets --verbose
#   HARNESS_KEEP=1                       keep $HARNESS_DIR and say where
#   HARNESS_SHOW_LOGS                    on-failure (default), always or
#                                        never: bus and service logs on
#                                        stderr at teardown
#   HARNESS_PROTOCOL                     tap (default) or exitcode: how
#                                        harness_skip and harness_die
#                                        report (exitcode: exit 77 / 1 and
#                                        stderr only)
#   CI=true                              harness_skip fails instead
#
# Exported by harness_start
#   HARNESS_DIR                 the private temp dir (logs: $HARNESS_DIR/*.log)
#   DBUS_SYSTEM_BUS_ADDRESS     private system bus (busctl --system, gdbus
#                               --system, libpolkit and the helper use it)
#   DBUS_SESSION_BUS_ADDRESS    root's private session bus (busctl --user,
#                               gdbus --session, banger, bangerd)
#   HOME XDG_CONFIG_HOME XDG_STATE_HOME XDG_DATA_HOME XDG_CACHE_HOME
#   XDG_RUNTIME_DIR             root's, all under $HARNESS_DIR/users/root
#   PATH                        the built banger's dir first
#   HARNESS_HELPER_EXE HARNESS_BANGERD_EXE HARNESS_BANGER_EXE  the programs
#                               the buses start (bangerd and banger: copies
#                               in $HARNESS_DIR/bin if the build dir is closed
#                               to other users)
# Set (not exported) on sourcing: HARNESS_HELPER_NAME, HARNESS_HELPER_PATH,
# HARNESS_DAEMON_NAME, HARNESS_DAEMON_PATH (bus names and object paths).
#
# Users
#   harness_ensure_users     Idempotently creates group "banger", users
#                            bangertest-member (in banger) and bangertest-other
#                            (not), in /etc/group as polkit's isInGroup() needs.
#                            Exports BANGER_GID, BANGERTEST_MEMBER_UID/_GID,
#                            BANGERTEST_OTHER_UID/_GID.
#   harness_ensure_launch_user
#                            Idempotently creates bangertest-launch (in group
#                            banger) with a real home, /var/lib/bangertest-launch,
#                            holding .local/state/banger and .local/share/banger:
#                            the helper's Launch takes files only from below
#                            the home in the password database, and the other
#                            test users have none. Exports
#                            BANGERTEST_LAUNCH_UID/_GID/_HOME.
#   harness_as USER CMD...   Runs CMD as USER (supplementary groups from
#                            /etc/group, as after a login) with its own HOME and
#                            XDG dirs under $HARNESS_DIR/users/USER, the private
#                            system bus and no session bus. USER may be root.
#                            CMD may be a shell function; it then sees exported
#                            variables and the harness's constants only.
#   harness_as_session USER CMD...
#                            Same, inside a fresh session bus of USER's own
#                            (dbus-run-session) where dev.banger.Daemon1 is
#                            activatable; leftovers are killed when CMD ends.
#                            Skips if USER cannot run the built bangerd.
#                            For root: CMD runs on root's harness session bus.
#
# polkit
#   harness_polkit_rule NAME JS  Installs NAME.rules (JavaScript) in the
#                            /etc/polkit-1/rules.d polkitd sees, and returns
#                            once polkitd has reloaded it. Empty JS removes it.
#   harness_polkit_sync      Returns once polkitd has loaded the rules dirs as
#                            they are now (probe: dev.banger.harness.probe).
#
# Waiting (polls with short intervals; no fixed sleeps)
#   harness_poll TIMEOUT CMD...           until CMD succeeds; 1 on timeout
#   harness_wait_name [--session] NAME [TIMEOUT]   until NAME has an owner
#   harness_wait_gone [--session] PID|NAME TIMEOUT until the process is gone
#                                         (zombies count as gone) or NAME
#                                         has no owner
#   harness_name_has_owner [--session] NAME
#   harness_name_pid [--session] NAME     prints the owner's pid
#   harness_pid_alive PID                 exists and is not a zombie
#   harness_kill_owner [--session] NAME [TIMEOUT]
#                                         SIGKILLs NAME's owner; returns once
#                                         it is gone and the bus has released
#                                         NAME (until then a call can still be
#                                         routed to the dead connection
#                                         instead of activating a new owner)
#
# Calling the programs
#   harness_helper_call [--interactive] METHOD [ARGS...]
#                            gdbus call to dev.banger.Helper1 on the private
#                            system bus (as whoever runs it: combine with
#                            harness_as); --interactive sets the message's
#                            allow-interactive-authorization flag.
#   harness_project_version  prints the version of the built project
#
# Messages, skipping and requirements
#   harness_log MSG...       to stderr
#   harness_die MSG...       fixture failure: TAP "Bail out!", exit 1
#   harness_skip REASON      Skips the whole test (TAP "1..0 # SKIP", or exit
#                            77 with HARNESS_PROTOCOL=exitcode). With CI=true
#                            it FAILS with REASON: CI must never skip silently.
#   harness_require_root
#   harness_require_cmd CMD...
#   harness_require_file PATH [WHAT]
#
# TAP (stdout is the TAP stream; everything else goes to stderr)
#   tap_plan N               optional: tap_done prints a trailing plan if
#                            none was given
#   tap_ok DESC | tap_fail DESC [DETAILS...] | tap_diag TEXT...
#   tap_check DESC CMD...    ok if CMD exits 0; its output shown otherwise
#   tap_expect_fail_with ERRNAME[|ERRNAME...] DESC CMD...
#                            ok if CMD fails and its stderr contains (one of)
#                            ERRNAME
#   tap_run CMD...           runs CMD like tap_check without reporting, for
#                            checks of one's own; tap_show_run DESC formats
#                            the result for tap_fail
#   tap_is GOT WANT DESC     ok if the strings are equal
#   tap_done                 prints the plan if needed; exits 1 if anything
#                            failed, else 0
#   After tap_check/tap_expect_fail_with/tap_run, TAP_OUT, TAP_ERR and
#   TAP_STATUS hold CMD's stdout, stderr and exit status.

if [[ -n ${_HARNESS_SOURCED:-} ]]; then
    return 0
fi
_HARNESS_SOURCED=1

HARNESS_LIB_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
: "${BANGER_SOURCE_DIR:=$(cd -- "$HARNESS_LIB_DIR/../.." && pwd)}"
: "${BANGER_BUILD_DIR:=$BANGER_SOURCE_DIR/build}"
export BANGER_SOURCE_DIR BANGER_BUILD_DIR

HARNESS_HELPER_EXE=$BANGER_BUILD_DIR/src/helper/banger-helper
HARNESS_BANGERD_EXE=$BANGER_BUILD_DIR/src/daemon/bangerd
HARNESS_BANGER_EXE=$BANGER_BUILD_DIR/src/client/banger
export HARNESS_HELPER_EXE HARNESS_BANGERD_EXE HARNESS_BANGER_EXE

HARNESS_POLKITD=${HARNESS_POLKITD:-/usr/lib/polkit-1/polkitd}
# The pyenv shim that may come first on PATH costs ~0.4 s per start; the
# reaper needs only the stdlib.
if [[ -z ${HARNESS_PYTHON:-} ]]; then
    if [[ -x /usr/bin/python3 ]]; then
        HARNESS_PYTHON=/usr/bin/python3
    else
        HARNESS_PYTHON=python3
    fi
fi

# shellcheck disable=SC2034 # for the tests
HARNESS_HELPER_NAME=dev.banger.Helper1 HARNESS_HELPER_PATH=/dev/banger/Helper1
# shellcheck disable=SC2034 # for the tests
HARNESS_DAEMON_NAME=dev.banger.Daemon1 HARNESS_DAEMON_PATH=/dev/banger/Daemon1
HARNESS_USERS=(bangertest-member bangertest-other)

_harness_reapers=()        # pids of the reapers of our long-running daemons
_harness_cleanups=()       # harness_on_exit commands
_harness_owner=            # $BASHPID of the shell that ran harness_start
_harness_polkit_generation=0
_tap_count=0
_tap_failed=0
_tap_planned=

# ---------------------------------------------------------------- messages

harness_log() {
    printf 'harness: %s\n' "$*" >&2
}

# A broken fixture is not a test failure of the code under test, but it
# must never look like success: TAP "Bail out!" makes meson report ERROR.
harness_die() {
    if [[ ${HARNESS_PROTOCOL:-tap} == tap ]]; then
        printf 'Bail out! harness: %s\n' "$*"
    fi
    printf 'harness: %s\n' "$*" >&2
    exit 1
}

# ---------------------------------------------------------------- skipping

harness_skip() {
    local reason="$*"
    if [[ ${CI:-} == true ]]; then
        harness_die "CI=true, so not skipping: $reason"
    fi
    if [[ ${HARNESS_PROTOCOL:-tap} == exitcode ]]; then
        harness_log "SKIP: $reason"
        exit 77
    fi
    if ((_tap_count > 0)) || [[ -n $_tap_planned ]]; then
        harness_die "skip requested after test output started: $reason"
    fi
    printf '1..0 # SKIP %s\n' "$reason"
    exit 0
}

harness_require_root() {
    if ((EUID != 0)); then
        harness_skip "needs root (private system bus, polkitd, test users)"
    fi
}

harness_require_cmd() {
    local cmd
    for cmd in "$@"; do
        if ! command -v "$cmd" >/dev/null 2>&1; then
            harness_skip "needs $cmd (tools/test installs it)"
        fi
    done
}

# Whether bangerd, as this user, takes /dev/kvm for usable (kvm.c): it
# opens read-write and the CPU offers VMX or SVM; a software KVM without
# them (PVM) boots no standard kernel.
harness_kvm_usable() {
    [[ -r /dev/kvm && -w /dev/kvm ]] && grep -qwE 'vmx|svm' /proc/cpuinfo
}

harness_require_file() {
    if [[ ! -e $1 ]]; then
        harness_skip "${2:-$1} not found at $1 (not built?)"
    fi
}

# ---------------------------------------------------------------- TAP

tap_plan() {
    _tap_planned=$1
    printf '1..%s\n' "$1"
}

tap_diag() {
    local line
    while IFS= read -r line; do
        printf '# %s\n' "$line"
    done <<<"$(printf '%s\n' "$@")"
}

tap_ok() {
    _tap_count=$((_tap_count + 1))
    printf 'ok %d - %s\n' "$_tap_count" "$1"
}

tap_fail() {
    _tap_count=$((_tap_count + 1))
    _tap_failed=$((_tap_failed + 1))
    printf 'not ok %d - %s\n' "$_tap_count" "$1"
    shift
    if (($#)); then
        tap_diag "$@"
    fi
}

# Runs "$@" with stdout and stderr captured in TAP_OUT / TAP_ERR and its exit
# status in TAP_STATUS, so that nothing the command prints can corrupt the TAP
# stream.
tap_run() {
    local out err
    out=$(mktemp "${HARNESS_DIR:-${TMPDIR:-/tmp}}/tap-out.XXXXXX")
    err=$(mktemp "${HARNESS_DIR:-${TMPDIR:-/tmp}}/tap-err.XXXXXX")
    TAP_STATUS=0
    "$@" >"$out" 2>"$err" </dev/null || TAP_STATUS=$?
    TAP_OUT=$(<"$out")
    TAP_ERR=$(<"$err")
    rm -f -- "$out" "$err"
}

tap_show_run() {
    printf 'command: %s\nexit status: %s\nstdout: %s\nstderr: %s\n' \
        "$*" "$TAP_STATUS" "$TAP_OUT" "$TAP_ERR"
}

tap_check() {
    local desc=$1
    shift
    tap_run "$@"
    if ((TAP_STATUS == 0)); then
        tap_ok "$desc"
    else
        tap_fail "$desc" "$(tap_show_run "$@")"
    fi
}

tap_expect_fail_with() {
    local desc=$2 name names
    IFS='|' read -r -a names <<<"$1"
    shift 2
    tap_run "$@"
    if ((TAP_STATUS != 0)); then
        for name in "${names[@]}"; do
            if [[ $TAP_ERR == *"$name"* ]]; then
                tap_ok "$desc"
                return 0
            fi
        done
    fi
    tap_fail "$desc" "expected failure with ${names[*]}" "$(tap_show_run "$@")"
}

tap_is() {
    if [[ $1 == "$2" ]]; then
        tap_ok "$3"
    else
        tap_fail "$3" "got:  $1" "want: $2"
    fi
}

tap_done() {
    if [[ -z $_tap_planned ]]; then
        printf '1..%d\n' "$_tap_count"
    elif ((_tap_planned != _tap_count)); then
        harness_log "planned $_tap_planned tests but ran $_tap_count"
        exit 1
    fi
    if ((_tap_failed > 0)); then
        exit 1
    fi
    exit 0
}

# ---------------------------------------------------------------- waiting

# Microseconds since the epoch, from bash itself (no date(1) per poll).
_harness_now_us() {
    local t=${EPOCHREALTIME/[.,]/}
    printf '%s' "$((10#$t))"
}

harness_poll() {
    local timeout=$1
    shift
    local deadline interval=0.01
    deadline=$(($(_harness_now_us) + ${timeout%.*} * 1000000))
    while true; do
        if "$@"; then
            return 0
        fi
        if (($(_harness_now_us) >= deadline)); then
            return 1
        fi
        sleep "$interval"
        # 10 ms, 20 ms, 40 ms, ... capped at 200 ms: quick for things that
        # take a moment, cheap for slower ones.
        case $interval in
            0.01) interval=0.02 ;;
            0.02) interval=0.04 ;;
            0.04) interval=0.08 ;;
            0.08) interval=0.16 ;;
            *) interval=0.2 ;;
        esac
    done
}

_harness_bus_flag() {
    if [[ ${1:-} == --session ]]; then
        printf -- '--session'
    else
        printf -- '--system'
    fi
}

harness_name_has_owner() {
    local bus
    bus=$(_harness_bus_flag "$1")
    [[ $1 == --session ]] && shift
    local reply
    reply=$(gdbus call "$bus" --dest org.freedesktop.DBus \
        --object-path /org/freedesktop/DBus \
        --method org.freedesktop.DBus.NameHasOwner "$1") || return 2
    [[ $reply == "(true,)" ]]
}

harness_name_pid() {
    local bus
    bus=$(_harness_bus_flag "$1")
    [[ $1 == --session ]] && shift
    local reply
    reply=$(gdbus call "$bus" --dest org.freedesktop.DBus \
        --object-path /org/freedesktop/DBus \
        --method org.freedesktop.DBus.GetConnectionUnixProcessID "$1") ||
        return 1
    # "(uint32 1234,)"
    reply=${reply#*uint32 }
    printf '%s\n' "${reply%,)}"
}

harness_wait_name() {
    local bus
    bus=$(_harness_bus_flag "$1")
    [[ $1 == --session ]] && shift
    gdbus wait "$bus" --timeout "${2:-10}" "$1"
}

harness_pid_alive() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ ${stat:0:1} != Z ]]
}

_harness_name_gone() {
    local rc=0
    harness_name_has_owner "$@" || rc=$?
    ((rc == 1))
}

harness_wait_gone() {
    local session=()
    if [[ $1 == --session ]]; then
        session=(--session)
        shift
    fi
    local what=$1 timeout=$2
    if [[ $what =~ ^[0-9]+$ ]]; then
        harness_poll "$timeout" eval '! harness_pid_alive '"$what"
    else
        harness_poll "$timeout" _harness_name_gone "${session[@]}" "$what"
    fi
}

harness_kill_owner() {
    local session=()
    if [[ $1 == --session ]]; then
        session=(--session)
        shift
    fi
    local name=$1 timeout=${2:-10} pid
    pid=$(harness_name_pid "${session[@]}" "$name") || return 1
    kill -9 "$pid"
    harness_wait_gone "$pid" "$timeout" && harness_wait_gone "${session[@]}" "$name" "$timeout"
}

# ---------------------------------------------------------------- programs

harness_helper_call() {
    local flags=()
    if [[ ${1:-} == --interactive ]]; then
        flags+=(--interactive)
        shift
    fi
    local method=$1
    shift
    gdbus call --system --timeout 20 "${flags[@]}" \
        --dest "$HARNESS_HELPER_NAME" --object-path "$HARNESS_HELPER_PATH" \
        --method "$HARNESS_HELPER_NAME.$method" "$@"
}

harness_project_version() {
    "$HARNESS_PYTHON" -c 'import json, sys; print(json.load(open(sys.argv[1]))["version"])' \
        "$BANGER_BUILD_DIR/meson-info/intro-projectinfo.json"
}

# ---------------------------------------------------------------- users

harness_ensure_users() {
    harness_require_root
    harness_require_cmd flock groupadd useradd usermod
    local lockdir=/run/lock
    [[ -d $lockdir ]] || lockdir=/run
    # useradd has its own locking, but "check, then create" does not: two
    # tests starting together would both try to create the same user.
    (
        flock -w 60 9 || exit 1
        getent group banger >/dev/null || groupadd --system banger
        local user
        for user in "${HARNESS_USERS[@]}"; do
            if ! getent passwd "$user" >/dev/null; then
                useradd --system --user-group --no-create-home \
                    --home-dir /nonexistent --shell /usr/sbin/nologin \
                    --comment "banger test user" "$user"
            fi
        done
        # Membership must be in /etc/group: polkit's isInGroup() reads it,
        # not the caller's process credentials.
        if ! id -nG bangertest-member | grep -qw banger; then
            usermod -aG banger bangertest-member
        fi
        if id -nG bangertest-other | grep -qw banger; then
            gpasswd -d bangertest-other banger >/dev/null
        fi
    ) 9>"$lockdir/banger-harness-users.lock" ||
        harness_die "could not create the test users"
    BANGER_GID=$(getent group banger | cut -d: -f3)
    BANGERTEST_MEMBER_UID=$(id -u bangertest-member)
    BANGERTEST_MEMBER_GID=$(id -g bangertest-member)
    BANGERTEST_OTHER_UID=$(id -u bangertest-other)
    BANGERTEST_OTHER_GID=$(id -g bangertest-other)
    export BANGER_GID BANGERTEST_MEMBER_UID BANGERTEST_MEMBER_GID \
        BANGERTEST_OTHER_UID BANGERTEST_OTHER_GID
}

harness_ensure_launch_user() {
    harness_ensure_users
    local lockdir=/run/lock user=bangertest-launch home=/var/lib/bangertest-launch
    [[ -d $lockdir ]] || lockdir=/run
    (
        flock -w 60 9 || exit 1
        if ! getent passwd "$user" >/dev/null; then
            useradd --system --user-group --no-create-home \
                --home-dir "$home" --shell /usr/sbin/nologin \
                --comment "banger test user with a home" "$user"
        fi
        if ! id -nG "$user" | grep -qw banger; then
            usermod -aG banger "$user"
        fi
        install -d -m 0755 -o "$user" -g "$user" "$home" "$home/.local" \
            "$home/.local/state" "$home/.local/share" \
            "$home/.local/state/banger" "$home/.local/share/banger"
    ) 9>"$lockdir/banger-harness-users.lock" ||
        harness_die "could not create the launch test user"
    BANGERTEST_LAUNCH_UID=$(id -u bangertest-launch)
    BANGERTEST_LAUNCH_GID=$(id -g bangertest-launch)
    BANGERTEST_LAUNCH_HOME=$(getent passwd bangertest-launch | cut -d: -f6)
    export BANGERTEST_LAUNCH_UID BANGERTEST_LAUNCH_GID BANGERTEST_LAUNCH_HOME
}

# Creates USER's home and XDG dirs under $HARNESS_DIR/users/USER (owned by
# USER, XDG_RUNTIME_DIR 0700 as pam_systemd would make it) and sets
# _harness_user_env to the matching VAR=VALUE list.
_harness_user_setup() {
    local user=$1 uid gid base
    [[ -n ${HARNESS_DIR:-} ]] || harness_die "harness_start first"
    uid=$(id -u "$user") || harness_die "no such user: $user"
    gid=$(id -g "$user")
    base=$HARNESS_DIR/users/$user
    if [[ ! -d $base ]]; then
        install -d -m 0755 "$HARNESS_DIR/users"
        install -d -m 0755 -o "$uid" -g "$gid" "$base" "$base/home" \
            "$base/home/.config" "$base/home/.local" \
            "$base/home/.local/state" "$base/home/.local/share" \
            "$base/home/.cache"
        install -d -m 0700 -o "$uid" -g "$gid" "$base/runtime"
    fi
    _harness_user_env=(
        "HOME=$base/home"
        "USER=$user"
        "LOGNAME=$user"
        "XDG_CONFIG_HOME=$base/home/.config"
        "XDG_STATE_HOME=$base/home/.local/state"
        "XDG_DATA_HOME=$base/home/.local/share"
        "XDG_CACHE_HOME=$base/home/.cache"
        "XDG_RUNTIME_DIR=$base/runtime"
    )
}

# Sets _harness_argv to a command line that runs "$@" in a new process even
# if $1 is a shell function (of the harness or of the test): a bash that
# gets this shell's function definitions and the harness's constants. (Not
# by sourcing harness.sh: the user may not be able to read the tree.) Such a
# function sees exported variables and those constants only.
_harness_argv_for() {
    if [[ $(type -t "$1") == function ]]; then
        local defs
        defs=$(declare -f
            declare -p HARNESS_LIB_DIR HARNESS_PYTHON HARNESS_POLKITD \
                HARNESS_USERS HARNESS_HELPER_NAME HARNESS_HELPER_PATH \
                HARNESS_DAEMON_NAME HARNESS_DAEMON_PATH)
        # shellcheck disable=SC2016 # expanded by that bash
        _harness_argv=("$BASH" -c 'eval "$1" && shift && "$@"' bash "$defs" "$@")
    else
        _harness_argv=("$@")
    fi
}

# Skips (fails under CI) if USER cannot run PATH, typically because the
# tree is under a directory such as /root that others cannot enter.
_harness_require_reachable() {
    local user=$1 path=$2
    [[ -e $path ]] || return 0
    if ! setpriv --reuid="$user" --regid="$(id -g "$user")" --clear-groups \
        -- test -x "$path"; then
        harness_skip "$user cannot run $path: a parent directory is" \
            "closed to other users; build in a directory they can reach"
    fi
}

harness_as() {
    local user=$1
    shift
    _harness_argv_for "$@"
    if [[ $user == root ]]; then
        env -u DBUS_SESSION_BUS_ADDRESS "${_harness_argv[@]}"
        return
    fi
    _harness_user_setup "$user"
    setpriv --reuid="$user" --regid="$(id -g "$user")" --init-groups -- \
        env -u DBUS_SESSION_BUS_ADDRESS -C "$HARNESS_DIR/users/$user/home" \
        "${_harness_user_env[@]}" "${_harness_argv[@]}"
}

harness_as_session() {
    local user=$1
    shift
    if [[ $user == root ]]; then
        "$@"
        return
    fi
    _harness_argv_for "$@"
    _harness_user_setup "$user"
    # The session activates bangerd from the build dir as USER.
    _harness_require_reachable "$user" "$HARNESS_BANGERD_EXE"
    local base=$HARNESS_DIR/users/$user
    if [[ ! -e $base/session.conf ]]; then
        # unix:dir= picks a fresh socket name, so one user can have several
        # sessions at once.
        _harness_session_conf "unix:dir=$base/runtime" >"$base/session.conf"
    fi
    # Everything the session leaves behind (bangerd, activated after the
    # client connected) dies with it instead of outliving the test.
    "$HARNESS_PYTHON" "$HARNESS_LIB_DIR/reaper" -- \
        setpriv --reuid="$user" --regid="$(id -g "$user")" --init-groups -- \
        env -u DBUS_SESSION_BUS_ADDRESS -C "$base/home" \
        "${_harness_user_env[@]}" \
        dbus-run-session --config-file="$base/session.conf" -- \
        "${_harness_argv[@]}"
}

# ---------------------------------------------------------------- polkit

# Asks polkitd, as root, whether a non-root subject may do the probe action
# with details generation=N. Only 00-harness-probe.rules says yes, and only
# for the generation it was written with, so a "yes" proves polkitd has read
# the rules dirs at least as they were when that file was written. (Root
# itself is always authorized, hence the explicit uid in the subject.)
_harness_polkit_probe() {
    local reply
    reply=$(gdbus call --system --timeout 5 \
        --dest org.freedesktop.PolicyKit1 \
        --object-path /org/freedesktop/PolicyKit1/Authority \
        --method org.freedesktop.PolicyKit1.Authority.CheckAuthorization \
        "('unix-process', {'pid': <uint32 $$>, 'start-time': <uint64 0>, 'uid': <int32 65534>})" \
        dev.banger.harness.probe "{'generation': '$1'}" 0 '' 2>&1) || {
        _harness_polkit_last_error=$reply
        return 1
    }
    [[ $reply == "((true, "* ]]
}

harness_polkit_sync() {
    [[ -n ${HARNESS_DIR:-} ]] || harness_die "harness_start first"
    _harness_polkit_generation=$((_harness_polkit_generation + 1))
    local gen=$_harness_polkit_generation
    local dir=$HARNESS_DIR/polkit/rules.d
    _harness_write_file "$dir/00-harness-probe.rules" <<EOF
// Written by tests/harness/harness.sh to detect that polkitd reloaded the
// rules; first in order, so no test rule sees the probe action.
polkit.addRule(function(action, subject) {
    if (action.id == "dev.banger.harness.probe") {
        return action.lookup("generation") == "$gen" ?
            polkit.Result.YES : polkit.Result.NO;
    }
});
EOF
    _harness_polkit_last_error=
    if ! harness_poll 10 _harness_polkit_probe "$gen"; then
        harness_die "polkitd did not load rules generation $gen within 10 s" \
            "${_harness_polkit_last_error:+($_harness_polkit_last_error)}"
    fi
}

harness_polkit_rule() {
    local name=${1%.rules} js=${2:-}
    [[ -n ${HARNESS_DIR:-} ]] || harness_die "harness_start first"
    [[ $name =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]] ||
        harness_die "bad polkit rule name: $1"
    local file=$HARNESS_DIR/polkit/rules.d/$name.rules
    if [[ -z $js ]]; then
        rm -f -- "$file"
    else
        printf '%s\n' "$js" | _harness_write_file "$file"
    fi
    harness_polkit_sync
}

# ---------------------------------------------------------------- start/stop

# Writes stdin to FILE atomically (polkitd and dbus-daemon watch their dirs
# and must never read half a file), mode 0644.
_harness_write_file() {
    local tmp
    tmp=$(mktemp "$(dirname -- "$1")/.tmp.XXXXXX")
    cat >"$tmp"
    chmod 0644 "$tmp"
    mv -f -- "$tmp" "$1"
}

# Quotes one word for an activation file's Exec= line.
_harness_exec_word() {
    [[ $1 != *[\'\"\\]* ]] || harness_die "cannot quote path for Exec=: $1"
    printf "'%s'" "$1"
}

_harness_session_conf() {
    cat <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<!-- Generated by tests/harness/harness.sh: Debian's session.conf, minus the
     standard service dirs and includes, plus banger's activation files. -->
<busconfig>
  <type>session</type>
  <keep_umask/>
  <listen>$1</listen>
  <auth>EXTERNAL</auth>
  <servicedir>$HARNESS_DIR/session-services</servicedir>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
  <limit name="service_start_timeout">120000</limit>
</busconfig>
EOF
}

_harness_system_conf() {
    cat <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<!-- Generated by tests/harness/harness.sh. Debian's system.conf policy,
     with these differences: runs as root without <user>, <fork> or a
     <servicehelper> (dbus-daemon then forks activated services itself,
     keeping its environment, so they find this bus); only our service dir;
     no <includedir>: only the bus policies under test are included. -->
<busconfig>
  <type>system</type>
  <listen>unix:path=$HARNESS_DIR/system_bus_socket</listen>
  <auth>EXTERNAL</auth>
  <servicedir>$HARNESS_DIR/system-services</servicedir>

  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus" />
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Properties"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Containers1"/>
    <deny send_destination="org.freedesktop.DBus"
          send_interface="org.freedesktop.DBus"
          send_member="UpdateActivationEnvironment"/>
    <deny send_destination="org.freedesktop.DBus"
          send_interface="org.freedesktop.DBus.Debug.Stats"/>
    <deny send_destination="org.freedesktop.DBus"
          send_interface="org.freedesktop.systemd1.Activator"/>
  </policy>
  <policy user="root">
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Monitoring"/>
  </policy>

  <include>/usr/share/dbus-1/system.d/org.freedesktop.PolicyKit1.conf</include>
  <include>$BANGER_SOURCE_DIR/data/dbus/dev.banger.Helper1.conf</include>
</busconfig>
EOF
}

# Starts dbus-daemon with CONFIG below a reaper and exports VAR=its address.
# (Not via $(...): the reaper's pid must be recorded in this shell.)
_harness_start_bus() {
    local name=$1 config=$2 var=$3 fifo=$HARNESS_DIR/.$1.address addr=
    local cleanup=()
    # The first bus's reaper removes $HARNESS_DIR if this shell is killed
    # before it could (SIGKILL, or meson's timeout escalation).
    ((${#_harness_reapers[@]})) || cleanup=(--orphan-cleanup "$HARNESS_DIR")
    mkfifo -m 0600 "$fifo"
    # Opening the FIFO blocks until both ends are open, and the writer is
    # opened by the forked shell before exec, so this cannot hang; read -t
    # bounds the wait for the daemon to print its address, and a daemon that
    # dies first closes the FIFO so read fails at once.
    "$HARNESS_PYTHON" "$HARNESS_LIB_DIR/reaper" "${cleanup[@]}" -- \
        dbus-daemon --nofork --nopidfile --config-file="$config" \
        --print-address=3 \
        3>"$fifo" </dev/null >>"$HARNESS_DIR/$name.log" 2>&1 &
    _harness_reapers+=("$!")
    if ! read -r -t 10 addr <"$fifo" || [[ -z $addr ]]; then
        _harness_show_log "$HARNESS_DIR/$name.log"
        harness_die "the private $name bus did not start"
    fi
    rm -f -- "$fifo"
    export "$var=$addr"
}

# Test users run bangerd and banger from the build dir. If the checkout is
# below a directory others cannot enter (/root, a mktemp -d), they run
# copies in $HARNESS_DIR/bin instead (the programs are self-contained
# executables), and HARNESS_BANGERD_EXE / HARNESS_BANGER_EXE say so.
_harness_share_programs() {
    if setpriv --reuid=65534 --regid=65534 --clear-groups -- \
        test -x "$BANGER_BUILD_DIR/src/client" 2>/dev/null; then
        return 0
    fi
    install -d -m 0755 "$HARNESS_DIR/bin"
    local exe
    for exe in HARNESS_BANGERD_EXE HARNESS_BANGER_EXE; do
        if [[ -x ${!exe} ]]; then
            install -m 0755 "${!exe}" "$HARNESS_DIR/bin/"
            printf -v "$exe" '%s' "$HARNESS_DIR/bin/${!exe##*/}"
        fi
    done
    harness_log "$BANGER_BUILD_DIR is closed to other users; they run copies in $HARNESS_DIR/bin"
}

harness_on_exit() {
    _harness_cleanups+=("$*")
}

_harness_on_signal() {
    # exit runs the EXIT trap, which tears down.
    trap - "$1"
    exit $((128 + $2))
}

harness_start() {
    harness_require_root
    harness_require_cmd dbus-daemon dbus-run-session gdbus setpriv unshare \
        mount "$HARNESS_PYTHON"
    [[ -x $HARNESS_POLKITD ]] ||
        harness_skip "needs polkitd at $HARNESS_POLKITD (package polkitd)"
    getent passwd polkitd >/dev/null ||
        harness_skip "needs the polkitd user (package polkitd creates it)"
    [[ -n ${HARNESS_DIR:-} ]] && harness_die "harness_start called twice"
    local policy=$BANGER_BUILD_DIR/data/dev.banger.helper.policy
    [[ -r $policy ]] ||
        harness_die "$policy missing: build first (meson compile -C ...)"

    # 0755: test users must reach the system bus socket and their own dirs.
    HARNESS_DIR=$(mktemp -d -t banger-harness.XXXXXXXX)
    chmod 0755 "$HARNESS_DIR"
    export HARNESS_DIR
    _harness_owner=$BASHPID
    trap harness_stop EXIT
    trap '_harness_on_signal INT 2' INT
    trap '_harness_on_signal TERM 15' TERM
    trap '_harness_on_signal HUP 1' HUP

    # polkitd only ever sees these three dirs (bind-mounted over the real
    # ones by polkitd-wrapper): banger's built actions plus the harness
    # probe, banger's shipped rules, and per-test rules.
    local pk=$HARNESS_DIR/polkit
    install -d -m 0755 "$pk" "$pk/actions" "$pk/rules.d" "$pk/vendor-rules.d"
    install -m 0644 "$policy" "$pk/actions/"
    install -m 0644 "$HARNESS_LIB_DIR/dev.banger.harness.policy" \
        "$pk/actions/"
    install -m 0644 "$BANGER_SOURCE_DIR/data/polkit/50-banger.rules" \
        "$pk/vendor-rules.d/"

    _harness_share_programs

    local verbose=
    [[ ${BANGER_HELPER_VERBOSE:-1} == 1 ]] && verbose=' --verbose'
    local helper_config=
    if [[ -n ${BANGER_HELPER_CONFIG:-} ]]; then
        helper_config=" --config=$(_harness_exec_word "$BANGER_HELPER_CONFIG")"
    fi
    local daemon_verbose=
    [[ ${BANGER_DAEMON_VERBOSE:-1} == 1 ]] && daemon_verbose=' --verbose'
    install -d -m 0755 "$HARNESS_DIR/system-services" \
        "$HARNESS_DIR/session-services"
    _harness_write_file "$HARNESS_DIR/system-services/dev.banger.Helper1.service" <<EOF
[D-BUS Service]
Name=dev.banger.Helper1
Exec=$(_harness_exec_word "$HARNESS_HELPER_EXE") --idle-timeout=${BANGER_HELPER_IDLE_TIMEOUT:-30}$verbose$helper_config
User=root
EOF
    _harness_write_file "$HARNESS_DIR/system-services/org.freedesktop.PolicyKit1.service" <<EOF
[D-BUS Service]
Name=org.freedesktop.PolicyKit1
Exec=$(_harness_exec_word "$HARNESS_LIB_DIR/polkitd-wrapper") $(_harness_exec_word "$pk")
User=root
EOF
    _harness_write_file "$HARNESS_DIR/session-services/dev.banger.Daemon1.service" <<EOF
[D-BUS Service]
Name=dev.banger.Daemon1
Exec=$(_harness_exec_word "$HARNESS_BANGERD_EXE")$daemon_verbose
EOF

    # Services inherit the environment of the bus that activates them, so
    # root's private dirs are exported before any bus starts, and nothing
    # may point at the developer's real session.
    _harness_user_setup root
    export "${_harness_user_env[@]}"
    unset DBUS_SESSION_BUS_ADDRESS DBUS_STARTER_ADDRESS DBUS_STARTER_BUS_TYPE
    export PATH=${HARNESS_BANGER_EXE%/*}:$PATH

    _harness_system_conf >"$HARNESS_DIR/system.conf"
    _harness_start_bus system "$HARNESS_DIR/system.conf" DBUS_SYSTEM_BUS_ADDRESS

    # Start polkitd now rather than on the helper's first check, so that a
    # broken polkit setup fails here with its own message; then make sure it
    # evaluates rules.
    if ! gdbus wait --system --activate org.freedesktop.PolicyKit1 \
        --timeout 10 org.freedesktop.PolicyKit1 >/dev/null 2>&1; then
        _harness_show_log "$HARNESS_DIR/system.log"
        harness_die "polkitd did not start on the private system bus"
    fi
    harness_polkit_sync

    _harness_session_conf "unix:path=$HARNESS_DIR/users/root/runtime/bus" \
        >"$HARNESS_DIR/session.conf"
    _harness_start_bus session "$HARNESS_DIR/session.conf" DBUS_SESSION_BUS_ADDRESS
}

# Shows LOG on stderr, each line prefixed with its name.
_harness_show_log() {
    [[ -s $1 ]] || return 0
    local name line
    name=$(basename -- "$1" .log)
    while IFS= read -r line; do
        printf '%s| %s\n' "$name" "$line" >&2
    done <"$1"
}

harness_stop() {
    local status=$?
    # Only the shell that started the harness tears it down (a subshell
    # that exits must not), and only once.
    [[ -n ${HARNESS_DIR:-} && $BASHPID == "$_harness_owner" ]] || return "$status"
    set +e
    trap - EXIT INT TERM HUP

    local i
    for ((i = ${#_harness_cleanups[@]} - 1; i >= 0; i--)); do
        eval "${_harness_cleanups[i]}" || harness_log "cleanup failed: ${_harness_cleanups[i]}"
    done
    _harness_cleanups=()

    # Newest first: the session bus (bangerd may still talk to the helper),
    # then the system bus. Each reaper stops its whole subtree and waits for
    # it; bash reaps the reaper.
    for ((i = ${#_harness_reapers[@]} - 1; i >= 0; i--)); do
        kill -TERM "${_harness_reapers[i]}" 2>/dev/null
        wait "${_harness_reapers[i]}" 2>/dev/null
    done
    _harness_reapers=()

    # An activated service's crash or leak does not fail any call of the
    # test by itself; its report is in the bus logs.
    local log reports=
    for log in "$HARNESS_DIR"/*.log; do
        [[ -e $log ]] || continue
        if grep -qE 'ERROR: (Address|Leak|Memory|Thread)Sanitizer|runtime error:' "$log"; then
            reports+=" $(basename -- "$log")"
        fi
    done
    if [[ -n $reports ]]; then
        harness_log "sanitizer reports in service logs:$reports"
        ((status == 0)) && status=1
    fi

    local show=${HARNESS_SHOW_LOGS:-on-failure}
    if [[ $show == always ]] || { [[ $show == on-failure ]] && ((status != 0)); }; then
        for log in "$HARNESS_DIR"/*.log; do
            [[ -e $log ]] && _harness_show_log "$log"
        done
    fi

    [[ $PWD == "$HARNESS_DIR"* ]] && cd /
    if [[ ${HARNESS_KEEP:-} == 1 ]]; then
        harness_log "kept $HARNESS_DIR"
    else
        rm -rf -- "$HARNESS_DIR"
    fi
    HARNESS_DIR=
    exit "$status"
}
