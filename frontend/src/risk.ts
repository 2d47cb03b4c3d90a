// CWTS Desk risk console entry: asks the desk socket for the risk feed, draws its snapshot,
// then applies every risk frame the matchers publish. Limits, the firm policy, instrument
// limits, the restricted list and kill switches are changed over the risk API; the page shows
// the outcome when the matcher publishes it.

import './risk.css';
import { AccountsTable } from './risk/accounts';
import { riskApi } from './risk/api';
import { ConfirmDialog } from './risk/confirm';
import { byId, setAttr, setText } from './risk/dom';
import { AlertsFeed, RejectionsTable } from './risk/feed';
import { FirmPolicyPanel, InstrumentsPanel } from './risk/policy';
import { RestrictedPanel } from './risk/restricted';
import { FirmSwitch, TradersTable } from './risk/traders';
import type { KillSwitchChange, KillSwitchState, RiskServerFrame, RiskSnapshotFrame, TraderInfo } from './risk/types';
import { DeskConnection, type ConnState } from './shared/socket';

const SESSION_ENDED = 'Your session has ended. Reload the page to sign in again.';

class RiskConsole {
  private readonly usernames = new Map<number, string>();
  private readonly conn = byId('conn');
  private readonly status = byId('risk-status');
  private readonly banner = byId('risk-banner');
  private readonly confirm = new ConfirmDialog();
  /** The page says whether the user may change limits (as the halts page does for halts). */
  private readonly canChange = byId('risk').dataset['canChange'] === 'true';
  /** And whether they may engage and release kill switches (a separate permission). */
  private readonly canKill = byId('risk').dataset['canKill'] === 'true';
  private readonly socket: DeskConnection<RiskServerFrame>;
  private readonly accounts: AccountsTable;
  private readonly traders: TradersTable;
  private readonly firm: FirmSwitch;
  private readonly alerts: AlertsFeed;
  private readonly rejections: RejectionsTable;
  private readonly firmPolicy: FirmPolicyPanel;
  private readonly instruments: InstrumentsPanel;
  private readonly restricted: RestrictedPanel;
  private subscriptions = 0;
  private snapshots = 0;
  /** Every symbol an account holds or works, for the position limit editor. */
  private symbols: string[] = [];

  constructor() {
    const username = (id: number | null) => this.username(id);
    this.accounts = new AccountsTable({
      username,
      killSwitch: (account, engage) => this.confirmKill({ scope: 'account', account }, engage, `account ${account}`),
      loadLimits: (account) => riskApi.accountLimits(account),
      saveLimits: (account, changes) => riskApi.updateAccountLimits(account, changes),
      savePositionLimit: (change) => riskApi.setPositionLimit(change),
      symbols: () => this.symbols,
      status: (text) => setText(this.status, text),
      canChange: this.canChange,
      canKill: this.canKill,
    });
    this.traders = new TradersTable({
      username,
      killSwitch: (t: TraderInfo, engage) =>
        this.confirmKill({ scope: 'trader', trader: t.username }, engage, `trader ${t.username}`),
      canKill: this.canKill,
    });
    this.firm = new FirmSwitch({
      username,
      killSwitch: (engage) => this.confirmKill({ scope: 'firm' }, engage, 'the whole firm'),
      canKill: this.canKill,
    });
    const edits = { canChange: this.canChange, confirm: this.confirm, status: (text: string) => setText(this.status, text) };
    this.firmPolicy = new FirmPolicyPanel(edits);
    this.restricted = new RestrictedPanel(edits);
    this.instruments = new InstrumentsPanel(edits, (symbols) => this.restricted.setSymbols(symbols));
    this.alerts = new AlertsFeed(username);
    this.rejections = new RejectionsTable(username);
    this.socket = new DeskConnection<RiskServerFrame>(
      {
        onFrame: (f) => this.onFrame(f),
        onOpen: () => this.subscribe(),
        onState: (s) => this.onState(s),
        onAuthLost: () => this.showBanner(SESSION_ENDED),
      },
      { page: 'risk' },
    );
  }

  start(): void {
    this.socket.connect();
    this.reloadLimits();
  }

  /** The firm policy, instrument limits and restricted list, as saved now. */
  private reloadLimits(): void {
    void this.firmPolicy.reload();
    void this.instruments.reload();
    void this.restricted.reload();
  }

  private username(id: number | null): string {
    // User 0 is the system itself: the matcher's start-up sync, an automatic kill switch.
    if (id === null || id === 0) return 'the system';
    return this.usernames.get(id) ?? `user #${id}`;
  }

  private subscribe(): void {
    this.subscriptions += 1;
    this.socket.send({ type: 'risk.subscribe', request_id: `risk-${this.subscriptions}` });
  }

  private onState(state: ConnState): void {
    setText(this.conn, state);
    setAttr(this.conn, 'data-state', state);
    this.conn.className = state.replace(' ', '-');
  }

  private confirmKill(
    target: { scope: 'firm' } | { scope: 'account'; account: string } | { scope: 'trader'; trader: string },
    engage: boolean,
    what: string,
  ): void {
    this.confirm.open({
      title: engage ? `Engage the kill switch of ${what}?` : `Release the kill switch of ${what}?`,
      text: engage
        ? `Every working order of ${what} is cancelled at once, and new orders are refused until a risk manager releases the switch.`
        : `Orders from ${what} are accepted again once the switch is released.`,
      confirmLabel: engage ? 'Engage kill switch' : 'Release kill switch',
      offerRiskReducing: engage,
      run: async (reason, allowRiskReducing) => {
        await riskApi.killSwitch({
          ...target,
          action: engage ? 'engage' : 'release',
          reason,
          ...(engage ? { allow_risk_reducing: allowRiskReducing } : {}),
        });
        setText(this.status, `Kill switch of ${what} ${engage ? 'engaged' : 'released'}.`);
      },
    });
  }

  private onSnapshot(f: RiskSnapshotFrame): void {
    this.usernames.clear();
    for (const [id, name] of Object.entries(f.usernames)) this.usernames.set(Number(id), name);
    for (const t of f.traders) this.usernames.set(t.user_id, t.username);
    this.banner.hidden = true;
    this.accounts.replaceAll(f.accounts);
    this.symbols = [...new Set(f.accounts.flatMap((a) => a.positions.map((p) => p.symbol)))];
    this.restricted.setAccounts(f.accounts.map((a) => a.account));
    // After a reconnect, changes made while the feed was away: read them again.
    this.snapshots += 1;
    if (this.snapshots > 1) this.reloadLimits();
    this.traders.replaceAll(f.traders, f.kill_switches.traders);
    this.firm.set(f.kill_switches.firm);
    this.alerts.clear();
    for (const frame of f.alerts) this.alerts.add(frame);
    this.rejections.clear();
    for (const frame of f.rejections) this.rejections.add(frame.rejection);
    const n = f.accounts.length;
    setText(this.status, `${n} account${n === 1 ? '' : 's'}`);
  }

  private onFrame(f: RiskServerFrame): void {
    switch (f.type) {
      case 'risk.snapshot':
        this.onSnapshot(f);
        break;
      case 'risk.account':
        this.accounts.update(f.account);
        break;
      case 'risk.alert':
        this.alerts.add(f);
        break;
      case 'risk.limit':
        this.alerts.add(f);
        // A firm-wide or an instrument's limit changed (here or anywhere): show what is in force.
        if (!f.change.account && !f.change.symbol) void this.firmPolicy.reload();
        else if (!f.change.account) void this.instruments.reload();
        break;
      case 'risk.list':
        this.alerts.add(f);
        if (f.change.list === 'restricted') void this.restricted.reload();
        break;
      case 'risk.rejection':
        this.rejections.add(f.rejection);
        this.alerts.add(f);
        break;
      case 'risk.kill_switch':
        this.onKillSwitch(f.kill_switch);
        this.alerts.add(f);
        break;
      case 'error':
        this.showBanner(f.message);
        break;
      default:
        // Frames of the desk (orders, books) are not this page's business.
        break;
    }
  }

  /** The switch's new state, straight away: the account's republished numbers may follow. */
  private onKillSwitch(c: KillSwitchChange): void {
    const state: KillSwitchState | null = c.engaged
      ? {
          engaged_by: c.user_id ?? 0,
          since: c.ts,
          reason: c.reason,
          allow_risk_reducing: c.allow_risk_reducing,
          automatic: !c.user_id,
        }
      : null;
    if (c.scope === 'firm') this.firm.set(state);
    else if (c.scope === 'trader' && c.trader_user_id) this.traders.set(c.trader_user_id, state);
    else if (c.scope === 'account') this.accounts.setKillSwitch(c.account, state);
  }

  private showBanner(text: string): void {
    this.banner.textContent = text;
    this.banner.hidden = false;
  }
}

new RiskConsole().start();
