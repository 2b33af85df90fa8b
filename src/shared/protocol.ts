// Typed messages between the extension host and the Memory View webview (ready handshake: the webview asks,
// the host answers). Filled in by the extension issue; both sides import this file.
export interface ReadyMessage {
  type: 'ready';
}

export interface ErrorMessage {
  type: 'error';
  message: string;
}

export type FromWebview = ReadyMessage;
export type ToWebview = ErrorMessage;
