/**
 * A /proc scanner as its own process (test/helpers/vault-proc-scanner.mjs): it reads every
 * process's argv and environment, over and over, for needles handed to it over stdin (each also
 * as hex and base64 when given as bytes), until `finish`.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const SCANNER = join(import.meta.dirname, '..', 'helpers', 'vault-proc-scanner.mjs');

export interface ScanReport {
  readonly hits: string[];
  readonly psmPids: number;
  readonly rounds: number;
}

/** Starts the scanner process; `add` hands it needles over stdin, `finish` stops it. */
export function startScanner(): {
  add(values: readonly (string | Uint8Array)[]): void;
  finish(): Promise<ScanReport>;
} {
  const child = spawn(process.execPath, [SCANNER], { stdio: ['pipe', 'pipe', 'inherit'] });
  const out: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => out.push(c));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return {
    add(values) {
      for (const value of values) {
        const bytes = Buffer.from(value);
        const forms =
          typeof value === 'string'
            ? [bytes]
            : [bytes, Buffer.from(bytes.toString('hex')), Buffer.from(bytes.toString('base64'))];
        for (const form of forms) child.stdin.write(`${form.toString('hex')}\n`);
      }
    },
    async finish() {
      child.stdin.end();
      await exited;
      return JSON.parse(Buffer.concat(out).toString('utf8')) as ScanReport;
    },
  };
}
