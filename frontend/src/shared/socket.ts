// The one connection every page keeps to /ws/desk/ (the desk, the risk console, the halts page),
// reconnected with capped, jittered exponential backoff. Frames are never queued while
// disconnected: a stale order or command must not go out minutes later, so send() reports
// failure and the caller decides what to tell the operator.

export type ConnState = 'connecting' | 'live' | 'reconnecting' | 'signed out';

export interface SocketHandlers<Frame> {
  onFrame(frame: Frame): void;
  /** Called on every successful (re)connect: resubscribe and resync here. */
  onOpen(): void;
  onState(state: ConnState): void;
  /** The server refused the session (close code 4401); retrying cannot help. */
  onAuthLost(): void;
}

export interface SocketOptions {
  /** Prefixes the console messages, so that a page's own frames are told apart. */
  page: string;
  /** Retry at once when the network or the tab comes back instead of waiting out a long
   * backoff; the desk does, as a trader waits on it. */
  retryOnResume?: boolean;
  /** Warn in the console about frames that are dropped as unreadable (the desk does). */
  warnDropped?: boolean;
}

/** Close code the desk consumer uses for a socket without a logged-in user. */
const UNAUTHENTICATED_CLOSE = 4401;

const MIN_DELAY_MS = 500;
const MAX_DELAY_MS = 10_000;

export function deskSocketUrl(): string {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${location.host}/ws/desk/`;
}

export class DeskConnection<ServerFrame, ClientFrame = Record<string, unknown>> {
  private ws: WebSocket | null = null;
  private attempt = 0;
  private timer: number | undefined;
  private everOpened = false;
  private stopped = false;

  constructor(
    private readonly handlers: SocketHandlers<ServerFrame>,
    private readonly options: SocketOptions,
    private readonly url: string = deskSocketUrl(),
  ) {
    if (options.retryOnResume) {
      window.addEventListener('online', () => this.retryNow());
      document.addEventListener('visibilitychange', () => {
        if (document.visibilityState === 'visible') this.retryNow();
      });
    }
  }

  get isOpen(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  connect(): void {
    window.clearTimeout(this.timer);
    this.timer = undefined;
    this.handlers.onState(this.everOpened ? 'reconnecting' : 'connecting');
    const ws = new WebSocket(this.url);
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
      const page = this.options.page;
      let frame: unknown;
      try {
        frame = JSON.parse(ev.data);
      } catch {
        if (this.options.warnDropped) console.warn(`${page}: non-JSON frame dropped`);
        return;
      }
      if (typeof frame !== 'object' || frame === null || typeof (frame as { type?: unknown }).type !== 'string') {
        if (this.options.warnDropped) console.warn(`${page}: frame without type dropped`, frame);
        return;
      }
      // One malformed frame must not stop the ones after it.
      try {
        this.handlers.onFrame(frame as ServerFrame);
      } catch (err) {
        console.error(`${page}: frame handler failed`, frame, err);
      }
    };
    ws.onclose = (ev: CloseEvent) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (ev.code === UNAUTHENTICATED_CLOSE) {
        this.stopped = true;
        this.handlers.onState('signed out');
        this.handlers.onAuthLost();
        return;
      }
      this.handlers.onState(this.everOpened ? 'reconnecting' : 'connecting');
      this.schedule();
    };
    // onerror is always followed by onclose, which does the work.
    ws.onerror = () => undefined;
  }

  send(frame: ClientFrame): boolean {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  private schedule(): void {
    const ceiling = Math.min(MAX_DELAY_MS, MIN_DELAY_MS * 2 ** this.attempt);
    this.attempt += 1;
    // Full jitter keeps a restarted server from being hit by every desk at once.
    const delay = MIN_DELAY_MS / 2 + Math.random() * ceiling;
    this.timer = window.setTimeout(() => this.connect(), delay);
  }

  private retryNow(): void {
    if (this.timer !== undefined && !this.stopped) this.connect();
  }
}
