// Public surface of the core engine (pure TypeScript: bytes in, data out).
export * from './errors';
export * from './graph';
export { openModel, openModelOrThrow, type OpenOptions } from './model';
export type { ExternalDataHost } from './formats/onnx/external';
export { checkExternalLocation } from './formats/onnx/external';
export { matchOnnx } from './formats/onnx/reader';
export { matchTflite } from './formats/tflite/reader';
export * from './analysis/conventions';
export { analyzeGraph, opMacs } from './analysis/analyze';
export type { Analysis, OpRow, BufferRow, BlockRow, Unsupported, ReorderReport, TensorSummary } from './analysis/analyze';
export { buildExecPlan, liveBytes, type ExecPlan, type Step, type BufferInfo } from './analysis/steps';
export { greedyBySize, planArena, lowerBound, checkPlan, alignUp, type PlanItem, type ArenaPlan } from './analysis/planner';
export * from './mcu/catalogue';
