/** Token helpers shared by the line parsers: sshd separates fields by spaces and tabs only. */

export function isBlank(code: number): boolean {
  return code === 32 || code === 9;
}

export function skipBlanks(text: string, index: number): number {
  while (index < text.length && isBlank(text.charCodeAt(index))) index++;
  return index;
}

/**
 * The index of the first blank at or after `index`, or the text's length. Two native searches
 * instead of a loop over every character: key data and options fields are long tokens.
 */
export function tokenEnd(text: string, index: number): number {
  const space = text.indexOf(' ', index);
  const tab = text.indexOf('\t', index);
  if (space === -1) return tab === -1 ? text.length : tab;
  return tab === -1 || space < tab ? space : tab;
}
