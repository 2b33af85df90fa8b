// The one pipeline every face runs (CLI, VS Code extension, and C export through their reports): settings layers →
// open → analyse → schedule → fit → findings. Bytes and texts in, the graph and the report out; reading files is the
// caller's business.
import { capture, type Result } from '../errors';
import type { Graph } from '../graph';
import { openModelOrThrow } from '../model';
import type { ExternalDataHost } from '../formats/onnx/external';
import { deploymentLayer, parseDeployment, resolveSettings, type SettingsLayer } from './deployment';
import { analyzeModel, type ModelReport } from './session';

export interface PipelineInput {
  bytes: Uint8Array;
  /** The model's path or name (format hint, messages); the report shows its last component. */
  fileName: string;
  externalData?: ExternalDataHost;
  /** Layers below the deployment file: defaults and VS Code's settings (the CLI has none). */
  base: readonly SettingsLayer[];
  /** The text of `<model>.mcu.json`, or null when there is none. */
  deploymentText: string | null;
  /** Layers above the deployment file: options given on the command line. */
  top?: readonly SettingsLayer[];
  /** An untrusted workspace (VS Code's Restricted Mode): the deployment file may not switch on the slow operator-order
   *  search nor choose where C code is written. */
  restricted?: boolean;
}

/** The deployment file's layer, with what an untrusted workspace may not decide taken out (and said). */
function deploymentOf(text: string, restricted: boolean): SettingsLayer {
  const layer = deploymentLayer(parseDeployment(text));
  if (!restricted) return layer;
  const values = { ...layer.values };
  const problems = [...(layer.problems ?? [])];
  if (values.conventions?.reorder) {
    values.conventions = { ...values.conventions, reorder: false };
    problems.push({ path: 'conventions.reorder', message: 'ignored in Restricted Mode (the operator-order search can take long on large models); trust the workspace to use it' });
  }
  if (values.codegen?.outputFolder !== undefined) {
    delete values.codegen;
    problems.push({ path: 'codegen.outputFolder', message: 'ignored in Restricted Mode (it chooses where files are written); trust the workspace to use it' });
  }
  return { ...layer, values, problems };
}

export interface PipelineOutput {
  graph: Graph;
  report: ModelReport;
}

export function runPipeline(input: PipelineInput): Result<PipelineOutput> {
  return capture(() => {
    const eff = resolveSettings([
      ...input.base,
      ...(input.deploymentText !== null ? [deploymentOf(input.deploymentText, input.restricted ?? false)] : []),
      ...(input.top ?? []),
    ]);
    const graph = openModelOrThrow(input.bytes, { fileName: input.fileName, ...(input.externalData ? { externalData: input.externalData } : {}) });
    const name = input.fileName.split(/[\\/]/).pop() || input.fileName;
    return { graph, report: analyzeModel(graph, name, eff) };
  });
}
