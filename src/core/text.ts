// Text from a model file or a workspace on its way to a terminal, a log or the Problems panel: one line, nothing that
// moves the cursor, clears the screen or reorders what follows (log injection).

/** Control, line-separator and bidirectional/format characters escaped as \u{…}; everything else kept. */
export function printable(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/g, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
}
