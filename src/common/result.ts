/**
 * Results for untrusted input: parsers return one of these and never throw on bad input.
 * Throwing is kept for bugs (broken invariants), so a caught exception always means a defect.
 */
export type Ok<T> = { readonly ok: true; readonly value: T };
export type Err<E> = { readonly ok: false; readonly error: E };
export type Result<T, E> = Ok<T> | Err<E>;

export function ok<T>(value: T): Ok<T> {
  return { ok: true, value };
}

export function err<E>(error: E): Err<E> {
  return { ok: false, error };
}

/** The shape every module's error takes: a code from the module's union and a sentence for people. */
export interface CodedError<C extends string> {
  readonly code: C;
  readonly message: string;
  /** 1-based line in the input, when the input has lines. */
  readonly line?: number;
  /** 1-based column (character offset within the line), when known. */
  readonly column?: number;
  /** The file the input came from, when it came from one. */
  readonly file?: string;
}

/**
 * psm's one constructor for coded errors. `column` is 1-based (the first character of a line is
 * column 1), as CodedError documents, in every module.
 */
export function codedError<C extends string>(code: C, message: string, column?: number): CodedError<C> {
  return column === undefined ? { code, message } : { code, message, column };
}

/** For exhaustive `switch` over unions: a new union member becomes a compile error here. */
export function assertNever(value: never): never {
  throw new Error(`unreachable: ${JSON.stringify(value)}`);
}
