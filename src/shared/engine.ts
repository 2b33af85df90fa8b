// Entry of dist/engine.js: the core and the view model, which the extension loads on first use (src/extension/engine.ts)
// so that activation only registers.
export * from '../core/index';
export { memoryViewData } from './view-model';
