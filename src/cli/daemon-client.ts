import type { Command } from 'commander';
import type { ErrorCategory } from '../common/error-category.js';
import { CliFailure } from './failure.js';
import { addLocationOption } from './vault-options.js';

/**
 * What the daemon's client commands share (`psm reserve|release|end|apps|workers|pool`): where the
 * socket is, one call, and a refusal of the daemon turned into a CLI failure. The daemon answers
 * with the status of the code's category; the CLI reads the category back from the status, so its
 * exit code is the one the same code has everywhere else in psm.
 */
export interface ClientFlags {
  location?: string;
  socket?: string;
  json?: boolean;
}

export function clientCommand(command: Command): Command {
  return addLocationOption(command)
    .option('--socket <path>', "the daemon's socket (default LOCATION/var/psm/psm.sock)")
    .option('--json', 'print the answer as JSON', false);
}

const CATEGORY_OF_STATUS: Readonly<Record<number, ErrorCategory>> = {
  400: 'usage',
  403: 'auth',
  404: 'unreadable',
  409: 'refused',
  422: 'input',
  502: 'outside',
};

/** One request to the daemon; returns its JSON answer or throws the failure it stands for. */
export async function askDaemon(
  flags: ClientFlags,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<unknown> {
  const { locationFrom } = await import('../vault/layout.js');
  const { orFail } = await import('./vault-options.js');
  const { daemonPaths } = await import('../jobmgr/daemon/paths.js');
  const { callDaemon } = await import('../jobmgr/client.js');
  const { daemonErrorCategory } = await import('../jobmgr/daemon/errors.js');
  const socket = flags.socket ?? daemonPaths(orFail(locationFrom(flags.location))).socket;
  const answer = await callDaemon(socket, method, path, body);
  if (!answer.ok)
    throw new CliFailure(answer.error.code, answer.error.message, daemonErrorCategory(answer.error.code));
  const { status, body: value } = answer.value;
  if (status === 200) return value;
  const error = (value as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  const code =
    typeof error?.code === 'string' && /^[A-Z_]{1,64}$/.test(error.code) ? error.code : 'DAEMON_PROTOCOL';
  const message = typeof error?.message === 'string' ? error.message : `the daemon answered ${status}`;
  throw new CliFailure(code, message, CATEGORY_OF_STATUS[status] ?? (status >= 500 ? 'bug' : 'outside'));
}
