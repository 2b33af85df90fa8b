// Memory View webview entry (bundled by esbuild for the browser). Placeholder until the Memory View UI lands (issue 4):
// it completes the ready handshake and shows the model's peak or the error.
import type { FromWebview, ToWebview } from '../src/shared/protocol';

interface VsCodeApi {
  postMessage(message: FromWebview): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const api = acquireVsCodeApi();
window.addEventListener('message', (event: MessageEvent<ToWebview>) => {
  const root = document.getElementById('root');
  if (!root) return;
  const m = event.data;
  if (m.type === 'failed') root.textContent = `${m.fileName}: ${m.message}`;
  else if (m.type === 'busy') root.textContent = m.message;
  else root.textContent = `${m.data.fileName}: peak ${m.data.perLayerPeakBytes.toLocaleString()} B on ${m.data.target.name}`;
});
api.postMessage({ type: 'ready' });
