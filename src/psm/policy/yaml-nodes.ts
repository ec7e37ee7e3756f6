import { isMap, isScalar, isSeq, type LineCounter, type Node, type YAMLMap } from 'yaml';
import type { PolicyError, PolicyErrorCode, SourcePosition } from './types.js';

/**
 * Typed reads of YAML nodes with positions. Every read either returns the value or records one
 * coded error at the node's line and column, so a file's errors are all reported in one pass.
 */
export class NodeReader {
  readonly errors: PolicyError[] = [];
  readonly positions = new Map<string, SourcePosition>();

  constructor(
    private readonly file: string,
    private readonly lines: LineCounter,
  ) {}

  position(node: Node | null | undefined): SourcePosition {
    const offset = node?.range?.[0] ?? 0;
    const { line, col } = this.lines.linePos(offset);
    return { line, column: col };
  }

  fail(code: PolicyErrorCode, message: string, node: Node | null | undefined): void {
    this.errors.push({ code, message, file: this.file, ...this.position(node) });
  }

  remember(path: string, node: Node | null | undefined): void {
    this.positions.set(path, this.position(node));
  }

  string(node: Node | null | undefined, label: string): string | undefined {
    if (isScalar(node) && typeof node.value === 'string') return node.value;
    this.fail('POLICY_WRONG_TYPE', `${label} must be a string`, node);
    return undefined;
  }

  boolean(node: Node | null | undefined, label: string): boolean | undefined {
    if (isScalar(node) && typeof node.value === 'boolean') return node.value;
    this.fail('POLICY_WRONG_TYPE', `${label} must be true or false`, node);
    return undefined;
  }

  /** A list of strings; returns the items with their nodes, or undefined when it is not a list. */
  stringList(
    node: Node | null | undefined,
    label: string,
    max: number,
  ): { value: string; node: Node }[] | undefined {
    if (!isSeq(node)) {
      this.fail('POLICY_WRONG_TYPE', `${label} must be a list`, node);
      return undefined;
    }
    if (node.items.length > max) {
      this.fail('POLICY_TOO_MANY', `${label} has more than ${max} entries`, node);
      return undefined;
    }
    const out: { value: string; node: Node }[] = [];
    node.items.forEach((item, index) => {
      const value = this.string(item as Node, `${label}[${index}]`);
      if (value !== undefined) out.push({ value, node: item as Node });
    });
    return out;
  }

  /** The entries of a mapping whose keys are all plain strings (other keys are errors). */
  entries(
    node: Node | null | undefined,
    label: string,
  ): Map<string, { key: Node; value: Node | null }> | undefined {
    if (!isMap(node)) {
      this.fail(
        label === 'the file' ? 'POLICY_NOT_MAP' : 'POLICY_WRONG_TYPE',
        `${label} must be a mapping`,
        node,
      );
      return undefined;
    }
    const out = new Map<string, { key: Node; value: Node | null }>();
    for (const pair of (node as YAMLMap<Node, Node | null>).items) {
      const key = pair.key;
      if (!isScalar(key) || typeof key.value !== 'string') {
        this.fail('POLICY_WRONG_TYPE', `keys of ${label} must be plain strings`, key);
        continue;
      }
      out.set(key.value, { key, value: pair.value ?? null });
    }
    return out;
  }
}
