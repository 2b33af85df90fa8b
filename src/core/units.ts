// The one formatter for sizes and counts in prose (CLI summaries, findings, the Memory View): the unit an engineer
// reads, B below 1 KiB, KiB below 1 MiB, MiB above; MACs with k, M and G. Tables print exact bytes instead.

export function formatBytes(b: number): string {
  const a = Math.abs(b);
  if (a < 1024) return `${Math.round(b)} B`;
  if (a < 1024 * 1024) return `${(b / 1024).toFixed(1)} KiB`;
  return `${(b / 1024 / 1024).toFixed(2)} MiB`;
}

export function formatCount(n: number): string {
  const a = Math.abs(n);
  if (a >= 1e9) return `${(n / 1e9).toFixed(2)}G`;
  if (a >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (a >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return String(Math.round(n));
}

/** A round step for a byte axis from 0 to `max`: a power of two (…, 256 B, 1 KiB, 16, 32, 64 KiB, …, 0.5, 1, 2 MiB)
 *  giving at most `ticks` steps. */
export function byteAxisStep(max: number, ticks = 8): number {
  let step = 256;
  while (max / step > ticks) step *= 2;
  return step;
}

/** An axis label for a multiple of byteAxisStep: '0', '512 B', '48 KiB', '1.5 MiB'. */
export function formatAxisBytes(v: number): string {
  if (v === 0) return '0';
  if (Math.abs(v) < 1024) return `${v} B`;
  if (Math.abs(v) < 1024 * 1024) return `${+(v / 1024).toFixed(2)} KiB`;
  return `${+(v / 1024 / 1024).toFixed(3)} MiB`;
}
