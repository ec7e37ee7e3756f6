/**
 * The gate's check of POP-C++'s object start-up command line, for policies with
 * `command.arguments: popc`. POP-C++ 2.5's client (paroc_interface::LocalExec) starts an object as
 *   popcobjrun CODEFILE -callback=socket://HOST:PORT -object=NAME -appservice=socket://HOST:PORT
 *     -jobservice=HOST:PORT [-core=N] [-socket_port=PORT] [-runlocal] [-cwd=/DIR]
 * Every word after the code file must be one of these options, each at most once, with a value of
 * its own strict shape; anything else is refused. The lines are POSIX sh made only of constants.
 */

/** The options the gate allows after the code file, in the order POP-C++'s client sends them. */
export const POPC_OPTIONS = [
  '-callback',
  '-object',
  '-appservice',
  '-jobservice',
  '-core',
  '-socket_port',
  '-runlocal',
  '-cwd',
] as const;

/** Shell function definitions the argument check uses (placed before psm_gate_main). */
export function popcArgumentHelpers(): string[] {
  return [
    '# HOST:PORT with HOST made of letters, digits, "." and "-", PORT 1 to 5 digits.',
    'psm_host_port() {',
    '\tpsm_hp_host=${1%:*}',
    '\tpsm_hp_port=${1##*:}',
    '\tcase $psm_hp_host in',
    "\t'' | -* | *[!A-Za-z0-9.-]*) return 1 ;;",
    '\tesac',
    '\tpsm_digits "$psm_hp_port"',
    '}',
    '',
    '# 1 to 5 decimal digits.',
    'psm_digits() {',
    '\tcase $1 in',
    "\t'' | *[!0-9]* | ??????*) return 1 ;;",
    '\tesac',
    '\treturn 0',
    '}',
    '',
    "# One word after the code file: an option of POP-C++'s object start-up, once, well formed.",
    'psm_popc_word() {',
    '\tcase $1 in',
    '\t-callback=socket://*) psm_key=callback psm_value=${1#-callback=socket://} psm_kind=hostport ;;',
    '\t-appservice=socket://*) psm_key=appservice psm_value=${1#-appservice=socket://} psm_kind=hostport ;;',
    '\t-jobservice=socket://*) psm_key=jobservice psm_value=${1#-jobservice=socket://} psm_kind=hostport ;;',
    '\t-jobservice=*) psm_key=jobservice psm_value=${1#-jobservice=} psm_kind=hostport ;;',
    '\t-object=*) psm_key=object psm_value=${1#-object=} psm_kind=name ;;',
    '\t-core=*) psm_key=core psm_value=${1#-core=} psm_kind=digits ;;',
    '\t-socket_port=*) psm_key=socket_port psm_value=${1#-socket_port=} psm_kind=digits ;;',
    '\t-runlocal) psm_key=runlocal psm_value= psm_kind=flag ;;',
    '\t-cwd=/*) psm_key=cwd psm_value=${1#-cwd=} psm_kind=path ;;',
    '\t*) psm_refuse "not an option of POP-C++\'s object start-up: $1" ;;',
    '\tesac',
    '\tcase $psm_seen in',
    '\t*" $psm_key "*) psm_refuse "option given twice: -$psm_key" ;;',
    '\tesac',
    '\tpsm_seen="$psm_seen$psm_key "',
    '\tcase $psm_kind in',
    '\thostport) psm_host_port "$psm_value" || psm_refuse "not socket://HOST:PORT: $1" ;;',
    '\tdigits) psm_digits "$psm_value" || psm_refuse "not a number: $1" ;;',
    '\tname) case $psm_value in \'\' | *[!A-Za-z0-9_]*) psm_refuse "not a class name: $1" ;; esac ;;',
    '\tpath) case $psm_value in */.* | *//*) psm_refuse "not a canonical directory: $1" ;; esac ;;',
    '\tesac',
    '}',
    '',
  ];
}

/** The lines inside psm_gate_main that check every word after the code file ($1). */
export function popcArgumentCheck(): string[] {
  return [
    "\tpsm_seen=' '",
    '\tpsm_code=$1',
    '\tshift',
    '\tfor psm_word in "$@"; do',
    '\t\tpsm_popc_word "$psm_word"',
    '\tdone',
    '\tset -- "$psm_code" "$@"',
  ];
}
