import { guestOpsError, type GuestOpsError, type GuestOpsErrorCode } from '../errors.js';
import { child, textOf, typeOf, type XmlNode } from './xml.js';

/**
 * vSphere faults (vim.fault.*, vmodl.fault.*) mapped onto psm's guest-ops codes, so the pool
 * and the CLI never branch on the hypervisor. Only the fault's type name and a cleaned, short
 * fault string reach a message, never the raw reply.
 */
export interface SoapFault {
  /** The fault's type (InvalidLogin, InvalidPowerState, NotFound, ...), or 'unknown'. */
  readonly type: string;
  readonly text: string;
  /** The privilege a NoPermission fault names. */
  readonly privilege?: string;
}

const MAX_FAULT_TEXT = 160;

/** The fault inside a SOAP Fault element, or a task's LocalizedMethodFault (`info.error`). */
export function readFault(node: XmlNode | undefined): SoapFault {
  const detail = child(node, 'detail');
  const first = detail === undefined ? child(node, 'fault') : [...detail.children.values()][0]?.[0];
  const named = detail === undefined ? undefined : [...detail.children.keys()][0]?.replace(/Fault$/, '');
  const type = typeOf(first) ?? named ?? 'unknown';
  const text = textOf(node, 'faultstring') ?? textOf(node, 'localizedMessage') ?? '';
  const privilege = textOf(first, 'privilegeId');
  return {
    type: /^[A-Za-z0-9_.]{1,80}$/.test(type) ? type : 'unknown',
    text,
    ...(privilege ? { privilege } : {}),
  };
}

/** A fault string fit for a message: printable, short, and dropped if it quotes a secret. */
export function cleanFaultText(text: string, secrets: readonly string[]): string {
  if (secrets.some((s) => s.length > 0 && text.includes(s))) return '';
  // eslint-disable-next-line no-control-regex -- removing control characters is the point
  const printable = text.replace(/[\x00-\x1f\x7f-\x9f\u2028\u2029]/g, ' ').trim();
  return printable.length > MAX_FAULT_TEXT ? `${printable.slice(0, MAX_FAULT_TEXT)}...` : printable;
}

/** What kind of operation failed: snapshot faults are SNAPSHOT_FAILED whatever their type. */
export type FaultContext = 'call' | 'snapshot';

function codeFor(type: string, context: FaultContext): GuestOpsErrorCode {
  if (context === 'snapshot') return 'SNAPSHOT_FAILED';
  switch (type) {
    case 'InvalidLogin':
    case 'NotAuthenticated':
      return 'HYPERVISOR_AUTH';
    case 'DuplicateName':
    case 'AlreadyExists':
      return 'WORKER_EXISTS';
    case 'ManagedObjectNotFound':
    case 'NotFound':
      return 'WORKER_NOT_FOUND';
    case 'InvalidPowerState':
    case 'ToolsUnavailable':
      return 'WORKER_NOT_RUNNING';
    case 'GuestOperationsUnavailable':
    case 'GuestComponentsOutOfDate':
      return 'AGENT_UNAVAILABLE';
    case 'InvalidGuestLogin':
    case 'GuestPermissionDenied':
    case 'FileNotFound':
    case 'GuestProcessNotFound':
      return 'AGENT_ERROR';
    case 'RequestCanceled':
      return 'ABORTED';
    case 'InvalidArgument':
    case 'InvalidName':
      return 'INVALID_ARGUMENT';
    default:
      return 'HYPERVISOR_FAILED';
  }
}

export function faultError(
  fault: SoapFault,
  what: string,
  context: FaultContext,
  secrets: readonly string[],
): GuestOpsError {
  const text = cleanFaultText(fault.text, secrets);
  const privilege =
    fault.privilege === undefined ? '' : `, missing privilege ${cleanFaultText(fault.privilege, secrets)}`;
  return guestOpsError(
    codeFor(fault.type, context),
    `${what}: the hypervisor answered ${fault.type}${privilege}${text === '' ? '' : ` (${text})`}`,
  );
}
