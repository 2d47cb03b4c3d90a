// Every halt of the past (and those in force), newest first, with its reason and what ended it,
// as the event log tells it.

import { endedText, kindText, reasonText } from './describe';
import { byId, cell, h, setText, timeEl } from './dom';
import type { PastHalt } from './types';

export class PastHalts {
  private readonly body = byId<HTMLTableElement>('past-halts').tBodies[0]!;
  private readonly status = byId('past-status');

  show(halts: PastHalt[]): void {
    this.body.replaceChildren(...halts.map((halt) => this.row(halt)));
    setText(this.status, halts.length ? '' : 'No halts yet.');
  }

  failed(text: string): void {
    setText(this.status, text);
  }

  private row(halt: PastHalt): HTMLTableRowElement {
    const tr = h('tr', 'past-halt');
    tr.dataset['symbol'] = halt.symbol;
    tr.dataset['kind'] = halt.kind;
    tr.classList.toggle('active', halt.active);
    const reopened =
      halt.auction_price !== null && halt.auction_volume ? `${halt.auction_price} × ${halt.auction_volume}` : '—';
    tr.append(
      cell('symbol', h('strong', undefined, halt.symbol)),
      cell('kind', kindText(halt.kind)),
      cell('reason', reasonText(halt)),
      cell('who', halt.halted_by ?? '—'),
      cell('time since', timeEl(halt.since)),
      cell('time ended-at', timeEl(halt.ended_at, halt.active ? 'in force' : '—')),
      cell('ended', endedText(halt)),
      cell('price reopened', reopened),
    );
    return tr;
  }
}
