// Human output: a per-layer table and a summary, conventions always printed.
import { formatShape, type Analysis, type FitResult, type Graph, type McuTarget } from '../core/index';

const n = (v: number): string => Math.round(v).toLocaleString('en-US');
export const kib = (v: number): string => `${(v / 1024).toFixed(1)} KiB`;
const mega = (v: number): string => (v >= 1e6 ? `${(v / 1e6).toFixed(1)}M` : v >= 1e3 ? `${(v / 1e3).toFixed(1)}k` : String(v));

function table(rows: string[][], rightAligned: ReadonlySet<number>): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows
    .map((r) => r.map((cell, c) => (rightAligned.has(c) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd())
    .join('\n');
}

const clip = (s: string, max: number): string => (s.length <= max ? s : `…${s.slice(s.length - max + 1)}`);

export function renderAnalysis(file: string, graph: Graph, a: Analysis, fit: FitResult | null): string {
  const out: string[] = [];
  const opset = graph.metadata.opsets?.[''];
  out.push(`${file}: ${a.format.toUpperCase()}${opset ? ` opset ${opset}` : ''}, ${a.fileOps} operators in the file, ${a.ops.length} executed`);
  for (const t of a.inputs) out.push(`  input  ${t.name}: ${formatShape(t.shape)} ${t.dtype}${t.layout ? ` (${t.layout})` : ''}`);
  for (const t of a.outputs) out.push(`  output ${t.name}: ${formatShape(t.shape)} ${t.dtype}`);
  out.push('Conventions:');
  for (const c of a.conventionsText) out.push(`  - ${c}`);
  out.push('');
  const rows: string[][] = [['#', 'op', 'name', 'output', 'out B', 'live B', 'weights B', 'MACs', '']];
  for (const r of a.ops) {
    rows.push([
      String(r.index), clip(r.op, 28), clip(r.name, 36), r.outputShapes.map(formatShape).join(', '), n(r.outputBytes), n(r.liveBytes),
      n(r.weightsBytes), mega(r.macs), r.index === a.peakStep ? '◀ peak' : r.unsupported ? '(unsupported)' : '',
    ]);
  }
  out.push(table(rows, new Set([0, 4, 5, 6, 7])));
  out.push('');
  const peak = a.ops[a.peakStep];
  out.push('Summary');
  out.push(`  Peak SRAM (live set)   ${n(a.peakBytes)} B (${kib(a.peakBytes)})${peak ? ` at #${peak.index} ${peak.op} '${peak.name}'` : ''}`);
  out.push(`  Arena plan             ${n(a.arenaBytes)} B (${a.arenaStrategy}); lower bound ${n(a.lowerBoundBytes)} B; TFLM greedy ${n(a.greedyArenaBytes)} B`);
  out.push(`  Flash (weights)        ${n(a.flashBytes)} B (${kib(a.flashBytes)})`);
  out.push(`  MACs                   ${n(a.macs)} (${mega(a.macs)})`);
  if (a.reorder) {
    out.push(a.reorder.improved
      ? `  Reordered (--reorder)  peak ${n(a.reorder.peakBytes)} B, arena ${n(a.reorder.arenaBytes)} B with order ${a.reorder.order.join(',')}${a.reorder.complete ? '' : ' (search capped)'}`
      : `  Reordered (--reorder)  no operator order lowers the peak${a.reorder.complete ? '' : ' (search capped)'}`);
  }
  if (a.offlinePlan) out.push(`  Offline plan (file)    ${a.offlinePlan.planned}/${a.offlinePlan.tensors} tensors planned, arena ≥ ${n(a.offlinePlan.arenaBytes)} B (OfflineMemoryAllocation metadata)`);
  if (fit) {
    const t = fit.target;
    const verdict = fit.fits ? 'FITS' : 'DOES NOT FIT';
    out.push(`  Target ${t.name}: SRAM ${n(fit.sramNeeded)} / ${n(t.sramBytes)} B (${Math.round((100 * fit.sramNeeded) / t.sramBytes)}%${t.reserveBytes ? `, incl. ${n(t.reserveBytes)} B reserve` : ''})` +
      `, Flash ${n(a.flashBytes)} / ${n(t.flashBytes)} B (${Math.round((100 * a.flashBytes) / t.flashBytes)}%) → ${verdict}`);
  }
  for (const u of a.unsupported) out.push(`  unsupported: #${u.opIndex} ${u.op}: ${u.reason}`);
  for (const note of a.notes) out.push(`  note: ${note}`);
  return out.join('\n');
}

export function renderTargets(targets: readonly McuTarget[]): string {
  const rows = [['target', 'core', 'SRAM', 'Flash', 'notes']];
  for (const t of targets) rows.push([t.name, t.core, kib(t.sramBytes), kib(t.flashBytes), t.notes ?? '']);
  return `${table(rows, new Set([2, 3]))}\n\nCustom targets: --custom-target NAME:SRAM:FLASH[:RESERVE] (e.g. myboard:256K:1M:16K)`;
}
