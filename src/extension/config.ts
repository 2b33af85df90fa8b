// Typed getters over the `mcuMemory.*` settings (rust-analyzer's Config pattern): the rest of the extension never
// reads configuration by string.
import * as vscode from 'vscode';
import type { Conventions, CustomTargetSetting, Runtime, Settings } from '../core/index';
import { engine } from './engine';

export const SECTION = 'mcuMemory';

export class Config {
  private get cfg(): vscode.WorkspaceConfiguration {
    return vscode.workspace.getConfiguration(SECTION);
  }

  get target(): string {
    return this.cfg.get<string>('target') || engine().DEFAULT_SETTINGS.target;
  }

  get customTargets(): CustomTargetSetting[] {
    const v = this.cfg.get<unknown>('customTargets');
    return Array.isArray(v) ? v.filter((x): x is CustomTargetSetting => typeof x === 'object' && x !== null && typeof (x as CustomTargetSetting).name === 'string') : [];
  }

  get reserveBytes(): number | null {
    const v = this.cfg.get<number | null>('reserveBytes');
    return typeof v === 'number' && v >= 0 ? v : engine().DEFAULT_SETTINGS.reserveBytes;
  }

  get maxMacsOverhead(): number | null {
    const v = this.cfg.get<number | null>('maxMacsOverhead');
    return v === null ? null : typeof v === 'number' && v >= 0 ? v : engine().DEFAULT_SETTINGS.maxMacsOverhead;
  }

  get conventions(): Partial<Conventions> {
    const v = this.cfg.get<Record<string, unknown>>('conventions') ?? {};
    const out: Partial<Conventions> = {};
    for (const [k, b] of Object.entries(v)) if (typeof b === 'boolean') out[k as keyof Conventions] = b;
    return out;
  }

  get codegenOutputFolder(): string {
    return this.cfg.get<string>('codegen.outputFolder') || engine().DEFAULT_SETTINGS.codegenOutputFolder;
  }

  get runtime(): Runtime {
    const v = this.cfg.get<string>('runtime');
    return v === 'tflm' ? 'tflm' : engine().DEFAULT_SETTINGS.runtime;
  }

  settings(): Settings {
    return {
      target: this.target, customTargets: this.customTargets, reserveBytes: this.reserveBytes, maxMacsOverhead: this.maxMacsOverhead,
      conventions: this.conventions, codegenOutputFolder: this.codegenOutputFolder, runtime: this.runtime,
    };
  }

  async setTarget(name: string): Promise<void> {
    const scope = vscode.workspace.workspaceFolders?.length ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
    await this.cfg.update('target', name, scope);
  }

  static affects(e: vscode.ConfigurationChangeEvent): boolean {
    return e.affectsConfiguration(SECTION);
  }
}
