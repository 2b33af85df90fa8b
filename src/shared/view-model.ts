// Builds the Memory View's data from a model report (pure: tested without VS Code).
import { scheduleSetting, scheduleTitle, targetFit, verdictText, type ModelReport } from '../core/index';
import { gauge, MAX_ARENA_RECTS, type MemoryViewData } from './protocol';

export function memoryViewData(r: ModelReport, generateC: MemoryViewData['generateC']): MemoryViewData {
  const a = r.analysis;
  const { target: t, fit } = targetFit(r);
  const atLeast = !a.complete;
  const tflmMode = r.effective.runtime === 'tflm';
  const stageEnd = r.schedule ? r.schedule.split.index : -1;
  // With a line-buffered plan in force, its streamed segments are coloured as the patch stage is.
  const streamed = new Set((r.lineBuffered?.segments ?? []).flatMap((s) => Array.from({ length: s.last - s.first + 1 }, (_, k) => s.first + k)));
  const applied = r.schedule ? JSON.stringify(scheduleSetting(r.schedule)) : null;
  return {
    fileName: r.fileName,
    format: a.format,
    inputs: a.inputs,
    outputs: a.outputs,
    target: { name: t.name, sramBytes: t.sramBytes, flashBytes: t.flashBytes, reserveBytes: t.reserveBytes },
    sram: gauge('SRAM', fit.sramNeeded, t.sramBytes, tflmMode ? r.tflm === null : atLeast),
    flash: gauge('Flash', fit.flashNeeded, t.flashBytes, tflmMode || atLeast),
    ramRegions: fit.regions.length > 1 ? fit.regions.map((x) => gauge(x.name, x.needed, x.bytes, tflmMode ? r.tflm === null : atLeast, x.speed)) : null,
    verdict: verdictText(fit),
    incomplete: a.complete ? null : {
      count: a.unsupported.length, total: a.fileOps,
      first: a.unsupported.slice(0, 3).map((u) => `${u.op} '${u.name}'`),
    },
    perLayerPeakBytes: a.peakBytes,
    scheduledPeakBytes: r.schedule ? r.schedule.peakBytes : r.lineBuffered ? r.lineBuffered.peakBytes : null,
    lineBuffered: lineBufferedView(r),
    macs: a.macs,
    flashBytes: a.flashBytes,
    layers: a.ops.map((o) => ({
      index: o.index, op: o.op, name: o.name, inputShapes: o.inputShapes, outputShapes: o.outputShapes,
      inputBytes: o.inputBytes, outputBytes: o.outputBytes, liveBytes: o.liveBytes,
      scheduledLiveBytes: r.scheduledLive ? r.scheduledLive[o.index] ?? null : null,
      weightsBytes: o.weightsBytes, macs: o.macs, inPatchStage: o.index <= stageEnd || streamed.has(o.index),
      ...(o.unsupported ? { unsupported: o.unsupported } : {}),
    })),
    blocks: a.blocks.map((b) => ({ name: b.name, firstStep: b.firstStep, lastStep: b.lastStep })),
    schedule: r.schedule,
    scheduleWhy: r.scheduleWhy,
    candidates: r.candidates.map((c) => ({ title: scheduleTitle(c), setting: scheduleSetting(c), report: c, applied: JSON.stringify(scheduleSetting(c)) === applied })),
    findings: r.findings,
    conventions: a.conventionsText,
    arena: arenaView(r),
    asInt8: a.conventions.asInt8 ? true : [...a.inputs, ...a.outputs].some((t) => t.dtype === 'float32') ? false : null,
    runtime: r.effective.runtime,
    status: fit.status,
    tflm: a.format !== 'tflite' ? null : r.tflm ? {
      usedBytes: r.tflm.arenaUsedBytes, minBytes: r.tflm.minArenaBytes, declaration: r.tflm.declaration, optimizedMinBytes: r.tflmOptimized?.minArenaBytes ?? null,
      parts: [{ label: `head: planned tensors and scratch buffers (${r.tflm.plannedTensors} + ${r.tflm.scratchBuffers})`, bytes: r.tflm.headBytes }, ...r.tflm.tail.map((k) => ({ label: `tail: ${k.kind}`, bytes: k.bytes }))],
    } : { why: r.tflmWhy ?? 'not predicted' },
    generateC,
  };
}

/** What a streamed segment does besides rows: column bands, blocks fused per pixel, a channel-wise tail. */
function segmentNotes(s: NonNullable<ModelReport['lineBuffered']>['segments'][number]): string[] {
  const notes: string[] = [];
  if (s.columns > 1) notes.push(`${s.columns} column bands`);
  if (s.fused.length > 0) {
    const recomputed = s.fused.filter((f) => f.expand).length;
    notes.push(`${s.fused.length} block${s.fused.length > 1 ? 's' : ''} fused per pixel${recomputed > 0 ? `, ${recomputed} expansion${recomputed > 1 ? 's' : ''} recomputed` : ''}`);
  }
  if (s.channelwise) notes.push('channel by channel into the pooling');
  return notes;
}

function lineBufferedView(r: ModelReport): MemoryViewData['lineBuffered'] {
  const p = r.lineBuffered ?? r.lineBufferedFix;
  if (!p) return null;
  return {
    inForce: r.lineBuffered !== null, peakBytes: p.peakBytes, arenaBytes: p.arenaBytes, overhead: p.overhead, calls: p.calls,
    segments: p.segments.map((s) => `#${s.first}–#${s.last}${segmentNotes(s).length > 0 ? ` (${segmentNotes(s).join('; ')})` : ''}`),
    spans: p.segments.map((s) => ({ first: s.first, last: s.last })),
  };
}

function arenaView(r: ModelReport): MemoryViewData['arena'] {
  const all = r.arenaLayout;
  const rects = all.length > MAX_ARENA_RECTS ? [...all].sort((a, b) => b.size - a.size).slice(0, MAX_ARENA_RECTS) : all;
  // Several regions: each region's arena drawn above the one before, fastest (the system region) at the bottom.
  const plan = r.regionPlan;
  let base = 0;
  const regions = plan
    ? plan.map((p) => { const v = { name: p.name, base, bytes: p.arenaBytes, lowerBound: p.lowerBound }; base += p.arenaBytes; return v; })
    : [{ name: 'arena', base: 0, bytes: all.reduce((m, x) => Math.max(m, x.offset + x.size), 0), lowerBound: r.schedule ? 0 : r.analysis.lowerBoundBytes }];
  const sizeBytes = regions.reduce((m, x) => Math.max(m, x.base + x.bytes), 0);
  return {
    sizeBytes, steps: r.analysis.ops.length, peakStep: r.schedule ? r.schedule.peakOp.index : r.analysis.peakStep,
    rects: rects.map((x) => ({ name: x.name, offset: x.offset, size: x.size, first: x.first, last: x.last, kind: x.kind, region: plan ? x.region : 0 })),
    hidden: all.length - rects.length, scheduled: r.schedule !== null, regions,
  };
}

