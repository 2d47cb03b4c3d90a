// The halts page's connection to /ws/desk/ (every desk connection is in the halts group):
// reconnected with capped, jittered backoff. On each (re)connect the page forgets the halts it
// showed; the server's snapshot, sent when any instrument is halted, brings back those in force.

import type { HaltServerFrame } from './types';

export type ConnState = 'connecting' | 'live' | 'reconnecting' | 'signed out';

export interface SocketHandlers {
  onFrame(frame: HaltServerFrame): void;
  onOpen(): void;
  onState(state: ConnState): void;
  onAuthLost(): void;
}

const UNAUTHENTICATED_CLOSE = 4401;
const MIN_DELAY_MS = 500;
const MAX_DELAY_MS = 10_000;

export class HaltsSocket {
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
        this.handlers.onFrame(frame as HaltServerFrame);
      } catch (err) {
        console.error('halts: frame handler failed', frame, err);
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
}
