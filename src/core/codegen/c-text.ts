// The one way text from a model file or a workspace (tensor, operator and file names, a target's name) reaches the
// files we generate: C sources, the linker script, the Makefile. Such text is never trusted: a name is reduced to a
// fixed set of printable ASCII characters that can neither end a comment or a string literal nor start one
// (no '*', '\', '"', '?', no control or non-ASCII character), so it cannot close a comment (`*/`, a backslash-newline
// splice, the `??/` trigraph), open one (`/*`), end a string literal or reorder text (bidirectional controls).
// Everything else becomes '_', and long names are cut.

const SAFE = /^[A-Za-z0-9 _.,:;=+\-#()[\]{}<>@!&|~^'/]$/;

/** Text from outside, safe inside a generated C or linker-script comment and inside a C string literal. */
export function cText(s: string, max = 96): string {
  let out = '';
  for (const ch of s) {
    if (out.length >= max) return `${out.slice(0, max - 3)}...`;
    out += SAFE.test(ch) ? ch : '_';
  }
  return out;
}
