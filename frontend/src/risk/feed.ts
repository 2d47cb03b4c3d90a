// The alerts feed (threshold crossings, kill switches, limit changes, throttled traders) and
// the table of orders the risk stage refused. Newest on top; a frame seen twice (in the
// snapshot and again live, around a reconnect) is shown once.

import { h, setText, timeEl } from './dom';
import type { FeedFrame, KillSwitchChange, LimitChange, ListChange, RiskRejection } from './types';

const MAX_ROWS = 300;
/** Rejections that are also alerts: a trader hitting the message-rate throttle. */
const THROTTLE_CODES = new Set(['message_rate_exceeded']);

type Username = (userId: number | null) => string;

function scopeText(change: KillSwitchChange, username: Username): string {
  if (change.scope === 'firm') return 'the firm kill switch';
  if (change.scope === 'trader') return `${username(change.trader_user_id)}'s kill switch`;
  return `${change.account}'s kill switch`;
}

function killSwitchSentence(c: KillSwitchChange, username: Username): string {
  // Without a person, the daily loss limit latched it.
  const who = c.user_id ? username(c.user_id) : 'The daily loss limit';
  if (!c.engaged) return `${who} released ${scopeText(c, username)}: ${c.reason}`;
  const cancelled = c.cancelled_orders === 1 ? '1 order' : `${c.cancelled_orders} orders`;
  const reducing = c.allow_risk_reducing ? ', risk-reducing orders still allowed' : '';
  return `${who} engaged ${scopeText(c, username)} (${cancelled} cancelled${reducing}): ${c.reason}`;
}

/** The engine's integer as people read it: micros as money, nanoseconds as milliseconds. */
export function limitValueText(limit: string, value: number | null): string {
  if (value === null) return 'none';
  if (limit.endsWith('_micros')) return microsText(value);
  if (limit.endsWith('_ns')) return `${value / 1_000_000} ms`;
  if (limit.endsWith('_bps')) return `${value / 100} %`;
  return String(value);
}

/** 1234500000 → "1234.50": string arithmetic, so no float ever carries the amount. */
function microsText(micros: number): string {
  const negative = micros < 0;
  const digits = String(Math.abs(Math.trunc(micros))).padStart(7, '0');
  const units = digits.slice(0, -6);
  const cents = digits.slice(-6, -4);
  return `${negative ? '-' : ''}${units}.${cents}`;
}

function limitName(limit: string): string {
  return limit.replace(/_(micros|ns|bps|lots)$/, '').replace(/_/g, ' ');
}

function limitSentence(c: LimitChange, username: Username): string {
  const where = [c.account, c.symbol].filter(Boolean).join(' ') || 'firm';
  return (
    `${username(c.user_id)} set ${limitName(c.limit)} (${where}) ` +
    `from ${limitValueText(c.limit, c.old_value)} to ${limitValueText(c.limit, c.new_value)}: ${c.reason}`
  );
}

function listSentence(c: ListChange, username: Username): string {
  const verb = c.member ? 'added' : 'removed';
  const what = c.list === 'authorised' ? `trader ${username(c.trader_user_id)}` : c.symbol;
  const where = c.account || 'the firm';
  const list = c.list === 'authorised' ? 'authorised traders' : `${c.list} instruments`;
  return `${username(c.user_id)} ${verb} ${what} ${c.member ? 'to' : 'from'} the ${list} of ${where}: ${c.reason}`;
}

function keyOf(frame: object): string {
  return JSON.stringify(frame);
}

/** A bounded set of keys, forgetting the oldest. */
class Seen {
  private readonly keys = new Set<string>();
  add(key: string): boolean {
    if (this.keys.has(key)) return false;
    this.keys.add(key);
    if (this.keys.size > MAX_ROWS * 2) {
      const oldest = this.keys.values().next().value;
      if (oldest !== undefined) this.keys.delete(oldest);
    }
    return true;
  }
  clear(): void {
    this.keys.clear();
  }
}

export class AlertsFeed {
  private readonly list: HTMLOListElement;
  private readonly count: HTMLElement;
  private readonly seen = new Seen();

  constructor(private readonly username: Username) {
    const list = document.getElementById('risk-alerts');
    const count = document.getElementById('alerts-count');
    if (!(list instanceof HTMLOListElement) || !count) throw new Error('risk: missing #risk-alerts');
    this.list = list;
    this.count = count;
  }

  /**
   * Whether the feed shows this frame: alerts, kill switches, throttled traders, and limits and
   * lists that a person changed (the system's own syncs are in the audit log, and would bury
   * the rest).
   */
  static shows(frame: FeedFrame): boolean {
    if (frame.type === 'risk.rejection') return THROTTLE_CODES.has(frame.rejection.code);
    if (frame.type === 'risk.limit' || frame.type === 'risk.list') return Boolean(frame.change.user_id);
    return true;
  }

  add(frame: FeedFrame): void {
    if (!AlertsFeed.shows(frame) || !this.seen.add(keyOf(frame))) return;
    const item = h('li', 'alert');
    let ts: string;
    let text: string;
    switch (frame.type) {
      case 'risk.alert':
        item.dataset.kind = 'alert';
        item.dataset.alert = frame.alert.alert;
        ts = frame.alert.ts;
        text = `${frame.alert.account ? frame.alert.account + ': ' : ''}${frame.alert.message}`;
        break;
      case 'risk.kill_switch':
        item.dataset.kind = 'kill_switch';
        item.dataset.engaged = String(frame.kill_switch.engaged);
        ts = frame.kill_switch.ts;
        text = killSwitchSentence(frame.kill_switch, this.username);
        break;
      case 'risk.limit':
        item.dataset.kind = 'limit';
        ts = frame.change.ts;
        text = limitSentence(frame.change, this.username);
        break;
      case 'risk.list':
        item.dataset.kind = 'list';
        ts = frame.change.ts;
        text = listSentence(frame.change, this.username);
        break;
      case 'risk.rejection':
        item.dataset.kind = 'throttle';
        ts = frame.rejection.ts;
        text = `${this.username(frame.rejection.user_id)} throttled on ${frame.rejection.account}: ${frame.rejection.message}`;
        break;
    }
    item.append(timeEl(ts), ' ', h('span', 'text', text));
    this.list.prepend(item);
    while (this.list.children.length > MAX_ROWS) this.list.lastElementChild?.remove();
    setText(this.count, String(this.list.children.length));
  }

  clear(): void {
    this.seen.clear();
    this.list.replaceChildren();
    setText(this.count, '');
  }
}

export class RejectionsTable {
  private readonly body: HTMLTableSectionElement;
  private readonly count: HTMLElement;
  private readonly seen = new Seen();

  constructor(private readonly username: Username) {
    const body = document.querySelector<HTMLTableSectionElement>('#risk-rejections tbody');
    const count = document.getElementById('rejections-count');
    if (!body || !count) throw new Error('risk: missing #risk-rejections');
    this.body = body;
    this.count = count;
  }

  add(r: RiskRejection): void {
    if (!this.seen.add(keyOf(r))) return;
    const tr = h('tr', 'rejection');
    tr.dataset.code = r.code;
    tr.dataset.account = r.account;
    const time = h('td', 'time');
    time.append(timeEl(r.ts));
    const message = h('td', 'message', r.message);
    message.title = r.client_order_id ? `client order id ${r.client_order_id}` : '';
    tr.append(
      time,
      h('td', 'trader', this.username(r.user_id)),
      h('td', 'account', r.account),
      h('td', 'symbol', r.symbol),
      h('td', 'code', r.code),
      message,
    );
    this.body.prepend(tr);
    while (this.body.children.length > MAX_ROWS) this.body.lastElementChild?.remove();
    setText(this.count, String(this.body.children.length));
  }

  clear(): void {
    this.seen.clear();
    this.body.replaceChildren();
    setText(this.count, '');
  }
}
