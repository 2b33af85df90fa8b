// Status bar: "STM32F746 · 172/320 KiB" for the active model, coloured when it does not fit; click = Select Target.
import * as vscode from 'vscode';
import type { McuTarget, ModelReport } from '../core/index';
import { formatBytes } from '../core/units';
import { engine } from './engine';
import type { Config } from './config';
import type { ModelEntry, ModelStore } from './models';

const kib = (b: number): string => `${Math.round(b / 1024)}`;

export class StatusBar implements vscode.Disposable {
  readonly item = vscode.window.createStatusBarItem('mcuMemory.status', vscode.StatusBarAlignment.Right, 100);
  private readonly subscription: vscode.Disposable;
  private current: vscode.Uri | undefined;

  constructor(store: ModelStore) {
    this.item.name = 'MCU Memory target';
    this.item.command = 'mcuMemory.selectTarget';
    this.subscription = store.onDidChange((e) => { if (!this.current || e.uri.toString() === this.current.toString()) this.show(e); });
  }

  /** The model the status bar shows. */
  currentModel(): vscode.Uri | undefined {
    return this.current;
  }

  /** Shows the given model's fit (called when a Memory View becomes active). */
  show(entry: ModelEntry): void {
    this.current = entry.uri;
    if (entry.error) {
      this.item.text = '$(error) MCU Memory: model error';
      this.item.tooltip = entry.error.message;
      this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
    } else {
      const r = entry.report;
      const { target: t, fit } = engine().targetFit(r);
      const least = fit.complete ? '' : '≥';
      const verdict = fit.status === 'fits' ? '' : fit.status === 'incomplete' ? ' · INCOMPLETE' : ` · ${fit.failing.join('+')} over`;
      this.item.text = `$(${fit.status === 'incomplete' ? 'warning' : 'chip'}) ${t.name} · ${least}${kib(fit.sramNeeded)}/${kib(t.sramBytes)} KiB${verdict}`;
      this.item.tooltip = `${r.fileName}: ${engine().verdictText(fit)}. SRAM ${least}${fit.sramNeeded.toLocaleString()} of ${t.sramBytes.toLocaleString()} B${r.schedule ? ' (with the patch schedule)' : ''}; Flash ${least}${fit.flashNeeded.toLocaleString()} of ${t.flashBytes.toLocaleString()} B. Click to select the target MCU.`;
      this.item.backgroundColor = fit.status === 'fits' ? undefined : new vscode.ThemeColor(fit.status === 'incomplete' ? 'statusBarItem.warningBackground' : 'statusBarItem.errorBackground');
    }
    this.item.show();
  }

  dispose(): void {
    this.subscription.dispose();
    this.item.dispose();
  }
}

/** Quick pick of the catalogue and the user's custom targets, each with how the model in view fares on it (% of SRAM
 *  and Flash, the verdict, and whether a patch schedule would make it fit); writes mcuMemory.target. A name given as
 *  the argument (from a keybinding or another extension) is set without asking, if it is known. */
export async function pickTarget(config: Config, name?: unknown, report?: ModelReport): Promise<string | undefined> {
  const customs = config.customTargets;
  const customTargets = customs.map(engine().customTarget).filter((t): t is McuTarget => t !== null);
  if (typeof name === 'string') {
    const known = engine().findTarget(name, customTargets);
    if (!known) {
      void vscode.window.showErrorMessage(`Unknown target MCU '${name}'`);
      return undefined;
    }
    await config.setTarget(known.name);
    return known.name;
  }
  const current = engine().effectiveSettings(config.settings()).target?.name ?? '';
  const targets = [...engine().BUILTIN_TARGETS, ...customTargets];
  const overview = report ? new Map(engine().targetsOverview(report, targets).map((o) => [o.target.name, o])) : null;
  const pct = (used: number, total: number): string => `${Math.round((100 * used) / total)}%`;
  const items: (vscode.QuickPickItem & { name: string })[] = targets.map((t) => {
    const custom = customTargets.includes(t);
    const size = `${t.sramBytes / 1024} KiB SRAM · ${t.flashBytes / 1024} KiB Flash`;
    const o = overview?.get(t.name);
    if (!o) return { name: t.name, label: t.name, description: custom ? `custom: ${size}` : size, ...(t.notes ? { detail: t.notes } : {}) };
    const least = o.fit.complete ? '' : '≥';
    const verdict = o.fit.status === 'fits' ? 'fits' : o.fit.status === 'incomplete' ? 'incomplete' : `does not fit (${o.fit.failing.join(', ')})`;
    const rescue = o.scheduleArenaBytes === null ? '' : o.scheduleFits
      ? ` · fits with a patch schedule (arena ${formatBytes(o.scheduleArenaBytes)})`
      : ` · not even with a patch schedule`;
    return {
      name: t.name,
      label: `${o.fit.status === 'fits' ? '$(pass)' : o.fit.status === 'incomplete' ? '$(warning)' : '$(error)'} ${t.name}`,
      description: `SRAM ${least}${pct(o.fit.sramNeeded, t.sramBytes)} · Flash ${least}${pct(o.fit.flashNeeded, t.flashBytes)} · ${verdict}${rescue}`,
      detail: `${custom ? 'custom: ' : ''}${size}${t.notes ? ` — ${t.notes}` : ''}`,
    };
  }).map((i) => ({ ...i, picked: i.name === current }));
  const chosen = await vscode.window.showQuickPick(items, {
    title: report ? `Select Target MCU: how ${report.fileName} fits each` : 'Select Target MCU',
    placeHolder: `current: ${current}`, matchOnDescription: true, matchOnDetail: true,
  });
  if (!chosen) return undefined;
  await config.setTarget(chosen.name);
  return chosen.name;
}
