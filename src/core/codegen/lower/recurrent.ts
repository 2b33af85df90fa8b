// Lowering of the recurrent layers: ONNX LSTM (float) and TFLite's UNIDIRECTIONAL_SEQUENCE_LSTM (float and int8), the
// whole sequence in one kernel call, and TFLite's SVDF (float and int8); none needs memory besides the operator's outputs and, in
// TFLite, its state tensors.
import { elementCount } from '../../graph';
import { CodegenError } from '../errors';
import { quantizeMultiplier, sigmoidTableU16 } from '../quant';
import { floatOperand, fmtFloat, type Emit, type StepLower } from './context';

/** The recurrent layers: TFLite's UNIDIRECTIONAL_SEQUENCE_LSTM and SVDF below; here ONNX LSTM (float; forward,
 *  reverse or bidirectional; default activations; clip; peepholes; initial state stored or computed). Memory: the planner gives the operator its outputs only, so the cell state lives in the Y output, in the
 *  slot of the time step about to be computed (c of step t−1 sits where h of step t goes, each unit read before its h
 *  is written): Y must be produced (it is, unless the node leaves it out). */
export function lowerRecurrent(sl: StepLower): Emit {
  const { P, T, constOf, e, fin, kernels, label, op, outs, params, stored, withEpi } = sl;
  const r = op.attrs.recurrent;
  if (op.sourceType === 'UNIDIRECTIONAL_SEQUENCE_LSTM') return lowerTfliteLstm(sl);
  if (op.sourceType === 'SVDF') return lowerSvdf(sl);
  if (!r || r.cell !== 'lstm' || op.sourceType !== 'LSTM') throw new CodegenError(`C export: ${label(op)} is not generated (of the recurrent layers, ONNX LSTM, TFLite's UNIDIRECTIONAL_SEQUENCE_LSTM and SVDF are)`, op.index);
  if (e !== 'f32') throw new CodegenError(`C export: ${label(op)}: an int8 LSTM is not generated`, op.index);
  if (!r.timeMajor) throw new CodegenError(`C export: ${label(op)}: an LSTM with layout 1 (batch first) is not generated`, op.index);
  if (r.inputForget) throw new CodegenError(`C export: ${label(op)}: an LSTM with input_forget is not generated`, op.index);
  const defaults = ['Sigmoid', 'Tanh', 'Tanh'];
  if (r.activations && !r.activations.every((a, i) => a === defaults[i % 3])) throw new CodegenError(`C export: ${label(op)}: LSTM activations ${r.activations.join(', ')} are not generated (Sigmoid, Tanh, Tanh are)`, op.index);
  if (fin.lo !== -Infinity || fin.hi !== Infinity) throw new CodegenError(`C export: ${label(op)}: a clamp fused after an LSTM is not generated`, op.index);
  const operand = (pos: number): number => op.attrs.operands?.[pos] ?? -1;
  const [x, wId, rId] = [operand(0), operand(1), operand(2)];
  const xs = T(x).shape ?? [];
  if (xs.length !== 3) throw new CodegenError(`C export: ${label(op)}: input of shape ${xs.join('×')}`, op.index);
  const [seq, batch, inSize] = xs as [number, number, number];
  const dirs = r.directions;
  const hid = r.hiddenSize ?? 0;
  const seqLens = operand(4);
  if (seqLens >= 0 && !(stored(seqLens) && constOf(seqLens, op, 'sequence_lens', batch).values.every((v) => v === seq))) throw new CodegenError(`C export: ${label(op)}: sequence_lens other than the full sequence is not generated`, op.index);
  // Every float operand (weights, biases, peepholes, initial state): stored, computed (in the arena), or left out.
  const floats = (pos: number, what: string, n: number): ((ptr: (id: number) => string) => string) =>
    operand(pos) < 0 ? () => 'NULL' : floatOperand(sl, operand(pos), `${what}${sl.si}`, what, n);
  if (wId < 0 || rId < 0) throw new CodegenError(`C export: ${label(op)}: W or R is left out`, op.index);
  const [w, rr, b, p, h0, c0] = [floats(1, 'w', dirs * 4 * hid * inSize), floats(2, 'r', dirs * 4 * hid * hid), floats(3, 'b', dirs * 8 * hid), floats(7, 'p', dirs * 3 * hid), floats(5, 'h0', dirs * batch * hid), floats(6, 'c0', dirs * batch * hid)];
  // Outputs by slot (Y, Y_h, Y_c); a left-out or unused one is not written.
  const slots = r.outputSlots ?? op.outputs.map((_, k) => k);
  const out = (slot: number): number => {
    const k = slots.indexOf(slot);
    const id = k >= 0 ? op.outputs[k]! : -1;
    return id >= 0 && outs.includes(id) ? id : -1;
  };
  const [Y, Yh, Yc] = [out(0), out(1), out(2)];
  if (Y < 0) throw new CodegenError(`C export: ${label(op)}: an LSTM whose Y output is left out or unused is not generated (the generated code keeps the cell state in Y)`, op.index);
  if (T(x).dtype !== 'float32') throw new CodegenError(`C export: ${label(op)}: input '${T(x).name}' is ${T(x).dtype}`, op.index);
  kernels.add('lstm_f32');
  params.push(`static const mm_lstm_f32_t ${P} = {${seq}, ${dirs}, ${batch}, ${inSize}, ${hid}, ${r.reverse ? 1 : 0}, ${fmtFloat(r.clip ?? 0)}};`);
  return withEpi((a) => [`mm_lstm_f32(&${P}, ${a.ptr(x)}, ${w(a.ptr)}, ${rr(a.ptr)}, ${b(a.ptr)}, ${p(a.ptr)}, ${h0(a.ptr)}, ${c0(a.ptr)}, ${a.ptr(Y)}, ${Yh >= 0 ? a.ptr(Yh) : 'NULL'}, ${Yc >= 0 ? a.ptr(Yc) : 'NULL'});`]);
}

/** TFLite's UNIDIRECTIONAL_SEQUENCE_LSTM as TFLM runs it, float or int8 (the Keras LSTM: no CIFG, peepholes, projection or
 *  layer normalization, which TFLM does not support either), its state in the two variable tensors. */
function lowerTfliteLstm(sl: StepLower): Emit {
  const { P, T, addWeights, constOf, e, fin, kernels, label, op, params, withEpi, y } = sl;
  const r = op.attrs.recurrent!;
  const at = (k: number): number => op.inputs[k] ?? -1;
  const absent = [9, 10, 11, 16, 17, 20, 21, 22, 23].filter((k) => at(k) >= 0);
  if (at(1) < 0 || absent.length) throw new CodegenError(`C export: ${label(op)}: an LSTM with ${at(1) < 0 ? 'coupled input and forget gates (CIFG)' : 'peepholes, projection or layer normalization'} is not generated (TFLM runs neither)`, op.index);
  if ((r.cellActivation ?? 4) !== 4) throw new CodegenError(`C export: ${label(op)}: an LSTM whose cell activation is not tanh is not generated`, op.index);
  if (e === 'f32' ? fin.lo !== -Infinity || fin.hi !== Infinity : e === 's16' ? fin.lo !== -32768 || fin.hi !== 32767 : fin.lo !== -128 || fin.hi !== 127) throw new CodegenError(`C export: ${label(op)}: a clamp fused after an LSTM is not generated`, op.index);
  const [x, hState, cState] = [at(0), at(18), at(19)];
  const xs = T(x).shape ?? [];
  if (xs.length !== 3 || T(hState).role !== 'variable' || T(cState).role !== 'variable') throw new CodegenError(`C export: ${label(op)}: input ${xs.join('×')} with its state not in variable tensors`, op.index);
  const [batch, time] = r.timeMajor ? [xs[1]!, xs[0]!] : [xs[0]!, xs[1]!];
  const inSize = xs[2]!;
  const hid = r.hiddenSize ?? 0;
  // The kernel writes batch × hid values of each state and batch × time × hid of the output: the file must agree.
  // float: all float32; int8: int8 input, hidden state and output, an int16 cell state (TFLM's 8x8_16 LSTM).
  const types = e === 'f32' ? ['float32', 'float32', 'float32', 'float32'] : e === 's16' ? ['int16', 'int16', 'int16', 'int16'] : ['int8', 'int8', 'int16', 'int8'];
  for (const [k, [id, n]] of ([[x, batch * time * inSize], [hState, batch * hid], [cState, batch * hid], [y, batch * time * hid]] as const).entries()) {
    if (T(id).dtype !== types[k] || elementCount(T(id).shape ?? []) !== n) throw new CodegenError(`C export: ${label(op)}: '${T(id).name}' is not ${n} ${types[k]} values (batch ${batch}, ${time} steps, ${hid} units)`, op.index);
  }
  if (e !== 'f32') return tfliteLstmQ(sl, { x, hState, cState, batch, time, inSize, hid });
  // TFLite's order of the gate operands: input, forget, cell, output; the kernel takes forget, input, cell, output.
  const order = [1, 0, 2, 3];
  const names = (base: number, n: number | null, what: string): string => order.map((g) => {
    const id = at(base + g);
    if (id < 0) return 'NULL';
    return addWeights(`${what}${sl.si}_${g}`, 'float', constOf(id, op, `${what} ${g}`, n ?? undefined).values);
  }).join(', ');
  const w = names(1, hid * inSize, 'w');
  const rr = names(5, hid * hid, 'r');
  const b = names(12, hid, 'b');
  kernels.add('lstm_tfl_f32');
  params.push(`static const mm_lstm_tfl_f32_t ${P} = {${batch}, ${time}, ${inSize}, ${hid}, ${r.timeMajor ? 1 : 0}, ${fmtFloat(r.clip ?? 0)}, {${w}}, {${rr}}, {${b}}};`);
  return withEpi((a) => [`mm_lstm_tfl_f32(&${P}, ${a.ptr(x)}, ${a.ptr(hState)}, ${a.ptr(cState)}, ${a.ptr(y)});`]);
}

/** TFLite's SVDF as TFLM runs it: float, or int8 with an int16 or int8 state (its variable tensor) and time weights of
 *  the state's type; the multipliers as TFLM's Prepare computes them (float products, then double). */
function lowerSvdf(sl: StepLower): Emit {
  const { P, T, addWeights, constOf, e, fin, kernels, label, op, params, qOf, withEpi, y } = sl;
  const r = op.attrs.recurrent!;
  const at = (k: number): number => op.inputs[k] ?? -1;
  const [x, wfId, wtId, bId, state] = [at(0), at(1), at(2), at(3), at(4)];
  const xs = T(x).shape ?? [];
  const wfs = T(wfId).shape ?? [];
  const wts = T(wtId).shape ?? [];
  const rank = r.rank ?? 1;
  if (xs.length !== 2 || wfs.length !== 2 || wts.length !== 2 || state < 0 || T(state).role !== 'variable') throw new CodegenError(`C export: ${label(op)}: an SVDF with input ${xs.join('×')} and its state not a variable tensor`, op.index);
  const [batch, inSize] = xs as [number, number];
  const [filters, memory] = wts as [number, number];
  const units = filters / rank;
  if (wfs[0] !== filters || wfs[1] !== inSize || !Number.isInteger(units)) throw new CodegenError(`C export: ${label(op)}: feature weights ${wfs.join('×')}, time weights ${wts.join('×')} and rank ${rank} do not fit`, op.index);
  for (const [id, n] of [[state, batch * filters * memory], [y, batch * units]] as const) {
    if (elementCount(T(id).shape ?? []) !== n) throw new CodegenError(`C export: ${label(op)}: '${T(id).name}' does not hold ${n} values`, op.index);
  }
  const geom = `${batch}, ${inSize}, ${filters}, ${memory}, ${rank}, ${units}`;
  if (e === 'f32') {
    if (![undefined, 'relu', 'relu6', 'relu_n1_to_1'].includes(op.attrs.fusedActivation)) throw new CodegenError(`C export: ${label(op)}: a float SVDF with a ${op.attrs.fusedActivation} activation is not generated`, op.index);
    if ([x, state].some((id) => T(id).dtype !== 'float32')) throw new CodegenError(`C export: ${label(op)}: input and state must be float32 as its output`, op.index);
    const wf = addWeights(`wf${sl.si}`, 'float', constOf(wfId, op, 'feature weights', filters * inSize).values);
    const wt = addWeights(`wt${sl.si}`, 'float', constOf(wtId, op, 'time weights', filters * memory).values);
    const b = bId >= 0 ? addWeights(`b${sl.si}`, 'float', constOf(bId, op, 'bias', units).values) : 'NULL';
    kernels.add('svdf_f32');
    params.push(`static const mm_svdf_f32_t ${P} = {${geom}, ${wf}, ${wt}, ${b}, ${fmtFloat(fin.lo)}, ${fmtFloat(fin.hi)}};`);
    return withEpi((a) => [`mm_svdf_f32(&${P}, ${a.ptr(x)}, ${a.ptr(state)}, ${a.ptr(y)});`]);
  }
  const st = T(state).dtype;
  if (T(x).dtype !== 'int8' || T(y).dtype !== 'int8' || (st !== 'int16' && st !== 'int8') || T(wtId).dtype !== st) throw new CodegenError(`C export: ${label(op)}: an int8 SVDF needs int8 input and output and time weights of its state's type (int16 or int8)`, op.index);
  const [qx, qs, qy] = [qOf(x, 'SVDF input'), qOf(state, 'SVDF state'), qOf(y, 'SVDF output')];
  const WF = constOf(wfId, op, 'feature weights', filters * inSize);
  const WT = constOf(wtId, op, 'time weights', filters * memory);
  if (WF.dtype !== 'int8' || !WF.scale || WF.scale.length !== 1 || !WT.scale || WT.scale.length !== 1) throw new CodegenError(`C export: ${label(op)}: per-tensor int8 feature weights and scaled time weights are needed`, op.index);
  const f = Math.fround;
  const [m1, s1] = quantizeMultiplier(f(f(qx.scale * WF.scale[0]!) / qs.scale));
  const [m2, s2] = quantizeMultiplier(f(f(qs.scale * WT.scale[0]!) / qy.scale));
  const k = st === 'int16' ? 's8_s16' : 's8_s8';
  const wf = addWeights(`wf${sl.si}`, 'int8_t', WF.values);
  const wt = addWeights(`wt${sl.si}`, st === 'int16' ? 'int16_t' : 'int8_t', WT.values);
  const b = bId >= 0 ? addWeights(`b${sl.si}`, 'int32_t', constOf(bId, op, 'bias', units).values) : 'NULL';
  kernels.add(`svdf_${k}`);
  params.push(`static const mm_svdf_${k}_t ${P} = {${geom}, ${wf}, ${wt}, ${b}, ${qx.zp}, ${qs.zp}, ${qy.zp}, ${m1}, ${s1}, ${m2}, ${s2}};`);
  return withEpi((a) => [`mm_svdf_${k}(&${P}, ${a.ptr(x)}, ${a.ptr(state)}, ${a.ptr(y)});`]);
}

/** The int8 LSTM (int8 activations and weights, int32 biases, an int16 cell state): TFLM's Prepare multipliers
 *  (lstm_eval_common.cc: each gate's products to Q3.12 in double; the inter-gate products from Q0.15), its int16
 *  sigmoid and tanh through the shared table, its cell clip and cell tanh scaling from the cell scale's power of two. */
/** TFLM's integer LSTM: int8 activations with int32 biases (8x8_16), or int16 activations with int64 biases (16x8_16,
 *  its int64 accumulation; the biases must fit 32 bits). */
function tfliteLstmQ(sl: StepLower, s: { x: number; hState: number; cState: number; batch: number; time: number; inSize: number; hid: number }): Emit {
  const { P, addWeights, constOf, kernels, label, op, params, qOf, withEpi, y } = sl;
  const r = op.attrs.recurrent!;
  const at = (k: number): number => op.inputs[k] ?? -1;
  const [qx, qh, qc] = [qOf(s.x, 'LSTM input'), qOf(s.hState, 'LSTM hidden state'), qOf(s.cState, 'LSTM cell state')];
  // TFLM takes the cell scale's power of two rounded (CheckedLog2) and the cell state as symmetric, as the converter
  // makes it.
  const power = Math.round(Math.log2(qc.scale));
  const gateScale = Math.fround(2 ** -12);
  const order = [1, 0, 2, 3]; // TFLite's input, forget, cell, output → the kernel's forget, input, cell, output
  const gates = order.map((g) => {
    const W = constOf(at(1 + g), op, `input weights ${g}`, s.hid * s.inSize);
    const R = constOf(at(5 + g), op, `recurrent weights ${g}`, s.hid * s.hid);
    for (const K of [W, R]) if (K.dtype !== 'int8' || !K.scale || K.scale.length !== 1 || (K.zp ?? [0]).some((z) => z !== 0)) throw new CodegenError(`C export: ${label(op)}: an int8 LSTM needs per-tensor symmetric int8 weights`, op.index);
    const B = at(12 + g) >= 0 ? constOf(at(12 + g), op, `bias ${g}`, s.hid) : null;
    if (B && B.dtype !== (sl.e === 's16' ? 'int64' : 'int32')) throw new CodegenError(`C export: ${label(op)}: an ${sl.e === 's16' ? 'int16 LSTM needs int64' : 'int8 LSTM needs int32'} biases`, op.index);
    if (B && B.values.some((v) => v < -(2 ** 31) || v >= 2 ** 31)) throw new CodegenError(`C export: ${label(op)}: an LSTM bias beyond 32 bits is not generated`, op.index);
    return {
      w: addWeights(`w${sl.si}_${g}`, 'int8_t', W.values), r: addWeights(`r${sl.si}_${g}`, 'int8_t', R.values), b: B ? addWeights(`b${sl.si}_${g}`, 'int32_t', B.values) : 'NULL',
      wq: quantizeMultiplier((qx.scale * W.scale![0]!) / gateScale), rq: quantizeMultiplier((qh.scale * R.scale![0]!) / gateScale),
    };
  });
  const q15 = Math.fround(2 ** -15);
  const [fcm, fcs] = quantizeMultiplier((q15 * qc.scale) / qc.scale);
  const [igm, igs] = quantizeMultiplier((q15 * q15) / qc.scale);
  const [ohm, ohs] = quantizeMultiplier((q15 * q15) / qh.scale);
  const clip = r.clip && r.clip > 0 ? Math.trunc(Math.min(Math.max(r.clip / qc.scale, -32768), 32767)) : 0;
  const tanhShift = 12 + power;
  const [tanhMult, tanhRight] = tanhShift < 0 ? [3, -tanhShift] : [3 * 2 ** tanhShift, 0];
  const sig = addWeights('mm_sigmoid_table', 'int32_t', sigmoidTableU16());
  const list = (k: (g: (typeof gates)[number]) => string | number): string => `{${gates.map(k).join(', ')}}`;
  const k = `lstm_tfl_${sl.e}`;
  kernels.add(k);
  params.push(`static const mm_${k}_t ${P} = {${s.batch}, ${s.time}, ${s.inSize}, ${s.hid}, ${r.timeMajor ? 1 : 0}, ${-qx.zp}, ${-qh.zp}, ${qh.zp}, ${list((g) => g.w)}, ${list((g) => g.r)}, ${list((g) => g.b)}, ${list((g) => g.wq[0])}, ${list((g) => g.wq[1])}, ${list((g) => g.rq[0])}, ${list((g) => g.rq[1])}, ${fcm}, ${fcs}, ${igm}, ${igs}, ${ohm}, ${ohs}, ${clip}, ${tanhMult}, ${tanhRight}, ${sig}};`);
  return withEpi((a) => [`mm_${k}(&${P}, ${a.ptr(s.x)}, ${a.ptr(s.hState)}, ${a.ptr(s.cState)}, ${a.ptr(y)});`]);
}
