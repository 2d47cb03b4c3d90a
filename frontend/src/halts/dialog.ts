// The halts page's reason dialog: no halt or resume is sent without a reason, which the journal
// records with it.

import { ReasonDialog } from '../shared/reason-dialog';

export function haltReasonDialog(): ReasonDialog {
  return new ReasonDialog({
    dialog: 'halt-dialog',
    form: 'halt-dialog-form',
    title: 'halt-dialog-title',
    text: 'halt-dialog-text',
    reason: 'halt-reason',
    error: 'halt-dialog-error',
    ok: 'halt-dialog-ok',
    cancel: 'halt-dialog-cancel',
  });
}
