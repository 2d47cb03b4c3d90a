// The halts page: the halts in force, live from the halts group every desk connection is in,
// and every halt of the past with its reason from the event log. Risk managers halt and resume
// here, always with a reason.

import './halts/halts.css';
import { errorText, haltsApi } from './halts/api';
import { CurrentHalts } from './halts/current';
import { haltReasonDialog } from './halts/dialog';
import { byId, h, setText } from './halts/dom';
import { PastHalts } from './halts/past';
import type { HaltServerFrame } from './halts/types';
import { DeskConnection, type ConnState } from './shared/socket';

const SESSION_ENDED = 'Your session has ended. Reload the page to sign in again.';
/** Halts and resumes come in bursts (a market-wide pause, a resume of all): one reload each. */
const RELOAD_DELAY_MS = 400;

class HaltsPage {
  private readonly canHalt = byId('halts').dataset['canHalt'] === 'true';
  private readonly dialog = this.canHalt ? haltReasonDialog() : null;
  private readonly current = new CurrentHalts({
    resume: this.canHalt ? (symbol) => this.askResume(symbol) : null,
  });
  private readonly past = new PastHalts();
  private readonly status = byId('halts-status');
  private readonly conn = byId('conn');
  // Listens only: halting and resuming go over the REST API.
  private readonly socket = new DeskConnection<HaltServerFrame>(
    {
      onFrame: (f) => this.onFrame(f),
      onOpen: () => this.onOpen(),
      onState: (s) => this.onState(s),
      onAuthLost: () => showFatal(SESSION_ENDED),
    },
    { page: 'halts' },
  );
  private reloadTimer: number | undefined;

  start(): void {
    if (this.canHalt) this.wireControls();
    this.socket.connect();
  }

  private wireControls(): void {
    const picker = byId<HTMLSelectElement>('halt-symbol');
    haltsApi
      .instruments()
      .then((instruments) => {
        for (const i of instruments) {
          const opt = h('option', undefined, i.symbol);
          opt.value = i.symbol;
          opt.title = i.name;
          picker.append(opt);
        }
      })
      .catch((err: unknown) => this.say(`Could not load the instruments: ${errorText(err)}`));
    byId('halt-open').addEventListener('click', () => {
      const symbol = picker.value || null;
      this.dialog?.open({
        title: symbol ? `Halt ${symbol}` : 'Halt every instrument',
        text: symbol
          ? `Trading in ${symbol} stops until it is resumed by hand; cancels are still taken.`
          : 'Trading in every instrument stops until resumed by hand; cancels are still taken.',
        confirmLabel: 'Halt',
        run: (reason) => this.send('halt', symbol, reason),
      });
    });
    byId('resume-all').addEventListener('click', () => {
      this.dialog?.open({
        title: 'Resume every halted instrument',
        text: 'Each reopens with a call auction at the price that pairs the most.',
        confirmLabel: 'Resume all',
        run: (reason) => this.send('resume', null, reason),
      });
    });
  }

  private askResume(symbol: string): void {
    this.dialog?.open({
      title: `Resume ${symbol}`,
      text: `${symbol} reopens with a call auction at the price that pairs the most.`,
      confirmLabel: 'Resume',
      run: (reason) => this.send('resume', symbol, reason),
    });
  }

  private async send(action: 'halt' | 'resume', symbol: string | null, reason: string): Promise<void> {
    const outcome = await haltsApi.request(action, symbol, reason);
    this.say(outcome.message);
    this.scheduleReload();
  }

  private onOpen(): void {
    // What was halted may have resumed while the socket was down; the snapshot says what is.
    this.current.clear();
    this.scheduleReload();
  }

  private onState(state: ConnState): void {
    setText(this.conn, state);
    this.conn.dataset['state'] = state;
    this.conn.className = state.replace(' ', '-');
  }

  private onFrame(f: HaltServerFrame): void {
    switch (f.type) {
      case 'halts.snapshot':
        this.current.clear();
        for (const halt of f.halts) this.current.put(halt);
        break;
      case 'halt':
        if (!this.current.has(f.halt.symbol)) this.scheduleReload();
        this.current.put(f.halt);
        break;
      case 'resume':
        this.current.remove(f.symbol);
        this.scheduleReload();
        break;
      case 'market_wide':
        this.current.marketWideTriggered(f);
        break;
      default:
        break; // limit states and volume spikes are the desk's to show
    }
  }

  private scheduleReload(): void {
    window.clearTimeout(this.reloadTimer);
    this.reloadTimer = window.setTimeout(() => void this.reload(), RELOAD_DELAY_MS);
  }

  private async reload(): Promise<void> {
    try {
      const list = await haltsApi.list();
      this.past.show(list.halts);
    } catch (err) {
      this.past.failed(`Could not load past halts: ${errorText(err)}`);
    }
  }

  private say(text: string): void {
    setText(this.status, text);
  }
}

function showFatal(text: string): void {
  const banner = document.getElementById('halts-banner');
  if (banner) {
    banner.textContent = text;
    banner.hidden = false;
  }
}

new HaltsPage().start();
