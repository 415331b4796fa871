import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from '../api.ts';
import { texts, useT } from '../i18n.ts';

// One modal form for every action that needs words from the user: an alarm's ack
// comment, a shelve reason, a step's note or value, a billing edit's reason, a
// rejection. The hub's refusal (409, 403, 400) is shown in the dialog, which stays open.

const T = texts({
  cancel: ['取消', 'Cancel'],
  failed: ['未完成：{m}', 'Not done: {m}'],
});

export interface ActionDialogProps {
  title: string;
  submitLabel: string;
  /** The form's inputs; their `name`s become the keys of the values passed to onSubmit. */
  children: ComponentChildren;
  onSubmit: (values: Record<string, string>) => Promise<unknown>;
  onClose: () => void;
  /** data-testid of the dialog, for tests and for styling. */
  testId?: string;
  danger?: boolean;
}

export function ActionDialog({ title, submitLabel, children, onSubmit, onClose, testId, danger }: ActionDialogProps) {
  const t = useT(T);
  const ref = useRef<HTMLDialogElement>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  useEffect(() => {
    ref.current?.showModal();
  }, []);

  async function submit(event: Event) {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const values: Record<string, string> = {};
    for (const [k, v] of form.entries()) values[k] = String(v);
    setBusy(true);
    setError('');
    try {
      await onSubmit(values);
      onClose();
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      setError(t('failed', { m: err.message }));
    } finally {
      setBusy(false);
    }
  }

  return (
    <dialog ref={ref} data-testid={testId} onClose={onClose} onCancel={onClose}>
      <form method="dialog" onSubmit={submit} class="action-form">
        <h3>{title}</h3>
        {children}
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <div class="row">
          <button type="submit" class={danger ? 'danger' : 'primary'} disabled={busy} data-testid="dialog-submit">
            {submitLabel}
          </button>
          <button type="button" onClick={onClose}>
            {t('cancel')}
          </button>
        </div>
      </form>
    </dialog>
  );
}
