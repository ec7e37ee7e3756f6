import type { OpOptions } from '../../guest-ops/guest-ops.js';
import type { RolePolicies } from '../key-exchange/index.js';

/** What every check reads besides the worker: psm's location (records, pins), the policies, the clock. */
export interface AuditContext {
  readonly location: string;
  readonly policies: RolePolicies;
  readonly gateDir?: string;
  readonly now: Date;
  readonly ops: OpOptions;
}
