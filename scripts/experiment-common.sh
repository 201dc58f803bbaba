# Shared by the experiment scripts (sweep.sh, ablate-estimation.sh, segments.sh); sourced, not run.
# Usage of a script: scripts/<script>.sh [CONFIG] [key=value ...]
#   CONFIG defaults to configs/sd15.conf. The run folder defaults to runs/<script>-<config name>
#   (an out=... override wins); the main job's folder runs/<config name> is only read: its base,
#   annotators and pairs are copied when they were made with the same settings (reuse=).
#   DDE_TRAIN=PATH runs that binary instead of building this checkout.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
script_name="$(basename "$0" .sh)"
config="configs/sd15.conf"
if [ $# -gt 0 ] && [[ "$1" != *=* ]]; then config="$1"; shift; fi
[ -f "$config" ] || { echo "$script_name: config file '$config' not found" >&2; exit 64; }
config_name="$(basename "$config" .conf)"
out="runs/$script_name-$config_name"
overrides=()
for arg in "$@"; do
    case "$arg" in
        out=*) out="${arg#out=}" ;;
        *=*) overrides+=("$arg") ;;
        *) echo "$script_name: expected key=value overrides after the config, got '$arg'" >&2; exit 64 ;;
    esac
done
main_out="runs/$config_name"
# reuse= only when the main job's folder exists (dde-train refuses a reuse= folder that does not).
reuse=()
[ -d "$main_out" ] && reuse=("reuse=$main_out")
# DDE_TRAIN=/path/to/dde-train uses that binary (e.g. a copy, so rebuilding does not touch a
# long run); otherwise the set-up builds this checkout in release.
if [ -n "${DDE_TRAIN:-}" ]; then
    dde_train="$DDE_TRAIN"
else
    "$root/scripts/setup"
    dde_train="$root/.build/release/dde-train"
fi
echo "$script_name: config $config, run folder $out (stages reused from $main_out when they match)"

# Runs the comparison in the script's folder with the script's keys, then the user's overrides.
run_compare() {
    "$dde_train" compare --config "$config" out="$out" ${reuse[@]+"${reuse[@]}"} "$@" ${overrides[@]+"${overrides[@]}"}
}
