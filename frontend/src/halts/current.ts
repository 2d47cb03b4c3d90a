// The halts in force, live: one row per halted instrument, updated as the indicative auction
// price moves, gone when the instrument trades again; the market-wide breaker above them.

import { imbalanceText, kindText, untilText } from './describe';
import { byId, cell, h, setText, timeEl } from './dom';
import type { Halt, MarketWideFrame } from './types';

export interface CurrentDeps {
  /** Null: the viewer may not resume. */
  resume: ((symbol: string) => void) | null;
}

export class CurrentHalts {
  private readonly halts = new Map<string, Halt>();
  private readonly body = byId<HTMLTableElement>('current-halts').tBodies[0]!;
  private readonly empty = byId('current-empty');
  private readonly count = byId('current-count');
  private readonly marketWide = byId('market-wide');

  constructor(private readonly deps: CurrentDeps) {}

  has(symbol: string): boolean {
    return this.halts.has(symbol);
  }

  clear(): void {
    this.halts.clear();
    this.draw();
  }

  put(halt: Halt): void {
    this.halts.set(halt.symbol, halt);
    this.draw();
  }

  remove(symbol: string): void {
    if (this.halts.delete(symbol)) this.draw();
  }

  marketWideTriggered(f: MarketWideFrame): void {
    const span =
      f.until === null ? 'trading is halted for the rest of the day' : `all trading pauses until ${new Date(f.until).toLocaleTimeString()}`;
    setText(this.marketWide, `Market-wide circuit breaker, level ${f.level}: the index is down ${f.decline_pct} %; ${span}.`);
    this.marketWide.hidden = false;
  }

  private draw(): void {
    const rows = [...this.halts.values()]
      .sort((a, b) => a.symbol.localeCompare(b.symbol))
      .map((halt) => this.row(halt));
    this.body.replaceChildren(...rows);
    this.empty.hidden = rows.length > 0;
    setText(this.count, rows.length ? `${rows.length} halted` : '');
    if (![...this.halts.values()].some((x) => x.kind === 'market_wide')) this.marketWide.hidden = true;
  }

  private row(halt: Halt): HTMLTableRowElement {
    const tr = h('tr', 'halt');
    tr.dataset['symbol'] = halt.symbol;
    tr.dataset['kind'] = halt.kind;
    const ind = halt.indicative;
    const action = h('td', 'action');
    if (this.deps.resume) {
      const button = h('button', 'resume', 'Resume…');
      button.type = 'button';
      const resume = this.deps.resume;
      button.addEventListener('click', () => resume(halt.symbol));
      action.append(button);
    }
    tr.append(
      cell('symbol', h('strong', undefined, halt.symbol)),
      cell('kind', kindText(halt.kind)),
      cell('message', halt.message),
      cell('time since', timeEl(halt.since)),
      cell('time until', timeEl(halt.until, untilText(halt))),
      cell('orders', halt.accepts_orders ? 'accepted (rest for the auction)' : 'refused'),
      cell('price indicative-price', ind?.price ?? '—'),
      cell('qty paired', ind ? String(ind.paired) : '—'),
      cell('qty imbalance', imbalanceText(halt)),
      action,
    );
    return tr;
  }
}
