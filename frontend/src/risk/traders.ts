// Traders and their kill switches, and the firm's own switch above everything.

import { killSwitchText } from './accounts';
import { byId, h, setAttr, setText, timeEl } from './dom';
import type { KillSwitchState, TraderInfo } from './types';

export interface TradersDeps {
  username(userId: number | null): string;
  /** Opens the confirmation for engaging (true) or releasing (false) a trader's switch. */
  killSwitch(trader: TraderInfo, engage: boolean): void;
  /** Whether the user may engage and release kill switches; if not, no buttons. */
  canKill: boolean;
}

export class TradersTable {
  private readonly body: HTMLTableSectionElement;
  private traders: TraderInfo[] = [];
  private readonly switches = new Map<number, KillSwitchState>();

  constructor(private readonly deps: TradersDeps) {
    const body = document.querySelector<HTMLTableSectionElement>('#risk-traders tbody');
    if (!body) throw new Error('risk: missing #risk-traders tbody');
    this.body = body;
  }

  replaceAll(traders: readonly TraderInfo[], switches: Readonly<Record<string, KillSwitchState>>): void {
    this.traders = [...traders];
    this.switches.clear();
    for (const [id, ks] of Object.entries(switches)) this.switches.set(Number(id), ks);
    this.render();
  }

  set(userId: number, ks: KillSwitchState | null): void {
    if (ks) this.switches.set(userId, ks);
    else this.switches.delete(userId);
    this.render();
  }

  render(): void {
    this.body.replaceChildren(...this.traders.map((t) => this.row(t)));
  }

  private row(t: TraderInfo): HTMLTableRowElement {
    const ks = this.switches.get(t.user_id) ?? null;
    const tr = h('tr', 'trader');
    tr.dataset.userId = String(t.user_id);
    tr.dataset.username = t.username;
    tr.dataset.killSwitch = ks ? 'engaged' : 'off';
    const state = h('td', 'kill-switch');
    if (ks) state.append(h('span', 'engaged', killSwitchText(ks, this.deps.username)), ' ', timeEl(ks.since));
    else state.append(h('span', 'off', 'off'));
    const button = h('button', ks ? 'kill-toggle release' : 'kill-toggle kill', ks ? 'Release' : 'Kill');
    button.type = 'button';
    button.title = ks ? `Release ${t.username}'s kill switch` : `Engage ${t.username}'s kill switch`;
    button.addEventListener('click', () => this.deps.killSwitch(t, ks === null));
    button.hidden = !this.deps.canKill;
    const action = h('td', 'action');
    action.append(button);
    tr.append(h('td', 'trader', t.username), h('td', 'accounts', t.accounts.join(', ')), state, action);
    return tr;
  }
}

export class FirmSwitch {
  private readonly box = byId('firm-kill');
  private readonly state = byId('firm-kill-state');
  private readonly button = byId<HTMLButtonElement>('firm-kill-toggle');
  private current: KillSwitchState | null = null;

  constructor(
    private readonly deps: {
      username(userId: number | null): string;
      killSwitch(engage: boolean): void;
      canKill: boolean;
    },
  ) {
    this.button.addEventListener('click', () => this.deps.killSwitch(this.current === null));
    this.button.hidden = !deps.canKill;
  }

  set(ks: KillSwitchState | null): void {
    this.current = ks;
    this.button.disabled = false;
    setAttr(this.box, 'data-engaged', String(ks !== null));
    setText(this.state, ks ? killSwitchText(ks, this.deps.username) : 'off');
    setText(this.button, ks ? 'Release firm' : 'Kill firm');
    this.button.className = ks ? 'kill-toggle release' : 'kill-toggle kill';
  }

  refresh(): void {
    this.set(this.current);
  }
}
