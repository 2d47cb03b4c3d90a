// Halts on the desk: a banner per halted instrument saying why, since when, until when and what
// is still allowed, with the reopening auction's indicative price and imbalance as they move;
// one banner across the top for the market-wide breaker; limit states and volume spikes as
// warnings; the ladder greyed while the instrument on it is halted. Frames come from the
// "halts" group every desk connection is in; the desk forgets its halts on (re)connecting and
// the server's snapshot (sent when any instrument is halted) brings them back.

import { h, setAttr, setText } from './dom';
import type {
  Halt,
  HaltKind,
  HaltServerFrame,
  LimitStateFrame,
  MarketWideFrame,
  ResumeFrame,
  VolumeSpikeFrame,
} from './halts/types';

/** How long a passing notice (a reopening, a volume spike) stays up. */
const NOTICE_MS = 15_000;
const FRAME_TYPES: ReadonlySet<string> = new Set([
  'halts.snapshot',
  'halt',
  'resume',
  'limit_state',
  'market_wide',
  'volume_spike',
]);

const KIND_TITLES: Record<HaltKind, string> = {
  luld_pause: 'trading paused: price band (LULD)',
  manual: 'trading halted by a risk manager',
  market_wide: 'trading paused: market-wide circuit breaker',
  volume_spike: 'trading paused: volume spike',
};

const clockFmt = new Intl.DateTimeFormat(undefined, {
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hour12: false,
});

function clock(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : clockFmt.format(d);
}

function untilText(halt: Halt): string {
  if (halt.until) return `until ${clock(halt.until)}`;
  return halt.kind === 'market_wide' ? 'for the rest of the day' : 'until resumed by hand';
}

function allowedText(halt: Halt): string {
  return halt.accepts_orders
    ? 'Cancels are accepted; new orders are accepted and rest for the reopening auction.'
    : 'Cancels are accepted; new orders are refused until trading resumes.';
}

function indicativeText(halt: Halt): string {
  const ind = halt.indicative;
  if (!ind || ind.price === null) return 'No indicative auction price yet: nothing crosses.';
  const side = ind.imbalance > 0 && ind.imbalance_side ? ` ${ind.imbalance_side}` : '';
  return `paired ${ind.paired}, imbalance ${ind.imbalance}${side}`;
}

interface BannerParts {
  root: HTMLDivElement;
  title: HTMLElement;
  message: HTMLElement;
  times: HTMLElement;
  allowed: HTMLElement;
  label: HTMLElement;
  price: HTMLElement;
  indicative: HTMLElement;
}

export class HaltBanners {
  private readonly halts = new Map<string, Halt>();
  private readonly banners = new Map<string, BannerParts>();
  private readonly limitStates = new Map<string, HTMLDivElement>();
  private readonly root: HTMLDivElement;
  private readonly marketWide: HTMLDivElement;
  private marketWideTimer: number | undefined;
  private marketWideFrame: MarketWideFrame | null = null;
  private selected: string | null = null;

  constructor() {
    this.root = h('div', 'halt-banners');
    this.root.id = 'halt-banners';
    this.root.setAttribute('aria-live', 'polite');
    this.marketWide = h('div', 'halt-banner market-wide');
    this.marketWide.id = 'market-wide-banner';
    this.marketWide.setAttribute('role', 'alert');
    this.marketWide.hidden = true;
    this.root.append(this.marketWide);
    const desk = document.getElementById('desk');
    desk?.parentElement?.insertBefore(this.root, desk);
  }

  /** The instrument on the ladder changed. */
  select(symbol: string | null): void {
    this.selected = symbol;
    this.drawLadder();
  }

  /** A (re)connect: what was halted may have resumed meanwhile; the snapshot says what is. */
  reset(): void {
    for (const symbol of [...this.halts.keys()]) this.remove(symbol);
    for (const symbol of [...this.limitStates.keys()]) this.limitState({ symbol, entered: false });
  }

  /** Takes the frame if it is about halts; false hands it back to the desk. */
  onFrame(frame: { type: string }): boolean {
    if (!FRAME_TYPES.has(frame.type)) return false;
    const f = frame as HaltServerFrame;
    switch (f.type) {
      case 'halts.snapshot':
        this.reset();
        for (const halt of f.halts) this.put(halt);
        break;
      case 'halt':
        this.put(f.halt);
        break;
      case 'resume':
        this.resumed(f);
        break;
      case 'limit_state':
        this.limitState(f);
        break;
      case 'market_wide':
        this.marketWideFrame = f;
        this.drawMarketWide();
        break;
      case 'volume_spike':
        this.spike(f);
        break;
    }
    return true;
  }

  private put(halt: Halt): void {
    this.halts.set(halt.symbol, halt);
    this.limitState({ symbol: halt.symbol, entered: false });
    let b = this.banners.get(halt.symbol);
    if (!b) {
      b = {
        root: h('div', 'halt-banner'),
        title: h('strong', 'halt-title'),
        message: h('span', 'halt-message'),
        times: h('span', 'halt-times'),
        allowed: h('span', 'halt-allowed'),
        label: h('span', 'indicative-label', 'Indicative auction'),
        price: h('strong', 'indicative-price'),
        indicative: h('span', 'indicative-detail'),
      };
      b.root.setAttribute('role', 'alert');
      b.root.dataset['symbol'] = halt.symbol;
      const auction = h('span', 'halt-indicative');
      auction.append(b.label, ' ', b.price, ' ', b.indicative);
      const link = h('a', 'halt-link', 'All halts');
      link.href = '/halts/';
      b.root.append(b.title, b.message, b.times, b.allowed, auction, link);
      this.root.append(b.root);
      this.banners.set(halt.symbol, b);
    }
    setAttr(b.root, 'data-kind', halt.kind);
    setText(b.title, `${halt.symbol} ${KIND_TITLES[halt.kind] ?? `halted (${halt.kind})`}`);
    setText(b.message, halt.message);
    setText(b.times, `since ${clock(halt.since)}, ${untilText(halt)}`);
    setText(b.allowed, allowedText(halt));
    const price = halt.indicative?.price ?? null;
    b.label.hidden = price === null;
    b.price.hidden = price === null;
    setText(b.price, price ?? '');
    setText(b.indicative, indicativeText(halt));
    this.drawLadder();
    this.drawMarketWide();
  }

  private remove(symbol: string): void {
    this.halts.delete(symbol);
    this.banners.get(symbol)?.root.remove();
    this.banners.delete(symbol);
    this.drawLadder();
    this.drawMarketWide();
  }

  private resumed(f: ResumeFrame): void {
    if (!this.halts.has(f.symbol)) return;
    this.remove(f.symbol);
    const auction =
      f.auction_price !== null && f.auction_volume > 0
        ? `the reopening auction traded ${f.auction_volume} at ${f.auction_price}`
        : 'nothing crossed in the reopening auction';
    this.notice(f.symbol, `${f.symbol} trades again: ${auction}.`, 'resume');
  }

  private limitState(f: Pick<LimitStateFrame, 'symbol' | 'entered'> & Partial<LimitStateFrame>): void {
    const existing = this.limitStates.get(f.symbol);
    if (!f.entered) {
      existing?.remove();
      this.limitStates.delete(f.symbol);
      return;
    }
    const el = existing ?? h('div', 'limit-state-banner');
    el.dataset['symbol'] = f.symbol;
    const band = f.band_side === 'upper' ? `upper band ${f.upper ?? ''}` : `lower band ${f.lower ?? ''}`;
    const pause = f.pause_at ? `; trading pauses at ${clock(f.pause_at)} unless it clears` : '';
    setText(el, `${f.symbol} is in limit state at its ${band.trim()}${pause}.`);
    if (!existing) {
      this.root.append(el);
      this.limitStates.set(f.symbol, el);
    }
  }

  private spike(f: VolumeSpikeFrame): void {
    const action = f.pauses ? ' Trading pauses.' : '';
    this.notice(
      f.symbol,
      `Volume spike in ${f.symbol}: ${f.window_quantity} traded in the window against ` +
        `${f.average_quantity} on average.${action}`,
      'spike',
    );
  }

  private notice(symbol: string, text: string, kind: string): void {
    const el = h('div', `halt-notice ${kind}`, text);
    el.dataset['symbol'] = symbol;
    this.root.append(el);
    window.setTimeout(() => el.remove(), NOTICE_MS);
  }

  /** One banner across the top while the market-wide breaker holds. */
  private drawMarketWide(): void {
    window.clearTimeout(this.marketWideTimer);
    const f = this.marketWideFrame;
    const expired = f !== null && f.until !== null && Date.parse(f.until) <= Date.now();
    if (expired) this.marketWideFrame = null;
    const paused = [...this.halts.values()].filter((x) => x.kind === 'market_wide');
    const live = this.marketWideFrame;
    if (!live && paused.length === 0) {
      this.marketWide.hidden = true;
      return;
    }
    let text: string;
    if (live) {
      const span =
        live.until === null
          ? 'Trading is halted for the rest of the day.'
          : `All trading is paused until ${clock(live.until)}.`;
      text =
        `Market-wide circuit breaker, level ${live.level}: the index is down ` +
        `${live.decline_pct} % from the previous close. ${span}`;
      if (live.until !== null) {
        const ms = Date.parse(live.until) - Date.now();
        this.marketWideTimer = window.setTimeout(() => this.drawMarketWide(), Math.max(ms, 0) + 50);
      }
    } else {
      const until = paused[0]?.until;
      text =
        'Market-wide circuit breaker: all trading is paused' +
        (until ? ` until ${clock(until)}.` : ' for the rest of the day.');
    }
    setText(this.marketWide, text);
    this.marketWide.hidden = false;
  }

  /** Greys the ladder while the instrument on it does not trade. */
  private drawLadder(): void {
    const book = document.getElementById('book');
    if (!book) return;
    const halt = this.selected ? this.halts.get(this.selected) : undefined;
    book.classList.toggle('halted', halt !== undefined);
    setAttr(book, 'data-halted', halt ? `${halt.symbol} halted: ${untilText(halt)}` : '');
  }
}
