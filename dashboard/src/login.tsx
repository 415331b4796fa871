import { useState } from 'preact/hooks';
import { ApiError } from './api.ts';
import { lang, texts, useT } from './i18n.ts';
import { login } from './session.ts';
import { useStore } from './store.ts';

const T = texts({
  title: ['bohub 控制室', 'bohub control room'],
  username: ['用户名', 'Username'],
  password: ['密码', 'Password'],
  submit: ['登录', 'Log in'],
  wrong: ['用户名或密码错误', 'Wrong username or password'],
  limited: ['登录失败次数过多，请 {s} 秒后再试', 'Too many failed logins; try again in {s} s'],
  unreachable: ['无法连接服务器', 'Cannot reach the hub'],
  failed: ['登录失败：{m}', 'Login failed: {m}'],
});

export function LoginPage() {
  const t = useT(T);
  const l = useStore(lang);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    setBusy(true);
    setError('');
    try {
      await login(String(form.get('username') ?? '').trim(), String(form.get('password') ?? ''));
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      if (err.status === 401) setError(t('wrong'));
      else if (err.status === 429) setError(t('limited', { s: 60 }));
      else if (err.status === 0) setError(t('unreachable'));
      else setError(t('failed', { m: err.message }));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div class="login">
      <form class="card" onSubmit={submit}>
        <h1>{t('title')}</h1>
        <label>
          {t('username')}
          <input id="username" name="username" autocomplete="username" required />
        </label>
        <label>
          {t('password')}
          <input id="password" name="password" type="password" autocomplete="current-password" required />
        </label>
        {error && (
          <p id="login-error" class="error" role="alert">
            {error}
          </p>
        )}
        <button id="login-button" type="submit" disabled={busy}>
          {t('submit')}
        </button>
        <button type="button" class="link" onClick={() => lang.set(l === 'en' ? 'zh-CN' : 'en')}>
          {l === 'en' ? '中文' : 'English'}
        </button>
      </form>
    </div>
  );
}
