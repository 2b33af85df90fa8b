// Memory View webview entry (bundled by esbuild for the browser). The chart and tables come with the extension issue.
import type { FromWebview, ToWebview } from '../src/shared/protocol';

interface VsCodeApi {
  postMessage(message: FromWebview): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const api = acquireVsCodeApi();
window.addEventListener('message', (event: MessageEvent<ToWebview>) => {
  const root = document.getElementById('root');
  if (root && event.data.type === 'error') root.textContent = event.data.message;
});
api.postMessage({ type: 'ready' });
