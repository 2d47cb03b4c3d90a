// The risk console's connection to /ws/desk/: reconnected with capped, jittered backoff; on
// every (re)connect the page asks for the risk feed again and gets a fresh snapshot.

import type { RiskServerFrame } from './types';

export type ConnState = 'connecting' | 'live' | 'reconnecting' | 'signed out';

export interface SocketHandlers {
  onFrame(frame: RiskServerFrame): void;
  onOpen(): void;
  onState(state: ConnState): void;
  onAuthLost(): void;
}

const UNAUTHENTICATED_CLOSE = 4401;
const MIN_DELAY_MS = 500;
const MAX_DELAY_MS = 10_000;

export class RiskSocket {
  private ws: WebSocket | null = null;
  private attempt = 0;
  private everOpened = false;
  private timer: number | undefined;

  constructor(private readonly handlers: SocketHandlers) {}

  connect(): void {
    window.clearTimeout(this.timer);
    this.timer = undefined;
    this.handlers.onState(this.everOpened ? 'reconnecting' : 'connecting');
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const ws = new WebSocket(`${scheme}://${location.host}/ws/desk/`);
    this.ws = ws;
    ws.onopen = () => {
      if (this.ws !== ws) return;
      this.attempt = 0;
      this.everOpened = true;
      this.handlers.onState('live');
      this.handlers.onOpen();
    };
    ws.onmessage = (ev: MessageEvent) => {
      if (this.ws !== ws || typeof ev.data !== 'string') return;
      let frame: unknown;
      try {
        frame = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (typeof frame !== 'object' || frame === null || typeof (frame as { type?: unknown }).type !== 'string') return;
      // One frame the page cannot show must not stop the ones after it.
      try {
        this.handlers.onFrame(frame as RiskServerFrame);
      } catch (err) {
        console.error('risk: frame handler failed', frame, err);
      }
    };
    ws.onclose = (ev: CloseEvent) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (ev.code === UNAUTHENTICATED_CLOSE) {
        this.handlers.onState('signed out');
        this.handlers.onAuthLost();
        return;
      }
      this.handlers.onState('reconnecting');
      const ceiling = Math.min(MAX_DELAY_MS, MIN_DELAY_MS * 2 ** this.attempt);
      this.attempt += 1;
      this.timer = window.setTimeout(() => this.connect(), MIN_DELAY_MS / 2 + Math.random() * ceiling);
    };
    ws.onerror = () => undefined;
  }

  send(frame: Record<string, unknown>): boolean {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }
}
