#!/bin/bash
# tests/vm/exec.sh: commands in a VM through VM1.Exec, 'banger vm exec' and
# 'banger vm run'. The fake Firecracker serves a real guest agent on its
# vsock socket (FAKE_FC_AGENT), so the commands run on this host: output,
# exit codes, signals, stdin, 5 MB of data, env and cwd, Ctrl-C forwarded,
# the command killed when its caller dies; hostile options are refused;
# 'vm run --rm' leaves no VM, also when the start fails.
set -euo pipefail
source "$(dirname -- "$0")/vm-fixture.sh"

# The host build of the guest agent behind the fake's vsock socket; set
# through fc.env so it holds whether or not the fixture exports it.
AGENT=${FAKE_FC_AGENT:-$BANGER_BUILD_DIR/agent/banger-agent-test}
[[ -x $AGENT ]] || harness_die "missing the test agent $AGENT (build the project first)"
fc_env() { vm_fc_env "FAKE_FC_AGENT=$AGENT" "$@"; }
fc_env

VM_PATH=/dev/banger/Daemon1/vm/web
SIGNALED=$HARNESS_DIR/signaled

# The raw call with our stdin, stdout and stderr passed (exec-call.c):
# exec_call OPTIONS [ARG...]; "EXIT SIGNAL" or the D-Bus error on stderr.
EXEC_CALL=$BANGER_BUILD_DIR/tests/vm/exec-call
[[ -x $EXEC_CALL ]] || harness_die "missing $EXEC_CALL (build the project first)"
exec_call() { "$EXEC_CALL" web "$@"; }
signal_call() {
    gdbus call --session --dest dev.banger.Daemon1 --object-path "$VM_PATH" \
        --method dev.banger.VM1.SignalExec "$@"
}

run_lines() { banger vm list | grep -c '^run-' || true; }

# pids of the commands whose command line holds $1 (a unique marker); the
# client that started them (banger, exec-call) holds it too and is left out.
marker_pids() {
    local pid comm
    for pid in $(pgrep -f -- "$1"); do
        comm=$(cat "/proc/$pid/comm" 2>/dev/null) || continue
        [[ $comm == banger || $comm == exec-call ]] || printf '%s\n' "$pid"
    done
}
marker_gone() { [[ -z $(marker_pids "$1") ]]; }
marker_running() { [[ -n $(marker_pids "$1") ]]; }
# A command that must be set up before it is signalled prints "ready" into
# $HARNESS_DIR/MARK.out once it is.
sleeper_ready() { grep -qx ready "$HARNESS_DIR/$1.out"; }
# kill_caller PID MARK DESCRIPTION: SIGKILLs the client PID, then checks
# that the commands holding MARK go with it.
kill_caller() {
    kill -KILL "$1"
    wait "$1" 2>/dev/null || true
    harness_poll 10 marker_gone "$2" && tap_ok "$3" || tap_fail "$3" "$(marker_pids "$2")"
}

tap_check "create web" banger vm create web

# --- refused before anything runs ------------------------------------------------
INVALID=dev.banger.Error.InvalidArgument
tap_expect_fail_with $INVALID "an empty argv is refused" exec_call '{}'
tap_expect_fail_with $INVALID "an empty argv[0] is refused" exec_call '{}' ''
tap_expect_fail_with $INVALID "an unknown option is refused" exec_call "{'Bogus': <'x'>}" true
tap_expect_fail_with $INVALID "an option of the wrong type is refused" exec_call "{'Cwd': <uint32 1>}" true
tap_expect_fail_with $INVALID "an Env entry without '=' is refused" exec_call "{'Env': <['NOEQUALS']>}" true
tap_expect_fail_with $INVALID "an Env name with a bad character is refused" exec_call "{'Env': <['A-B=1']>}" true
tap_expect_fail_with $INVALID "an Env name starting with a digit is refused" exec_call "{'Env': <['1A=1']>}" true
tap_expect_fail_with $INVALID "a relative Cwd is refused" exec_call "{'Cwd': <'tmp'>}" true
tap_expect_fail_with $INVALID "a bad Id is refused" exec_call "{'Id': <'a/b'>}" true
tap_expect_fail_with $INVALID "an Id of 65 characters is refused" exec_call "{'Id': <'$(printf 'a%.0s' {1..65})'>}" true
tap_expect_fail_with $INVALID "5000 arguments are refused" exec_call '{}' $(seq 5000)
tap_expect_fail_with $INVALID "100 KB of arguments are refused" exec_call '{}' true "$(head -c 100000 /dev/zero | tr '\0' x)"
tap_expect_fail_with "not NAME=VALUE" "vm exec --env without '=' is refused" \
    banger vm exec web --env JUSTNAME -- true
tap_expect_fail_with "not an absolute path" "vm exec --cwd relative is refused" \
    banger vm exec web --cwd tmp -- true
tap_expect_fail_with "No command given" "vm exec without a command is a usage error" \
    banger vm exec web
((TAP_STATUS == 2)) && tap_ok "usage errors exit 2" || tap_fail "usage errors exit 2" "$TAP_STATUS"
tap_expect_fail_with $INVALID "SignalExec refuses a signal outside the list" signal_call x SEGV
tap_expect_fail_with dev.banger.Error.NotFound "SignalExec of an unknown Id is NotFound" signal_call nothing TERM
tap_expect_fail_with "is not running" "exec on a stopped VM fails" banger vm exec web -- true
[[ $TAP_ERR == *"banger vm start web"* ]] && tap_ok "and says how to start it" ||
    tap_fail "and says how to start it" "$TAP_ERR"
tap_expect_fail_with dev.banger.Error.NotRunning "Exec on a stopped VM is NotRunning" exec_call '{}' true

# --- vm run --rm when the start fails -----------------------------------------------
# The console also gets what a hostile guest might print: a terminal
# escape sequence (retitle the window) and a carriage return.
fc_env 'FAKE_FC_FAIL_AT="PUT /actions"' "FAKE_FC_CONSOLE=\$'guest says \\e]0;owned\\a\\rhi'"
tap_run banger vm run --rm -- echo never
tap_is "$TAP_STATUS" 1 "vm run --rm with a failing start exits 1"
tap_is "$TAP_OUT" "" "and prints nothing on stdout"
# The VM and its console go: the error shows the console's end first.
[[ $TAP_ERR == *"console log:"*"API server started"*"guest says ?]0;owned?hi"* ]] &&
    tap_ok "and shows the end of its console log" ||
    tap_fail "and shows the end of its console log" "$TAP_ERR"
[[ $TAP_ERR != *$'\e'* && $TAP_ERR != *$'\a'* && $TAP_ERR != *$'\r'* ]] &&
    tap_ok "without the guest's control characters" ||
    tap_fail "without the guest's control characters" "$(printf '%q' "$TAP_ERR")"
tap_is "$(run_lines)" 0 "and leaves no VM behind"
fc_env
vm_expect_clean "after a failed vm run"

# --- a running VM -------------------------------------------------------------------
tap_check "start web" banger vm start web

tap_run banger vm exec web -- echo hi
tap_is "$TAP_STATUS:$TAP_OUT" "0:hi" "vm exec echo hi prints hi"
tap_run banger vm exec web -- sh -c 'exit 7'
tap_is "$TAP_STATUS" 7 "the command's exit code is banger's"
tap_run banger vm exec web -- sh -c 'kill -9 $$'
tap_is "$TAP_STATUS" 137 "killed by SIGKILL: 128 + 9"
tap_run banger vm exec web -- sh -c 'echo out; echo err >&2'
tap_is "$TAP_OUT|$TAP_ERR" "out|err" "stdout and stderr stay apart"
tap_is "$(printf abc | banger vm exec web -- cat)" abc "stdin reaches the command"
tap_run banger vm exec web -- no-such-command-d41d8cd9
tap_is "$TAP_STATUS" 127 "an unknown command exits 127"
[[ $TAP_ERR == *no-such-command-d41d8cd9* ]] && tap_ok "and says why on stderr" ||
    tap_fail "and says why on stderr" "$TAP_ERR"

head -c 5000000 /dev/urandom >"$HARNESS_DIR/big"
want=$(sha256sum <"$HARNESS_DIR/big")
tap_is "$(banger vm exec web -- cat "$HARNESS_DIR/big" | sha256sum)" "$want" "5 MB of output arrive intact"
tap_is "$(banger vm exec web -- cat <"$HARNESS_DIR/big" | sha256sum)" "$want" "5 MB through stdin and back arrive intact"

tap_run banger vm exec web -- sh -c 'printf "%s|%s|%s|%s" "$PATH" "$HOME" "${TERM-unset}" "$PWD"'
tap_is "$TAP_OUT" "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin|/root|unset|/root" \
    "the default environment and directory"
tap_run banger vm exec web --env FOO=bar --env HOME=/tmp -e 'X=a b' --cwd /tmp -- \
    sh -c 'printf "%s|%s|%s|%s" "$FOO" "$HOME" "$X" "$PWD"'
tap_is "$TAP_OUT" "bar|/tmp|a b|/tmp" "--env adds and replaces variables, --cwd sets the directory"
tap_run banger vm exec web --cwd /nonexistent-dir -- true
((TAP_STATUS == 126 || TAP_STATUS == 127)) && tap_ok "a missing directory fails like a shell (126/127)" ||
    tap_fail "a missing directory fails like a shell" "$(tap_show_run vm exec --cwd /nonexistent-dir)"

# The raw call.
tap_run exec_call "{'Env': <['A=1']>, 'Cwd': <'/tmp'>, 'Id': <'raw-1'>}" sh -c 'echo "raw $A $PWD"; exit 5'
tap_is "$TAP_STATUS|$TAP_OUT|$TAP_ERR" "0|raw 1 /tmp|5 0" "the raw Exec writes to the passed stdout and returns the exit code"
tap_run exec_call '{}' sh -c 'kill -TERM $$'
tap_is "$TAP_ERR" "-1 15" "a signal death is exit_code -1 and the signal"

# Ctrl-C: the first SIGINT goes to the command. The command restores the
# default action, as a background job of this shell starts with it ignored,
# and says "ready" once it has: a SIGINT before that would meet Python's
# own handler (exit 1).
mark=exec-sigint-$$-$RANDOM
sleeper=(/usr/bin/python3 -c 'import signal, sys, time; signal.signal(signal.SIGINT, signal.SIG_DFL); print("ready", flush=True); time.sleep(30)')
banger vm exec web -- "${sleeper[@]}" "$mark" >"$HARNESS_DIR/$mark.out" 2>&1 &
client=$!
harness_poll 10 sleeper_ready "$mark" || true
kill -INT "$client"
status=0
timeout 10 tail --pid="$client" -f /dev/null || true
wait "$client" || status=$?
tap_is "$status" 130 "Ctrl-C reaches the command, banger exits 130"
harness_poll 5 marker_gone "$mark" && tap_ok "no command is left after Ctrl-C" ||
    tap_fail "no command is left after Ctrl-C" "$(marker_pids "$mark")"

mark=exec-term-$$-$RANDOM
banger vm exec web -- sh -c 'trap "kill \$!; echo got-term >'"$SIGNALED"'; exit 3" TERM; echo ready; sleep 30 & wait' "$mark" >"$HARNESS_DIR/$mark.out" 2>&1 &
client=$!
harness_poll 10 sleeper_ready "$mark" || true
kill -TERM "$client"
status=0
wait "$client" || status=$?
tap_is "$status:$(cat "$SIGNALED" 2>/dev/null)" "3:got-term" "SIGTERM is forwarded to the command"
kill $(marker_pids "$mark") 2>/dev/null || true

# The caller dies: the command goes with it.
mark=exec-kill-$$-$RANDOM
banger vm exec web -- /usr/bin/python3 -c 'import time; time.sleep(60)' "$mark" >/dev/null 2>&1 &
client=$!
harness_poll 10 marker_running "$mark" && tap_ok "the command runs" || tap_fail "the command runs"
kill_caller "$client" "$mark" "the command is killed when its caller dies"

# SignalExec reaches only the caller's own Execs.
mark=exec-other-$$-$RANDOM
"$EXEC_CALL" web "{'Id': <'shared-1'>}" /usr/bin/python3 -c 'import time; time.sleep(60)' "$mark" >/dev/null 2>&1 &
client=$!
harness_poll 10 marker_running "$mark" || true
tap_expect_fail_with dev.banger.Error.NotFound "another caller cannot signal an Exec by its Id" \
    signal_call shared-1 KILL
sleep 0.3
marker_running "$mark" && tap_ok "and the command still runs" || tap_fail "and the command still runs"
kill_caller "$client" "$mark" "the raw caller's death kills its command too"

# bangerd watches each caller once, across its calls: a caller that ran a
# command before, and one with two running, still take them along.
mark=exec-again-$$-$RANDOM
EXEC_CALL_FIRST=1 "$EXEC_CALL" web "{}" /usr/bin/python3 -c 'import time; time.sleep(60)' "$mark" >/dev/null 2>&1 &
client=$!
harness_poll 10 marker_running "$mark" && tap_ok "a caller runs a command after an earlier one ended" ||
    tap_fail "a caller runs a command after an earlier one ended"
kill_caller "$client" "$mark" "its death kills that command"
mark=exec-twice-$$-$RANDOM
EXEC_CALL_TWICE=1 "$EXEC_CALL" web "{}" /usr/bin/python3 -c 'import time; time.sleep(60)' "$mark" >/dev/null 2>&1 &
client=$!
harness_poll 10 eval '(( $(marker_pids "$mark" | wc -l) == 2 ))' && tap_ok "one caller runs two commands at once" ||
    tap_fail "one caller runs two commands at once" "$(marker_pids "$mark")"
kill_caller "$client" "$mark" "and its death kills both"

# Several at once on one VM: four 1 s sleeps take well under 4 s.
pids=()
began=$(_harness_now_us)
for i in 1 2 3 4; do
    banger vm exec web -- sh -c "sleep 1; echo \$0" "$i" >"$HARNESS_DIR/par.$i" &
    pids+=($!)
done
wait "${pids[@]}"
took=$((($(_harness_now_us) - began) / 1000))
tap_is "$(cat "$HARNESS_DIR"/par.{1,2,3,4} | tr '\n' ' ')" "1 2 3 4 " "four execs all complete"
((took < 3500)) && tap_ok "and run side by side (${took} ms)" || tap_fail "and run side by side" "took $took ms"

# --- vm run -------------------------------------------------------------------------
tap_run banger vm run --rm -- echo ok
tap_is "$TAP_STATUS:$TAP_OUT" "0:ok" "vm run --rm -- echo ok prints only ok"
tap_is "$(run_lines)" 0 "and leaves no VM"
tap_run banger vm run --rm -- sh -c 'exit 3'
tap_is "$TAP_STATUS" 3 "vm run exits with the command's code"
tap_is "$(run_lines)" 0 "and leaves no VM"
tap_run banger vm run --rm --timings --name timed -- true
tap_is "$TAP_STATUS:$TAP_OUT" "0:" "vm run --timings keeps stdout clean"
missing=
for phase in "host setup" "vmm start" "boot to agent" "command" "teardown" "total"; do
    [[ $TAP_ERR =~ (^|$'\n')"  $phase "\ +[0-9]+\.[0-9]{3}\ s ]] || missing+="[$phase] "
done
[[ -z $missing ]] && tap_ok "--timings prints every phase" || tap_fail "--timings prints every phase" "missing $missing" "$TAP_ERR"
tap_diag "$TAP_ERR"

# Ctrl-C during the command of 'vm run --rm': forwarded, then the VM goes.
mark=run-sigint-$$-$RANDOM
banger vm run --rm -- "${sleeper[@]}" "$mark" >"$HARNESS_DIR/$mark.out" 2>&1 &
client=$!
harness_poll 20 sleeper_ready "$mark" || true
kill -INT "$client"
status=0
wait "$client" || status=$?
tap_is "$status" 130 "vm run --rm: Ctrl-C reaches the command, exit 130"
tap_is "$(run_lines)" 0 "and the VM is deleted"
marker_gone "$mark" && tap_ok "and no command is left" || tap_fail "and no command is left" "$(marker_pids "$mark")"

# Ctrl-C during the start (the agent answers late): the start is cancelled,
# the VM deleted, the command never runs.
fc_env FAKE_FC_AGENT_DELAY_MS=3000
run_starting() { banger vm list | grep -q '^run-.*starting'; }
banger vm run --rm -- touch "$HARNESS_DIR/ran" >/dev/null 2>&1 &
client=$!
harness_poll 20 run_starting || true
sleep 0.3
kill -INT "$client"
status=0
wait "$client" || status=$?
tap_is "$status" 130 "vm run --rm: Ctrl-C during the start exits 130"
tap_is "$(run_lines)" 0 "and the VM is deleted"
[[ -e $HARNESS_DIR/ran ]] && tap_fail "and the command did not run" || tap_ok "and the command did not run"
fc_env

tap_run banger vm run --name kept -- true
tap_is "$TAP_STATUS:$(vm_state kept)" "0:running" "without --rm the VM stays"
tap_check "delete kept" banger vm delete --force kept
tap_is "$(run_lines)" 0 "no run- VM is left"

# --- the VM goes away -------------------------------------------------------------
mark=exec-stopped-$$-$RANDOM
banger vm exec web -- /usr/bin/python3 -c 'import time; time.sleep(30)' "$mark" >/dev/null 2>"$HARNESS_DIR/stopped.err" &
client=$!
harness_poll 10 marker_running "$mark" || tap_fail "the command runs" "$(cat "$HARNESS_DIR/stopped.err")"
tap_check "stop web during an exec" banger vm stop web --force
status=0
wait "$client" || status=$?
tap_is "$status" 1 "the exec fails when the VM stops"
grep -q "stopped or lost its guest agent while the command ran" "$HARNESS_DIR/stopped.err" &&
    tap_ok "and says the VM stopped" || tap_fail "and says the VM stopped" "$(cat "$HARNESS_DIR/stopped.err")"
tap_expect_fail_with dev.banger.Error.NotRunning "Exec on the stopped VM is NotRunning" exec_call '{}' true

tap_check "delete web" banger vm delete web
vm_expect_clean "at the end"
tap_done
