# Sourced by scripts that run in steps (test.sh, fuzz.sh): each step prints its name, then how long
# it took, and the script its total and exit status when it ends; CI's budget is read off these
# lines.

step_name=""
step_started=$SECONDS
end_step() {
    [[ -n "$step_name" ]] && printf '==> %s: %ds\n' "$step_name" "$((SECONDS - step_started))"
    step_name=""
}
step() {
    end_step
    step_name="$*"
    step_started=$SECONDS
    printf '\n==> %s\n' "$*"
}
# shellcheck disable=SC2064 # the script's name is fixed when the trap is set
trap "status=\$?; end_step; printf '\n==> %s: %ds in all, exit status %d\n' '${0#"$PWD"/}' \"\$SECONDS\" \"\$status\"" EXIT
